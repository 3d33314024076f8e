"""A fast linear model over hashed, TF-IDF-weighted character and word n-grams.

Hashing (scikit-learn's murmurhash `HashingVectorizer`) needs no fitted vocabulary, so a
model is just three tensors: per-bucket idf weights, a linear layer and its bias. They are
stored with safetensors next to a `config.json` that says how to featurise; nothing is
pickled, so loading a model directory never runs code from it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from sklearn.feature_extraction.text import HashingVectorizer
from torch import nn

from classifiers.base import CONFIG_FILE, TASK_LABELS, ModelLoadError, TextClassifier, read_config
from classifiers.textnorm import normalise

FORMAT = "rufwacht-ngram"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "MODEL_CARD.md"
# Words, and single punctuation marks or emoji, which carry sentiment on their own.
WORD_TOKEN_PATTERN = r"(?u)\b\w+\b|[^\w\s]"


@dataclass(frozen=True)
class FeaturiserConfig:
    """How texts become hashed n-gram counts; stored in config.json, so plain values only."""

    char_min_n: int = 2
    char_max_n: int = 5
    char_bits: int = 19
    word_min_n: int = 1
    word_max_n: int = 2
    word_bits: int = 18
    use_words: bool = True
    sublinear_tf: bool = True

    @property
    def n_buckets(self) -> int:
        return 2**self.char_bits + (2**self.word_bits if self.use_words else 0)


class Featuriser:
    """Normalised text → sparse n-gram counts: char n-grams (word-boundary aware) | words."""

    def __init__(self, config: FeaturiserConfig) -> None:
        self.config = config
        common: dict[str, Any] = {"alternate_sign": False, "norm": None, "dtype": np.float32}
        self._chars = HashingVectorizer(
            analyzer="char_wb",
            ngram_range=(config.char_min_n, config.char_max_n),
            n_features=2**config.char_bits,
            **common,
        )
        self._words = (
            HashingVectorizer(
                analyzer="word",
                token_pattern=WORD_TOKEN_PATTERN,
                ngram_range=(config.word_min_n, config.word_max_n),
                n_features=2**config.word_bits,
                **common,
            )
            if config.use_words
            else None
        )

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Raw term counts, or 1 + log(count) with `sublinear_tf`, as one CSR matrix."""
        normalised = [normalise(t) for t in texts]
        blocks = [self._chars.transform(normalised)]
        if self._words is not None:
            blocks.append(self._words.transform(normalised))
        matrix = sp.hstack(blocks, format="csr", dtype=np.float32)
        if self.config.sublinear_tf:
            np.log(matrix.data, out=matrix.data)
            matrix.data += 1.0
        return matrix


class HashedLinear(nn.Module):
    """idf weighting, L2 normalisation and a linear layer over sparse bucket counts.

    Two-class tasks use one logit column (the second label's log-odds) to halve the size.
    """

    def __init__(self, n_buckets: int, n_outputs: int) -> None:
        super().__init__()
        self.register_buffer("idf", torch.ones(n_buckets))
        self.linear = nn.EmbeddingBag(n_buckets, n_outputs, mode="sum")
        self.bias = nn.Parameter(torch.zeros(n_outputs))

    def forward(
        self, indices: torch.Tensor, offsets: torch.Tensor, tf: torch.Tensor
    ) -> torch.Tensor:
        """Logits for the rows of a CSR matrix given as (indices, row offsets, tf values)."""
        weights = tf * self.idf[indices]
        n_rows = offsets.numel() - 1
        rows = torch.repeat_interleave(torch.arange(n_rows), offsets.diff())
        norms = torch.zeros(n_rows).index_add_(0, rows, weights * weights).sqrt_()
        weights = weights / norms.clamp_min(1e-12)[rows]
        return self.linear(indices, offsets[:-1], per_sample_weights=weights) + self.bias

    def probabilities(self, counts: sp.csr_matrix) -> np.ndarray:
        with torch.inference_mode():
            logits = self(
                torch.from_numpy(counts.indices.astype(np.int64)),
                torch.from_numpy(counts.indptr.astype(np.int64)),
                torch.from_numpy(counts.data),
            )
            if logits.shape[1] == 1:
                positive = torch.sigmoid(logits[:, 0])
                probs = torch.stack([1 - positive, positive], dim=1)
            else:
                probs = torch.softmax(logits, dim=1)
        return probs.numpy().astype(np.float64)


class NgramClassifier(TextClassifier):
    """A bundled n-gram model directory: config.json + model.safetensors (+ MODEL_CARD.md)."""

    def __init__(
        self, task: str, model_version: str, featuriser: Featuriser, model: HashedLinear
    ) -> None:
        self.task = task
        self.labels = TASK_LABELS[task]
        self.model_version = model_version
        self.featuriser = featuriser
        self.model = model.eval()

    @classmethod
    def load(cls, directory: Path, task: str) -> NgramClassifier:
        """Load a model directory; raises `ModelLoadError` naming the directory and the fault."""
        config = read_config(directory)
        if config.get("format") != FORMAT:
            raise ModelLoadError(f"{directory}: config.json is not a {FORMAT} model")
        if config.get("task") != task:
            raise ModelLoadError(
                f"{directory}: this is a model for {config.get('task')}, not for {task}"
            )
        if tuple(config.get("labels", ())) != TASK_LABELS[task]:
            raise ModelLoadError(
                f"{directory}: labels {config.get('labels')} are not {list(TASK_LABELS[task])}"
            )
        try:
            featuriser = Featuriser(FeaturiserConfig(**config["featuriser"]))
            tensors = load_file(directory / WEIGHTS_FILE)
            n_buckets, n_outputs = tensors["linear.weight"].shape
            model = HashedLinear(n_buckets, n_outputs)
            model.load_state_dict({k: v.float() for k, v in tensors.items()})
            version = str(config["model_version"])
        except (KeyError, TypeError, ValueError, RuntimeError, OSError, SafetensorError) as exc:
            raise ModelLoadError(f"{directory}: broken model files ({exc})") from exc
        if n_buckets != featuriser.config.n_buckets:
            raise ModelLoadError(
                f"{directory}: weights have {n_buckets} buckets, the featuriser makes "
                f"{featuriser.config.n_buckets}"
            )
        return cls(task, version, featuriser, model)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)))
        return self.model.probabilities(self.featuriser.counts(texts))

    def save(self, directory: Path, config: dict[str, Any]) -> None:
        """Write weights in fp16 (half the size, no measurable loss) and the config.

        `config` holds the documentation fields (figures, training sets); the fields that
        loading depends on are set here so they always match the weights.
        """
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().half().contiguous() for k, v in self.model.state_dict().items()}
        save_file(tensors, str(directory / WEIGHTS_FILE))
        full = {
            "format": FORMAT,
            "task": self.task,
            "labels": list(self.labels),
            "model_version": self.model_version,
            "featuriser": asdict(self.featuriser.config),
            **config,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n")
