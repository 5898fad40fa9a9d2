"""Topic 04 figures: MADE's masks and connectivity graph, and lecture 04's mask explorer.

Germain, Gregor, Murray & Larochelle (2015), "MADE", ICML, Section 4. The masks and paths
come from :mod:`course.models.made` (one mask rule, one seeding); the violation drawn in
red is the one :func:`course.checks.check_autoregressive` reports.

- :func:`draw_made_graph` draws the network as a graph of units in columns, with the paths
  from one input to one output highlighted;
- :func:`made_figure` adds the masks and their product; :func:`mask_explorer` wraps both in
  ipywidgets for a lecture, sized for a projector.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from course import in_autograder
from course.checks.autoregressive import check_autoregressive, first_violation
from course.checks.core import CheckFailure
from course.models.made import connectivity, made_degrees, masks_from_degrees, path_edges
from course.numeric import to_numpy
from course.viz.images import plot_mask

__all__ = ["draw_made_graph", "made_figure", "mask_explorer", "parse_sizes"]

#: Text sizes readable on a classroom projector.
NODE_FONT, LABEL_FONT = 11, 10
CONTROL_LAYOUT = {"width": "420px"}
LABEL_STYLE = {"description_width": "130px"}


def _column_positions(size: int) -> np.ndarray:
    return 1.0 - (np.arange(size) + 0.5) / size


def draw_made_graph(
    masks: Sequence[Any],
    degrees: Sequence[np.ndarray] | None = None,
    *,
    source: int | None = None,
    target: int | None = None,
    order: Sequence[int] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw a MADE as a graph: units in columns (inputs, hidden layers, outputs), an
    edge wherever a mask allows a connection.

    ``degrees`` (input degrees, then one array per hidden layer) label and color the
    units; an output has the degree of its input. With ``source`` and ``target`` the
    edges on the paths from input ``source`` to output ``target`` are drawn thick in
    orange. When some output reaches itself or a later input (in ``order``; by default
    the ordering the input degrees give, else the natural one), the paths of the first
    such violation are drawn in red on top. The edge collections carry the labels
    ``"edges k"``, ``"path k"`` and ``"violation k"`` (k = mask index), so the drawing
    can be inspected.
    """
    arrays = [to_numpy(m) != 0 for m in masks]
    n = arrays[0].shape[1]
    sizes = [n, *[m.shape[0] for m in arrays]]
    columns = [_column_positions(size) for size in sizes]
    if ax is None:
        _, ax = plt.subplots(figsize=(2.6 * len(sizes), 0.6 * max(sizes) + 1.8))
    if order is None and degrees is not None:
        order = np.argsort(np.asarray(degrees[0]), kind="stable")

    def add_edges(k: int, selected: np.ndarray, color: str, width: float, label: str) -> None:
        lines = [[(k, columns[k][a]), (k + 1, columns[k + 1][b])] for b, a in np.argwhere(selected)]
        ax.add_collection(LineCollection(lines, colors=color, linewidths=width, label=label))

    for k, mask in enumerate(arrays):
        add_edges(k, mask, "0.78", 0.8, f"edges {k}")
    legend = []
    if source is not None and target is not None:
        for k, edges in enumerate(path_edges(arrays, source, target)):
            add_edges(k, edges, "tab:orange", 2.0, f"path {k}")
        legend.append(Line2D([], [], color="tab:orange", lw=2, label=f"x{source} -> p{target}"))
    violation = first_violation(connectivity(arrays), order)
    if violation is not None:
        (i, j), _ = violation
        for k, edges in enumerate(path_edges(arrays, j, i)):
            add_edges(k, edges, "tab:red", 2.2, f"violation {k}")
        legend.append(Line2D([], [], color="tab:red", lw=2, label=f"forbidden: x{j} -> p{i}"))
    cmap = plt.get_cmap("viridis")
    for k, ys in enumerate(columns):
        values = None
        if degrees is not None:
            values = np.asarray(degrees[k] if k < len(degrees) else degrees[0])
        colors = "white" if values is None else [cmap(v / max(n - 1, 1)) for v in values]
        ax.scatter(np.full(len(ys), k), ys, s=560, c=colors, edgecolors="black", zorder=3)
        for u, y in enumerate(ys):
            inner = f"x{u}" if k == 0 else f"p{u}" if k == len(sizes) - 1 else ""
            if not inner and values is not None:
                inner = str(values[u])
            dark = values is not None and values[u] < 0.6 * (n - 1)
            ax.text(
                k,
                y,
                inner,
                ha="center",
                va="center",
                fontsize=NODE_FONT,
                zorder=4,
                color="white" if dark else "black",
            )
            if values is not None and k in (0, len(sizes) - 1):
                side = -0.12 if k == 0 else 0.12
                ax.text(
                    k + side,
                    y,
                    f"d={values[u]}",
                    ha="right" if k == 0 else "left",
                    va="center",
                    fontsize=LABEL_FONT,
                )
    names = ["inputs", *[f"hidden {k + 1}" for k in range(len(sizes) - 2)], "outputs"]
    ax.set_xticks(range(len(sizes)), names)
    ax.set_yticks([])
    ax.set_xlim(-0.6, len(sizes) - 0.4)
    ax.set_ylim(-0.05, 1.05)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if legend:
        ax.legend(
            handles=legend,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.08),
            ncol=len(legend),
            frameon=False,
            fontsize=LABEL_FONT,
        )
    return ax


