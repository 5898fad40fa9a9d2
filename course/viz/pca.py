"""Topic 07 figures: PCA against autoencoders, and lecture 07's reconstruction explorer.

Everything here takes arrays (images as flat rows (N, D) with D a square, codes (N, k))
and plain mappings from a method's name to its arrays, so it does not import
``course.models``: a lecture computes PCA and trains the autoencoders with the
reference, then draws with these.

- :func:`plot_spectrum`: the eigenvalues and the rank-k reconstruction error they give
  (Eckart-Young: the sum of the discarded eigenvalues / D) beside the measured ones;
- :func:`plot_components`: principal directions (or decoder columns) as images;
- :func:`plot_reconstructions` and :func:`reconstruction_explorer` (a k slider): the
  originals, then each method's reconstructions with its mean squared error;
- :func:`plot_codes_2d`: two-dimensional codes coloured by digit class;
- :func:`plot_image_rows`: rows of images with a label each (interpolations in code
  space, random codes decoded, samples).

The widget returns ``None`` while nbgrader executes a notebook.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course import in_autograder
from course.numeric import to_numpy
from course.viz.images import show_images

__all__ = [
    "plot_codes_2d",
    "plot_components",
    "plot_image_rows",
    "plot_reconstructions",
    "plot_spectrum",
    "reconstruction_explorer",
]


def _rows(images: Any) -> np.ndarray:
    arr = np.asarray(to_numpy(images), dtype=np.float64)
    return arr.reshape(len(arr), -1)


def plot_spectrum(eigenvalues: Any, measured_mse: Mapping[int, float] | None = None,
                  ax: Axes | None = None) -> Axes:
    """The reconstruction MSE per pixel that Eckart-Young predicts at every k, the sum of
    the discarded eigenvalues / D, as a line on a log scale (up to the rank of the data);
    ``measured_mse`` {k: MSE} as points on it."""
    eigenvalues = np.asarray(to_numpy(eigenvalues), dtype=np.float64)
    d = len(eigenvalues)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    predicted = np.array([eigenvalues[k:].sum() / d for k in range(d + 1)])
    ks = np.flatnonzero(predicted > 1e-12 * max(predicted[0], 1e-300))
    ax.plot(ks, predicted[ks], label="sum of discarded eigenvalues / D")
    if measured_mse:
        ax.plot(list(measured_mse), list(measured_mse.values()), "o", label="measured MSE")
    ax.set_yscale("log")
    ax.set_xlabel("k (components kept)")
    ax.set_ylabel("MSE per pixel")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_components(components: Any, title: str = "", max_shown: int = 16) -> Figure:
    """The first ``max_shown`` columns of a (D, k) basis as images on a shared diverging
    scale (red positive, blue negative)."""
    basis = np.asarray(to_numpy(components), dtype=np.float64)
    d, k = basis.shape
    side = math.isqrt(d)
    shown = min(k, max_shown)
    vmax = max(float(np.abs(basis[:, :shown]).max()), 1e-12)
    fig, axes = plt.subplots(1, shown, figsize=(1.3 * shown + 0.4, 1.8), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(basis[:, i].reshape(side, side), cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                  interpolation="nearest")
        ax.set_title(str(i + 1), fontsize=9)
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig


def plot_reconstructions(originals: Any, reconstructions: Mapping[str, Any],
                         errors: Mapping[str, float] | None = None,
                         title: str = "") -> Figure:
    """One row of originals, then one row per method with its reconstructions of the same
    images; each row's label carries the method's MSE per pixel when ``errors`` has it."""
    rows = {"original": _rows(originals)}
    rows.update({name: _rows(images) for name, images in reconstructions.items()})
    labels = {name: name if not errors or name not in errors else
              f"{name}\nMSE {errors[name]:.4f}" for name in rows}
    return plot_image_rows({labels[name]: images for name, images in rows.items()}, title)


def plot_image_rows(rows: Mapping[str, Any], title: str = "") -> Figure:
    """One row of images per entry of ``rows`` ({label: images (n, D)}), the label on
    the left; values are clipped to [0, 1] for display."""
    fig, axes = plt.subplots(len(rows), 1, figsize=(11, 1.05 * len(rows) + 0.5),
                             squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], rows.items(), strict=True):
        images = np.clip(_rows(images), 0.0, 1.0)
        show_images(images, nrow=len(images), ax=ax)
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    return fig


def plot_codes_2d(codes: Mapping[str, Any], labels: Any, title: str = "") -> Figure:
    """One scatter panel per method of its 2-D codes (N, 2), coloured by class label."""
    labels = np.asarray(to_numpy(labels))
    fig, axes = plt.subplots(1, len(codes), figsize=(5.0 * len(codes), 4.6), squeeze=False)
    cmap = plt.get_cmap("tab10")
    for ax, (name, z) in zip(axes[0], codes.items(), strict=True):
        z = np.asarray(to_numpy(z), dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != 2:
            raise ValueError(f"{name}: expected codes of shape (N, 2), got {z.shape}")
        for c in np.unique(labels):
            chosen = labels == c
            ax.scatter(z[chosen, 0], z[chosen, 1], s=6, color=cmap(int(c) % 10), label=str(c))
        ax.set_title(name)
        ax.set_xlabel("z1")
        ax.set_ylabel("z2")
    axes[0, -1].legend(title="digit", markerscale=3, loc="center left",
                       bbox_to_anchor=(1.0, 0.5), frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def reconstruction_explorer(
    originals: Any,
    reconstructions: Mapping[int, Mapping[str, Any]],
    errors: Mapping[int, Mapping[str, float]] | None = None,
) -> widgets.Widget | None:
    """A k slider over the keys of ``reconstructions`` ({k: {method: images}}) that redraws
    :func:`plot_reconstructions` for that k, with ``errors`` ({k: {method: MSE}}) in the
    labels. None under nbgrader. The box has ``.slider`` to drive it from code."""
    if in_autograder():
        return None
    ks: Sequence[int] = sorted(reconstructions)
    slider = widgets.SelectionSlider(options=ks, value=ks[0], description="k",
                                     continuous_update=False,
                                     layout=widgets.Layout(width="420px"))
    output = widgets.Output()

    def draw(_: object = None) -> None:
        k = slider.value
        fig = plot_reconstructions(originals, reconstructions[k],
                                   None if errors is None else errors.get(k),
                                   title=f"k = {k}")
        with output:
            output.clear_output(wait=True)
            plt.show()
        plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    box = widgets.VBox([slider, output])
    box.slider = slider
    return box
