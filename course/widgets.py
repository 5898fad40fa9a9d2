"""ipywidgets demos for lectures.

Every widget builder returns the widget (so a notebook's last line displays it) and
returns ``None`` while nbgrader executes a notebook (``NBGRADER_EXECUTION`` is set):
nobody watches a widget during grading.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt

from course import counting, in_autograder
from course.viz import plot_param_counts

__all__ = ["factorization_counts", "param_count_explorer"]


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
    style = {"description_width": "120px"}
    for slider in sliders.values():
        slider.style = style
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

