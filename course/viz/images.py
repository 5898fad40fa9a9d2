"""Generic figures: images, conditionals, curves, masks, weight rows (matplotlib only).

Each function draws into an ``ax`` it is given (or a new figure) and returns the
matplotlib object, so notebooks compose them freely and tests can inspect them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course.numeric import to_numpy

__all__ = [
    "image_grid",
    "plot_conditionals",
    "plot_curves",
    "plot_mask",
    "plot_weight_rows",
    "show_images",
]


def _numpy(images: Any) -> np.ndarray:
    return np.asarray(to_numpy(images), dtype=np.float64)


def image_grid(
    images: Any, nrow: int | None = None, pad: int = 1, side: int | None = None
) -> np.ndarray:
    """Tile ``images`` of shape (N, H, W) or flat (N, D) with D a square into one array.

    Padding pixels are 0.5 (grey), so black and white digits stay distinguishable.
    """
    arr = _numpy(images)
    if arr.ndim == 2:
        side = side or math.isqrt(arr.shape[1])
        if side * side != arr.shape[1]:
            raise ValueError(f"cannot reshape rows of length {arr.shape[1]} into squares")
        arr = arr.reshape(len(arr), side, side)
    if arr.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W) or (N, D), got {arr.shape}")
    num, height, width = arr.shape
    nrow = nrow or math.ceil(math.sqrt(num))
    ncol = math.ceil(num / nrow)
    grid = np.full((ncol * (height + pad) + pad, nrow * (width + pad) + pad), 0.5)
    for index, image in enumerate(arr):
        r, c = divmod(index, nrow)
        top, left = pad + r * (height + pad), pad + c * (width + pad)
        grid[top : top + height, left : left + width] = image
    return grid


def show_images(
    images: Any, nrow: int | None = None, title: str = "", ax: Axes | None = None
) -> Axes:
    """Show images as a grid in grey scale (1 = white), without axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(image_grid(images, nrow), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_conditionals(image: Any, probs: Any, title: str = "", side: int | None = None) -> Figure:
    """Side by side: a binary image and the map of p(x_i = 1 | x_<i) for every pixel.

    The map shows what the model expects at each pixel given the pixels above and to
    the left: bright where it predicts ink.
    """
    image = _numpy(image).reshape(-1)
    probs = _numpy(probs).reshape(-1)
    side = side or math.isqrt(image.size)
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    axes[0].imshow(image.reshape(side, side), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("x")
    im = axes[1].imshow(probs.reshape(side, side), cmap="viridis", vmin=0, vmax=1)
    axes[1].set_title(r"$p(x_i = 1 \mid x_{<i})$")
    for ax in axes:
        ax.set_axis_off()
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    if title:
        fig.suptitle(title)
    return fig


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    ylabel: str = "NLL (nats)",
    xlabel: str = "epoch",
    ax: Axes | None = None,
) -> Axes:
    """Plot named curves (e.g. train and test NLL per epoch) on one axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for label, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_mask(mask: Any, title: str = "", ax: Axes | None = None) -> Axes:
    """Show a 0/1 connectivity mask (rows = outputs, columns = inputs)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 3.5))
    ax.imshow(_numpy(mask), cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xlabel("input j")
    ax.set_ylabel("output i")
    if title:
        ax.set_title(title)
    return ax


def plot_weight_rows(
    matrix: Any,
    pixels: Sequence[int],
    title: str = "",
    side: int | None = None,
    cmap: str = "RdBu_r",
) -> Figure:
    """Show row ``i`` of an (n, n) matrix as an image over the inputs, for each ``i`` in ``pixels``.

    Made for the weights of an autoregressive model in raster order: ``matrix[i, j]``
    says how input pixel ``j`` moves the logit of pixel ``i`` (what pixel ``i`` "looks
    at"). Only the entries ``j < i`` are drawn; the pixel itself and every later pixel,
    which its conditional cannot see, are grey. Pixel ``i`` is marked with a green
    square. A diverging colour scale centred on 0 and shared by all panels: red pushes
    towards ink, blue against. Works for any matrix over pixels, e.g. correlations.
    """
    mat = _numpy(matrix)
    n = mat.shape[-1]
    side = side or math.isqrt(n)
    if mat.ndim != 2 or mat.shape[0] != n or side * side != n:
        raise ValueError(f"expected an (n, n) matrix with n a square, got shape {mat.shape}")
    rows = []
    for i in pixels:
        row = np.full(n, np.nan)
        row[:i] = mat[i, :i]
        rows.append(row.reshape(side, side))
    vmax = max(float(np.nanmax(np.abs(np.stack(rows)), initial=0.0)), 1e-12)
    colormap = plt.get_cmap(cmap).with_extremes(bad="0.8")
    fig, axes = plt.subplots(1, len(rows), figsize=(2.3 * len(rows) + 0.8, 2.6), squeeze=False)
    image = None
    for ax, i, row in zip(axes[0], pixels, rows, strict=True):
        image = ax.imshow(row, cmap=colormap, vmin=-vmax, vmax=vmax, interpolation="nearest")
        r, c = divmod(int(i), side)
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="lime", lw=1.5))
        ax.set_title(f"pixel {i} (row {r}, col {c})", fontsize=9)
        ax.set_axis_off()
    if image is not None:
        fig.colorbar(image, ax=list(axes[0]), fraction=0.02, pad=0.02)
    if title:
        fig.suptitle(title)
    return fig
