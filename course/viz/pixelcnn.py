"""Topic 06 figures: causal masks, the receptive field layer by layer, the blind spot widget.

van den Oord et al. (2016), "Pixel Recurrent Neural Networks", Section 3.4 (masks), and
"Conditional Image Generation with PixelCNN Decoders", Section 2.2 and Figure 1 (the blind
spot, removed by the vertical and horizontal stacks). Fields and blind spots come from
:mod:`course.checks.pixelcnn` (backpropagation through a copy with weights 1, biases 0 and
no nonlinearity), so the figures show what the tests check.

- :func:`plot_conv_masks`: the type A and type B masks of a k x k kernel;
- :func:`receptive_field_figure`: one panel per layer, the field of the first l layers
  of a masked or gated stack, the blind pixels in red;
- :func:`blind_spot_explorer`: ipywidgets around it (depth, kernel size, plain or gated,
  the output pixel), sized for a projector; None under nbgrader.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from course import in_autograder
from course.checks.pixelcnn import (
    earlier_pixels,
    gated_stack,
    masked_stack,
    pixels,
    reach,
    receptive_field,
)
from course.models.pixelcnn import conv_mask, image_shape_of

__all__ = ["STACKS", "blind_spot_explorer", "field_categories", "plot_conv_masks",
           "plot_field", "receptive_field_figure", "stack_field"]

#: The stacks the figure and the widget know: label -> (gated, double_shift).
STACKS: dict[str, tuple[bool, bool]] = {
    "PixelCNN (masked)": (False, False),
    "Gated PixelCNN": (True, False),
    "Gated, vertical stack shifted twice (mistake)": (True, True),
}

#: Text sizes readable on a classroom projector.
TITLE_FONT, LABEL_FONT = 14, 12
CONTROL_LAYOUT = {"width": "440px"}
LABEL_STYLE = {"description_width": "120px"}

# categories of a pixel in a field figure, and their colours
OUT_OF_REACH, SEEN, BLIND, LATER, OUTPUT = range(5)
_COLOURS = ["#e8e8e8", "#3b75af", "#d62728", "white", "black"]
_NAMES = ["earlier, out of reach", "seen", "blind (within reach)", "later pixels",
          "the output pixel"]


def plot_conv_masks(kernel_size: int = 5, axes: Sequence[Axes] | None = None) -> Figure:
    """The type A and type B masks of a ``kernel_size`` x ``kernel_size`` kernel."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.8), layout="constrained")
    fig = axes[0].figure
    centre = kernel_size // 2
    for ax, mask_type in zip(axes, "AB", strict=True):
        mask = conv_mask(kernel_size, mask_type)
        ax.imshow(mask, cmap="Blues", vmin=0, vmax=1.3, interpolation="nearest")
        for (u, v), value in np.ndenumerate(mask):
            ax.text(v, u, f"{value:.0f}", ha="center", va="center", fontsize=LABEL_FONT,
                    color="white" if value else "black")
        ax.add_patch(plt.Rectangle((centre - 0.5, centre - 0.5), 1, 1, fill=False, lw=3,
                                   edgecolor="tab:orange"))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"type {mask_type}: centre {'in' if mask_type == 'B' else 'out'}",
                     fontsize=TITLE_FONT)
    return fig


def stack_field(stack: str, depth: int, kernel_size: int, pixel: Sequence[int],
                image_shape: int | Sequence[int]) -> np.ndarray:
    """The receptive field of one of :data:`STACKS` at ``pixel``."""
    gated, double_shift = STACKS[stack]
    layers = (gated_stack(depth, kernel_size, image_shape, double_shift=double_shift)
              if gated else masked_stack(depth, kernel_size))
    return receptive_field(layers, pixel, image_shape)


def field_categories(field: np.ndarray, depth: int, kernel_size: int, pixel: Sequence[int],
                     gated: bool = False) -> np.ndarray:
    """(H, W) ints: each pixel's category (out of reach, seen, blind, later, the output)."""
    field = np.asarray(field) != 0
    earlier = earlier_pixels(pixel, field.shape)
    within = reach(depth, kernel_size, pixel, field.shape, gated=gated)
    categories = np.full(field.shape, OUT_OF_REACH)
    categories[~earlier] = LATER
    categories[within & ~field] = BLIND
    categories[field] = SEEN  # a field that sees later pixels shows them as seen
    categories[tuple(pixel)] = OUTPUT
    return categories


