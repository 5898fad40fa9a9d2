"""Topic 05 figures: gradient norms across time, and lecture 05's temperature explorer.

Generic (no reference model is imported): the curves and the sampler come from the caller.

- :func:`plot_gradient_norms` draws ||dh_T / dh_t|| against the distance T - t on a log
  scale, where vanishing (a straight line down) and exploding (up) gradients show as
  geometric trends (Bengio, Simard & Frasconi, 1994; Pascanu, Mikolov & Bengio, 2013);
- :func:`temperature_explorer` is a slider for the sampling temperature: every change
  redraws the text that ``sample(temperature)`` returns. It returns ``None`` while
  nbgrader executes a notebook.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from course import in_autograder
from course.numeric import to_numpy

__all__ = ["plot_gradient_norms", "temperature_explorer"]


def plot_gradient_norms(curves: Mapping[str, Any], ax: Axes | None = None,
                        title: str = "") -> Axes:
    """One line per model: ``curves[label][t - 1]`` = ||dh_T / dh_t|| for t = 1..T, drawn
    against T - t (steps back from the end), on a log scale."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, norms in curves.items():
        norms = np.asarray(to_numpy(norms), dtype=np.float64).ravel()
        ax.semilogy(np.arange(len(norms))[::-1], norms, label=label)
    ax.set_xlabel("T - t (steps back from the last state)")
    ax.set_ylabel(r"$\|\partial h_T / \partial h_t\|_F$")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def temperature_explorer(sample: Callable[[float], str], value: float = 1.0,
                         low: float = 0.1, high: float = 2.0, step: float = 0.05
                         ) -> widgets.VBox | None:
    """A slider for the temperature and the text ``sample(temperature)`` drawn at it.

    Low temperatures repeat the most likely characters, high ones approach uniform noise.
    Returns None under nbgrader (``course.in_autograder()``).
    """
    if in_autograder():
        return None
    slider = widgets.FloatSlider(value=value, min=low, max=high, step=step,
                                 description="temperature", continuous_update=False,
                                 layout={"width": "420px"})
    text = widgets.HTML()

    def redraw(*_: Any) -> None:
        drawn = html.escape(sample(slider.value))
        text.value = (f"<pre style='font-size: 14px; white-space: pre-wrap'>{drawn}</pre>")

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, text])
