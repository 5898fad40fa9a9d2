"""scikit-learn's 8x8 digits, binarized: a tiny real data set for fast problems.

``sklearn.datasets.load_digits`` (1,797 images, values 0..16, bundled with scikit-learn;
the UCI "Optical Recognition of Handwritten Digits" test set).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from course.data.mnist import SPLITS, binarize, check_choice, stratified_split

__all__ = [
    "DIGITS8X8_TEST_FRACTION",
    "digits8x8",
    "digits8x8_intensities",
    "digits8x8_with_labels",
]

DIGITS8X8_TEST_FRACTION = 0.2



@lru_cache(maxsize=1)
def _digits8x8_raw() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    values = np.asarray(bunch.data, dtype=np.float64)
    labels = np.asarray(bunch.target, dtype=np.int64)
    split = stratified_split(labels, lambda count: int(round(DIGITS8X8_TEST_FRACTION * count)))
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
    check_choice("split", split, SPLITS)
    values, labels, rows = _digits8x8_raw()
    idx = rows[split]
    return binarize(values[idx], binarization, seed, scale=16.0), labels[idx]


def digits8x8_intensities(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits in grey levels: (float32 value/16 in [0, 1] of shape (N, 64),
    int64 labels).

    The same rows and split as :func:`digits8x8_with_labels` (1,438 train / 359 test),
    not binarized: for PCA and autoencoders, which model real-valued pixels.
    """
    check_choice("split", split, SPLITS)
    values, labels, rows = _digits8x8_raw()
    idx = rows[split]
    return (values[idx] / 16.0).astype(np.float32), labels[idx]


def digits8x8(
    split: str = "train", *, binarization: str = "threshold", seed: int = 0
) -> np.ndarray:
    """scikit-learn's 8x8 digits binarized, float32 0/1 of shape (N, 64).

    See :func:`digits8x8_with_labels` for the split and the binarization.
    """
    return digits8x8_with_labels(split, binarization=binarization, seed=seed)[0]