def plot_field(categories: np.ndarray, title: str = "", ax: Axes | None = None) -> Axes:
    """Draw :func:`field_categories` as a grid of pixels."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    height, width = categories.shape
    ax.imshow(categories, cmap=ListedColormap(_COLOURS), vmin=-0.5, vmax=len(_COLOURS) - 0.5,
              interpolation="nearest")
    ax.set_xticks(np.arange(-0.5, width), minor=True)
    ax.set_yticks(np.arange(-0.5, height), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.6)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title:
        ax.set_title(title, fontsize=TITLE_FONT)
    return ax


def receptive_field_figure(depth: int = 5, kernel_size: int = 3,
                           stack: str = "PixelCNN (masked)", pixel: Sequence[int] = (6, 6),
                           image_shape: int | Sequence[int] = 12) -> tuple[Figure, str]:
    """The field of the first l layers for l = 1, ..., ``depth`` (one panel each), and a
    verdict naming the blind pixels of the whole stack.

    ``stack`` is a key of :data:`STACKS`. Blue: seen; red: earlier pixels within the
    stack's reach (:func:`course.checks.pixelcnn.reach`) that the output cannot see.
    """
    height, width = image_shape_of(image_shape)
    gated = STACKS[stack][0]
    pixel = (int(pixel[0]), int(pixel[1]))
    columns = min(depth, 4)
    rows = math.ceil(depth / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 3.4 * rows + 0.8),
                             layout="constrained", squeeze=False)
    blind: list[tuple[int, int]] = []
    future: list[tuple[int, int]] = []
    for layer in range(1, depth + 1):
        field = stack_field(stack, layer, kernel_size, pixel, (height, width))
        categories = field_categories(field, layer, kernel_size, pixel, gated)
        blind = pixels(categories == BLIND)
        future = [p for p in pixels(field) if not earlier_pixels(pixel, field.shape)[p]]
        plot_field(categories, f"{layer} layer{'s' if layer > 1 else ''}: {len(blind)} blind",
                   axes.flat[layer - 1])
    for ax in axes.flat[depth:]:
        ax.set_visible(False)
    fig.legend(handles=[Patch(color=c, label=n, ec="0.5") for c, n in zip(_COLOURS, _NAMES,
                                                                         strict=True)],
               loc="outside lower center", ncol=5, fontsize=LABEL_FONT, frameon=False)
    fig.suptitle(f"{stack}, {kernel_size}x{kernel_size} kernels, output pixel {pixel}, "
                 f"{height} x {width} image", fontsize=TITLE_FONT)
    seen = int(field.sum())
    verdict = (f"{stack}, {depth} layers of {kernel_size}x{kernel_size}, pixel {pixel}: sees "
               f"{seen} earlier pixels; ")
    verdict += f"{len(blind)} blind: {blind}" if blind else "no blind pixel"
    verdict += f"; sees later pixels {future}!" if future else "; no later pixel."
    return fig, verdict


def blind_spot_explorer(depth: int = 3, kernel_size: int = 3, stack: str = "PixelCNN (masked)",
                        pixel: Sequence[int] = (6, 6), image_size: int = 12
                        ) -> widgets.Widget | None:
    """Controls for depth, kernel size, the stack (plain, gated, the double-shift mistake)
    and the output pixel; shows :func:`receptive_field_figure` and its verdict.

    None under nbgrader. The box has ``.controls`` (the control widgets by name) and
    ``.verdict`` (the HTML widget), so it can be driven from code.
    """
    if in_autograder():
        return None
    controls: dict[str, widgets.Widget] = {
        "depth": widgets.IntSlider(value=depth, min=1, max=8, description="layers"),
        "kernel": widgets.Dropdown(options=[3, 5, 7], value=kernel_size,
                                   description="kernel size"),
        "stack": widgets.Dropdown(options=list(STACKS), value=stack, description="stack"),
        "row": widgets.IntSlider(value=pixel[0], min=0, max=image_size - 1,
                                 description="output row"),
        "col": widgets.IntSlider(value=pixel[1], min=0, max=image_size - 1,
                                 description="output column"),
    }
    for control in controls.values():
        control.style = LABEL_STYLE
        control.layout = widgets.Layout(**CONTROL_LAYOUT)
        if hasattr(control, "continuous_update"):
            control.continuous_update = False
    verdict = widgets.HTML()
    output = widgets.Output()

    def redraw(_: Any = None) -> None:
        fig, text = receptive_field_figure(
            controls["depth"].value, controls["kernel"].value, controls["stack"].value,
            (controls["row"].value, controls["col"].value), image_size)
        color = "red" if "blind:" in text or "later pixels" in text else "green"
        verdict.value = (f"<pre style='color:{color}; white-space:pre-wrap; font-size:16px'>"
                         f"{html.escape(text)}</pre>")
        with output:
            output.clear_output(wait=True)
            plt.show()
        plt.close(fig)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    names = list(controls)
    box = widgets.VBox([
        widgets.HBox([widgets.VBox([controls[k] for k in names[:3]]),
                      widgets.VBox([controls[k] for k in names[3:]])]),
        verdict,
        output,
    ])
    box.controls = controls
    box.verdict = verdict
    return box
