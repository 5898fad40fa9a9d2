"""Topic 01 figures: what each factorization of a joint costs in parameters.

:func:`plot_param_counts` draws exact counts (Python ints of any size) as log-scale bars;
:func:`param_count_explorer` is lecture 01's widget: sliders for n, k, the Markov order, the
NADE width and the number of latent states, sized for a classroom projector.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from course import in_autograder
from course.checks.counts import format_count
from course.models import counting

__all__ = ["factorization_counts", "param_count_explorer", "plot_param_counts"]

#: Widget layout for a projector: long sliders (a 1-pixel step is about one unit of a
#: range up to 1000) and labels that are never cut.
SLIDER_LAYOUT = {"width": "640px"}
LABEL_STYLE = {"description_width": "150px"}


def plot_param_counts(counts: Mapping[str, int], ax: Axes | None = None, title: str = "") -> Axes:
    """Horizontal bars of parameter counts on a log scale, each labelled with its value.

    Counts are exact Python ints that may exceed any float (256**784 has 1,889 digits),
    so bars have length log10(count), computed exactly by ``math.log10`` on the int, and
    the axis is labelled in powers of ten.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 * len(counts) + 1))
    names = list(counts)
    exponents = [math.log10(max(int(counts[name]), 1)) for name in names]
    bars = ax.barh(names, exponents, color="tab:blue")
    ax.invert_yaxis()
    ax.set_xlabel("free parameters (log10 scale)")
    top = max(max(exponents), 1.0)
    for bar, name in zip(bars, names, strict=True):
        label = format_count(int(counts[name]))
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {label}", va="center")
    ax.set_xlim(0, top * 1.3)  # room for the labels right of the longest bar
    ticks = [t for t in MaxNLocator(nbins=6, integer=True).tick_values(0, top) if 0 <= t <= top]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"$10^{{{int(t)}}}$" for t in ticks])
    if title:
        ax.set_title(title)
    return ax


def factorization_counts(n: int, k: int, m: int, d: int, latent: int) -> dict[str, int]:
    """Parameter count of every factorization of lecture 01, by name."""
    counts = {
        "full joint table": counting.count_joint_table(n, k),
        "chain rule, full tables": counting.count_chain_rule(n, k),
        f"Markov chain, order {m}": counting.count_markov(n, k, m),
        "fully independent": counting.count_independent(n, k),
        f"mixture, {latent} latent states": counting.count_latent_variable(n, k, latent),
    }
    if k == 2:
        counts["FVSBN (logistic)"] = counting.count_fvsbn(n)
        counts[f"NADE tied, d={d}"] = counting.count_nade(n, d, tied=True)
        counts[f"NADE untied, d={d}"] = counting.count_nade(n, d, tied=False)
    return counts


def param_count_explorer(
    n: int = 784, k: int = 2, m: int = 1, d: int = 500, latent: int = 10
) -> widgets.Widget | None:
    """Sliders for n, k, m, d and |h|; a log-scale bar chart of every parameter count.

    FVSBN and NADE are defined for binary variables, so they appear when k = 2.
    """
    if in_autograder():
        return None
    sliders = {
        "n": widgets.IntSlider(value=n, min=1, max=784, description="n variables"),
        "k": widgets.IntSlider(value=k, min=2, max=256, description="k values"),
        "m": widgets.IntSlider(value=m, min=0, max=10, description="Markov order m"),
        "d": widgets.IntSlider(value=d, min=1, max=1000, description="NADE hidden d"),
        "latent": widgets.IntSlider(value=latent, min=1, max=100, description="latent |h|"),
    }
    for slider in sliders.values():
        slider.style = LABEL_STYLE
        slider.layout = widgets.Layout(**SLIDER_LAYOUT)
        slider.continuous_update = False
    output = widgets.Output()

    def redraw(_: object = None) -> None:
        values = {name: slider.value for name, slider in sliders.items()}
        with output:
            output.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(8, 4))
            plot_param_counts(
                factorization_counts(**values),
                ax=ax,
                title=f"n={values['n']} variables with k={values['k']} values",
            )
            plt.show()
            plt.close(fig)

    for slider in sliders.values():
        slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([widgets.VBox(list(sliders.values()))]), output])