def made_figure(
    n: int = 5,
    hidden_sizes: Sequence[int] = (6, 6),
    ordering: str = "natural",
    seed: int = 0,
    *,
    wrong_output: bool = False,
    source: int | None = None,
    target: int | None = None,
) -> tuple[Figure, str]:
    """The masks and the connectivity graph of one MADE, and a verdict.

    ``wrong_output`` builds the output mask with ``>=`` (the classic mistake). The
    verdict is ``check_autoregressive``'s message for the linear map given by the
    product of the masks (output i depends on input j iff a path connects them), or a
    line saying that the property holds.
    """
    order, in_degrees, hidden = made_degrees(n, hidden_sizes, ordering, seed)
    masks = masks_from_degrees(in_degrees, hidden, output_cmp=">=" if wrong_output else ">")
    paths = connectivity(masks).astype(np.float64)
    try:
        check_autoregressive(lambda x: x @ paths.T, n, order=order.tolist())
        verdict = (
            f"Autoregressive in the ordering {order.tolist()}: no output sees itself or a "
            "later input."
        )
    except CheckFailure as failure:
        verdict = str(failure)
    panels = len(masks) + 1
    fig = plt.figure(figsize=(max(9.0, 2.4 * panels), 8.0), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 2.2])
    axes = top.subplots(1, panels)
    for k, mask in enumerate(masks):
        name = "output mask" if k == len(masks) - 1 else f"hidden mask {k + 1}"
        plot_mask(mask, title=f"{name} {mask.shape}", ax=axes[k])
        axes[k].set_xlabel("input j" if k == 0 else f"hidden unit (layer {k})")
        axes[k].set_ylabel("output i" if k == len(masks) - 1 else f"hidden unit (layer {k + 1})")
    plot_mask(paths > 0, title="product: a path j -> i", ax=axes[-1])
    graph_ax = bottom.subplots()
    draw_made_graph(
        masks, [in_degrees, *hidden], source=source, target=target, order=order, ax=graph_ax
    )
    comparison = ">=" if wrong_output else ">"
    title = f"order {order.tolist()}; output mask uses '{comparison}'"
    if source is not None and target is not None:
        count = int(connectivity(masks)[target, source])
        title += f"; {count} path(s) from input x{source} to output p{target}"
    graph_ax.set_title(title, fontsize=12)
    return fig, verdict


def parse_sizes(text: str) -> list[int]:
    """``"6, 6"`` -> ``[6, 6]``; raises ValueError unless 1 to 4 sizes between 1 and 16."""
    message = "give 1 to 4 hidden sizes between 1 and 16, e.g. '6, 6'"
    try:
        sizes = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError as err:
        raise ValueError(message) from err
    if not 1 <= len(sizes) <= 4 or not all(1 <= s <= 16 for s in sizes):
        raise ValueError(message)
    return sizes


def mask_explorer(
    n: int = 5, hidden_sizes: str = "6, 6", ordering: str = "natural", seed: int = 0
) -> widgets.Widget | None:
    """Controls for n, hidden sizes, ordering, seed, the output comparison, and a path
    (input j -> output i); shows the masks, the graph and the verdict. None under nbgrader.

    The returned box has ``.controls`` (a dict of the control widgets by name) and
    ``.verdict`` (the HTML widget with the verdict), so it can be driven from code.
    """
    if in_autograder():
        return None
    controls: dict[str, widgets.Widget] = {
        "n": widgets.IntSlider(value=n, min=2, max=10, description="n variables"),
        "sizes": widgets.Text(value=hidden_sizes, description="hidden sizes"),
        "ordering": widgets.Dropdown(
            options=["natural", "random"], value=ordering, description="ordering"
        ),
        "seed": widgets.IntSlider(value=seed, min=0, max=20, description="seed"),
        "wrong": widgets.Checkbox(value=False, description="'>=' in the output mask (wrong)",
                                  indent=False),
        "source": widgets.IntSlider(value=0, min=0, max=n - 1, description="from input j"),
        "target": widgets.IntSlider(value=n - 1, min=0, max=n - 1, description="to output i"),
    }
    for control in controls.values():
        if not isinstance(control, widgets.Checkbox):  # a checkbox's label sits beside it
            control.style = LABEL_STYLE
        control.layout = widgets.Layout(**CONTROL_LAYOUT)
        if hasattr(control, "continuous_update"):
            control.continuous_update = False
    verdict = widgets.HTML()
    output = widgets.Output()

    busy = [False]  # setting a slider's max may move its value: draw once, not twice

    def redraw(_: object = None) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            draw()
        finally:
            busy[0] = False

    def draw() -> None:
        size = controls["n"].value
        for name in ("source", "target"):
            controls[name].max = size - 1
        try:
            sizes = parse_sizes(controls["sizes"].value)
        except ValueError as err:
            verdict.value = f"<b>{html.escape(str(err))}</b>"
            return
        fig, text = made_figure(
            size,
            sizes,
            controls["ordering"].value,
            controls["seed"].value,
            wrong_output=controls["wrong"].value,
            source=controls["source"].value,
            target=controls["target"].value,
        )
        color = "green" if text.startswith("Autoregressive") else "red"
        verdict.value = (
            f"<pre style='color:{color}; white-space:pre-wrap; font-size:15px'>"
            f"{html.escape(text)}</pre>"
        )
        with output:
            output.clear_output(wait=True)
            plt.show()
        plt.close(fig)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    names = list(controls)
    box = widgets.VBox(
        [
            widgets.HBox(
                [
                    widgets.VBox([controls[k] for k in names[:4]]),
                    widgets.VBox([controls[k] for k in names[4:]]),
                ]
            ),
            verdict,
            output,
        ]
    )
    box.controls = controls
    box.verdict = verdict
    return box
