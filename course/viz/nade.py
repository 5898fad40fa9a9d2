"""Topic 03 figures: what weight tying shares.

:func:`plot_weight_sharing` draws the untied A_i next to the tied slices W[:, <i] of NADE
(Larochelle & Murray, 2011, eq. 2), coloured so that one colour is one number.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import hsv_to_rgb
from matplotlib.figure import Figure

__all__ = ["plot_weight_sharing"]


def _colours(count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random, clearly saturated RGB colours."""
    hsv = np.stack(
        [rng.random(count), 0.45 + 0.5 * rng.random(count), 0.6 + 0.4 * rng.random(count)], 1
    )
    return hsv_to_rgb(hsv)


def plot_weight_sharing(n: int = 5, d: int = 3, seed: int = 0) -> Figure:
    """Which input weights the n conditionals use, untied (left) and tied (middle, right).

    Row block i is the d x n matrix that computes h_i from x (light grey: inputs j >= i,
    which h_i may not read). One colour is one number: untied, every block holds its own
    numbers (n(n-1)d/2 of them); tied, block i is the slice W[:, <i] of one d x n matrix,
    so every colour repeats down the blocks, and W's last column is never read.
    """
    rng = np.random.default_rng(seed)
    untied_colours = _colours(n * d * n, rng).reshape(n, d, n, 3)
    tied_colours = _colours(d * n, rng).reshape(d, n, 3)
    height = n * d + (n - 1)  # one blank row between blocks
    untied = np.ones((height, n, 3))
    tied = np.ones((height, n, 3))
    for i in range(n):
        top = i * (d + 1)
        untied[top : top + d] = tied[top : top + d] = 0.93  # light grey: may not be read
        untied[top : top + d, :i] = untied_colours[i, :, :i]
        tied[top : top + d, :i] = tied_colours[:, :i]
    fig, axes = plt.subplots(
        1, 3, figsize=(9, 0.35 * height + 1.2), gridspec_kw={"width_ratios": [1, 1, 1]}
    )
    untied_count = n * (n - 1) * d // 2
    panels = [
        (axes[0], untied, f"untied: $A_i$ per conditional\n{untied_count} input weights"),
        (axes[1], tied, f"tied: $W[:, {{<}}i]$ slices\n{d * (n - 1)} input weights"),
    ]
    for ax, image, title in panels:
        ax.imshow(image, interpolation="nearest", aspect="equal")
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(n))
        ax.set_xticklabels([f"$x_{j}$" for j in range(n)])
        ax.set_yticks([i * (d + 1) + (d - 1) / 2 for i in range(n)])
        ax.set_yticklabels([f"$h_{i}$" for i in range(n)])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    shared = np.ones((d, n, 3))
    shared[:, : n - 1] = tied_colours[:, : n - 1]
    shared[:, n - 1] = 0.85  # grey: x_{n-1} is nobody's input
    axes[2].imshow(shared, interpolation="nearest", aspect="equal")
    axes[2].set_title(f"the stored W (d={d}, n={n})\nlast column never read", fontsize=10)
    axes[2].set_xticks(range(n))
    axes[2].set_xticklabels([f"$x_{j}$" for j in range(n)])
    axes[2].set_yticks(range(d))
    axes[2].set_yticklabels([f"unit {k}" for k in range(d)])
    axes[2].tick_params(length=0)
    fig.tight_layout()
    return fig
