"""MADE made visible: masks with either comparison, connectivity graphs, the mask explorer.

Germain, Gregor, Murray & Larochelle (2015), "MADE", ICML, Section 4. Degrees are 0-based
as in :mod:`course.models.made`: input ``j`` has degree = its position in the ordering
(0..n-1), hidden degrees lie in {min of the previous layer, ..., n-2}; a hidden unit sees a
unit of the previous layer when its degree is ``>=`` that unit's degree, output ``i`` sees
a hidden unit when the degree of input ``i`` is ``>`` the unit's degree.

- :func:`made_degrees` draws an ordering and degrees; :func:`masks_with` builds the masks
  with any comparison (the right ones, or the classic off-by-one mistakes);
- :func:`connectivity` counts the paths from every input to every output (the product
  of the masks) and :func:`path_edges` finds the edges on the paths from input ``j`` to
  output ``i``; :func:`first_violation` names an output that sees itself or a later input;
- :func:`draw_made_graph` draws the network as a graph of units in columns, with those
  paths highlighted, and :func:`made_figure` adds the masks; :func:`mask_explorer` wraps
  both in ipywidgets for a lecture;
- :func:`explain_mask_difference` compares masks with the right ones and names the
  mistake (used by the assignment's tests); :func:`to_reference` copies a MADE written
  by a student into :class:`course.models.MADE` to evaluate it with the reference.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from course import in_autograder
from course.checks import CheckFailure, check_autoregressive
from course.models.fvsbn import bernoulli_log_prob
from course.models.made import MADE, hidden_degrees
from course.viz import plot_mask

__all__ = [
    "averaged_logits_log_prob",
    "best_time",
    "connectivity",
    "draw_made_graph",
    "explain_ensemble_difference",
    "explain_mask_difference",
    "first_violation",
    "made_degrees",
    "made_figure",
    "mask_explorer",
    "masks_with",
    "parse_sizes",
    "path_edges",
    "to_reference",
]

_COMPARISONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
}


# --- degrees, masks and paths --------------------------------------------------------


def made_degrees(
    n: int, hidden_sizes: Sequence[int], ordering: str = "natural", seed: int = 0
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """An ordering and the degrees of a MADE: ``(order, input_degrees, hidden_degrees)``.

    ``order`` lists the variables in generation order (``order[0]`` first);
    ``ordering`` is ``"natural"`` or ``"random"`` (a permutation drawn with ``seed``).
    """
    if ordering not in ("natural", "random"):
        raise ValueError(f"ordering must be 'natural' or 'random', got {ordering!r}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n) if ordering == "random" else np.arange(n)
    in_degrees = np.empty(n, dtype=np.int64)
    in_degrees[order] = np.arange(n)
    return order, in_degrees, hidden_degrees(n, hidden_sizes, in_degrees, rng)


def masks_with(
    in_degrees: np.ndarray,
    hidden: Sequence[np.ndarray],
    *,
    hidden_cmp: str = ">=",
    output_cmp: str = ">",
) -> list[np.ndarray]:
    """MADE masks (out, in) as float 0/1 arrays, with the given comparisons.

    The defaults are MADE's (``>=`` into hidden units, ``>`` into outputs). Other
    choices build the classic mistakes: ``output_cmp=">="`` lets output i see input i
    through the hidden units; ``hidden_cmp=">"`` drops connections.
    """
    for cmp in (hidden_cmp, output_cmp):
        if cmp not in _COMPARISONS:
            raise ValueError(f"comparison must be one of {list(_COMPARISONS)}, got {cmp!r}")
    masks = []
    previous = np.asarray(in_degrees)
    for layer in hidden:
        layer = np.asarray(layer)
        masks.append(_COMPARISONS[hidden_cmp](layer[:, None], previous[None, :]))
        previous = layer
    masks.append(_COMPARISONS[output_cmp](np.asarray(in_degrees)[:, None], previous[None, :]))
    return [mask.astype(np.float32) for mask in masks]


def connectivity(masks: Sequence[Any]) -> np.ndarray:
    """Number of paths from input j to output i, ``masks[-1] @ ... @ masks[0]``, (n_out, n_in).

    With generic weights output i depends on input j exactly when this is nonzero.
    """
    arrays = [np.asarray(_numpy(m)) != 0 for m in masks]
    paths = arrays[0].astype(np.int64)
    for mask in arrays[1:]:
        paths = mask.astype(np.int64) @ paths
    return paths


def path_edges(masks: Sequence[Any], source: int, target: int) -> list[np.ndarray]:
    """Edges lying on some path from input ``source`` to output ``target``.

    Returns one boolean array per mask, shaped like it: entry [b, a] of layer k is True
    when the edge from unit a of layer k to unit b of layer k + 1 is on such a path.
    All are False when no path exists, i.e. when ``connectivity(masks)[target, source]``
    is 0.
    """
    arrays = [np.asarray(_numpy(m)) != 0 for m in masks]
    forward = [np.zeros(arrays[0].shape[1], dtype=bool)]
    forward[0][source] = True
    for mask in arrays:
        forward.append((mask & forward[-1][None, :]).any(axis=1))
    backward = [np.zeros(arrays[-1].shape[0], dtype=bool)]
    backward[0][target] = True
    for mask in reversed(arrays):
        backward.insert(0, (mask & backward[0][:, None]).any(axis=0))
    return [mask & backward[k + 1][:, None] & forward[k][None, :] for k, mask in enumerate(arrays)]


def first_violation(
    masks: Sequence[Any], order: Sequence[int] | None = None
) -> tuple[int, int] | None:
    """``(i, j)``: output i reaches input j although j is not earlier in ``order``; else None.

    The violation whose output comes first in the ordering (then whose input comes
    first) is returned, as :func:`course.checks.check_autoregressive` reports it.
    """
    paths = connectivity(masks)
    n = paths.shape[1]
    order = np.arange(n) if order is None else np.asarray(order)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    bad = np.argwhere((paths > 0) & (position[None, :] >= position[:, None]))
    if not len(bad):
        return None
    i, j = min(bad.tolist(), key=lambda ij: (position[ij[0]], position[ij[1]]))
    return int(i), int(j)


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


# --- naming the mistake in a student's masks ------------------------------------------

_HIDDEN_GT = (
    "The hidden masks use '>' instead of '>='. This does not break the autoregressive "
    "property, but a hidden unit of degree d then ignores the inputs (and units) of "
    "degree d, which it is allowed to see: {lost} of {total} allowed connections are "
    "lost{paths}. Use >= in the hidden masks."
)
_OUTPUT_GE = (
    "The output mask uses '>=' instead of '>': output i can see input i itself through "
    "the hidden units (a hidden unit of degree d feeds the output of degree d), so "
    "p(x_i | ...) looks at x_i{example}. Use > in the output mask."
)


def _lost_paths_text(expected: list[np.ndarray], got: list[np.ndarray]) -> str:
    lost = np.argwhere((connectivity(expected) > 0) & (connectivity(got) == 0))
    if not len(lost):
        return ""
    i, j = lost[0]
    return (
        f", and {len(lost)} input-output dependencies disappear (e.g. output {i} can no "
        f"longer depend on input {j})"
    )


def explain_mask_difference(
    got: Any, in_degrees: np.ndarray, hidden: Sequence[np.ndarray]
) -> str | None:
    """None when ``got`` are MADE's masks for these degrees, else a message naming the bug.

    Recognizes: a wrong number of masks; masks transposed to (in, out); entries other
    than 0/1; ``>=`` in the output mask; ``>`` in the hidden masks; comparisons turned
    around. Anything else gets the first wrong entry with the two units' degrees.
    """
    in_degrees = np.asarray(in_degrees)
    hidden = [np.asarray(h) for h in hidden]
    expected = masks_with(in_degrees, hidden)
    if isinstance(got, np.ndarray | torch.Tensor) or not isinstance(got, Sequence):
        return f"made_masks must return a list of masks (one per layer), got {type(got).__name__}."
    if len(got) != len(expected):
        return (
            f"made_masks returned {len(got)} masks for {len(hidden)} hidden layers; expected "
            f"{len(expected)}: one per hidden layer and one for the output layer."
        )
    arrays = []
    for k, (mask, want) in enumerate(zip(got, expected, strict=True)):
        arr = _numpy(mask)
        if arr.shape != want.shape:
            if arr.shape == want.shape[::-1]:
                return (
                    f"Mask {k} has shape {arr.shape}, the transpose of the expected "
                    f"{want.shape}. Masks are (out_features, in_features), like the weight "
                    "of nn.Linear: one row per unit of the layer, one column per unit of "
                    "the layer below."
                )
            return (
                f"Mask {k} has shape {arr.shape}, expected (out_features, in_features) "
                f"= {want.shape}."
            )
        if arr.dtype == object or not np.isin(arr, (0, 1)).all():
            return f"Mask {k} must contain only 0 and 1 (or False and True)."
        arrays.append(arr.astype(np.float32))
    if all(np.array_equal(a, e) for a, e in zip(arrays, expected, strict=True)):
        return None
    variants = {
        (">=", ">="): "output",
        (">", ">"): "hidden",
        (">", ">="): "both",
        ("<=", "<"): "reversed",
        ("<", "<="): "reversed",
    }
    for (hidden_cmp, output_cmp), kind in variants.items():
        variant = masks_with(in_degrees, hidden, hidden_cmp=hidden_cmp, output_cmp=output_cmp)
        if not all(np.array_equal(a, v) for a, v in zip(arrays, variant, strict=True)):
            continue
        violation = first_violation(arrays, np.argsort(in_degrees))
        example = f" (here output {violation[0]} sees input {violation[1]})" if violation else ""
        lost = int(sum(((e == 1) & (a == 0)).sum() for a, e in zip(arrays, expected, strict=True)))
        total = int(sum(e.sum() for e in expected))
        hidden_msg = _HIDDEN_GT.format(
            lost=lost, total=total, paths=_lost_paths_text(expected, arrays)
        )
        if kind == "output":
            return _OUTPUT_GE.format(example=example)
        if kind == "hidden":
            return hidden_msg
        if kind == "both":
            return (
                "The comparisons are swapped: '>' in the hidden masks and '>=' in the output "
                "mask. That happens to respect the autoregressive property (a unit of degree "
                "d sees only inputs of degree < d), but hidden units of degree 0 see no input "
                f"at all and {lost} of {total} allowed connections are lost"
                f"{_lost_paths_text(expected, arrays)}. Use >= in the hidden masks and > in "
                "the output mask."
            )
        return (
            "The comparisons are turned around: a unit must connect to units of the layer "
            "below whose degree is SMALLER (hidden: degree(unit) >= degree(input); output i: "
            "degree(i) > degree(unit)). Mask[k, j] compares row unit k with column unit j."
        )
    for k, (arr, want) in enumerate(zip(arrays, expected, strict=True)):
        if np.array_equal(arr, want):
            continue
        r, c = (int(v) for v in np.argwhere(arr != want)[0])
        below = in_degrees if k == 0 else hidden[k - 1]
        above = hidden[k] if k < len(hidden) else in_degrees
        kind = "output" if k == len(hidden) else "hidden unit"
        rule = "> (strictly)" if k == len(hidden) else ">="
        return (
            f"Mask {k} differs from MADE's at [{r}, {c}]: {kind} {r} (degree {above[r]}) and "
            f"unit {c} of the layer below (degree {below[c]}) should be "
            f"{'connected' if want[r, c] else 'disconnected'} (rule: degree of the {kind} "
            f"{rule} degree of the unit below). "
            f"Entries of this mask that differ: {int((arr != want).sum())}."
        )
    return None  # pragma: no cover - unreachable: some mask differs


def explain_ensemble_difference(
    got: Any,
    log_probs_per_mask: Any,
    *,
    all_states: bool = False,
    rtol: float | None = None,
    atol: float = 1e-6,
) -> str | None:
    """None when ``got`` is the mixture log((1/S) sum_s p_s(x)), else a message naming the bug.

    ``log_probs_per_mask`` has shape (S, B): the log-probability of B inputs under each
    of S mask sets. With ``all_states`` (the B columns enumerate every state of a small
    model) the message says how much probability ``got`` puts on all states together: a
    mixture of distributions is normalized, the geometric mean of log-probabilities is
    not. Recognizes: the average of the log-probabilities, the log of the sum (no 1/S),
    the maximum over masks, and -inf from exponentiating in place of ``logsumexp``.
    ``rtol`` defaults to 1e-5 for float32 input (its round-off), else 1e-9.
    """
    raw = _numpy(log_probs_per_mask)
    if rtol is None:
        rtol = 1e-5 if raw.dtype == np.float32 else 1e-9
    per_mask = torch.as_tensor(raw, dtype=torch.float64)
    count, batch = per_mask.shape
    expected = (torch.logsumexp(per_mask, dim=0) - np.log(count)).numpy()
    values = _numpy(got)
    if values.shape != (batch,):
        return (
            f"The result has shape {values.shape}, expected ({batch},): one log-probability "
            f"per input. Combine the {count} mask sets along dimension 0."
        )
    values = values.astype(np.float64)
    bad = ~np.isfinite(values) & np.isfinite(expected)
    if bad.any():
        k = int(np.argwhere(bad)[0, 0])
        return (
            f"The result is {values[k]} for input {k}, whose mixture log-probability is "
            f"{expected[k]:.4f}. exp(log p) underflows to 0 for log p below about -745 in "
            "float64 (-103 in float32; MNIST digits have log p around -100): do not "
            "exponentiate, use torch.logsumexp(log_probs, dim=0) - log S."
        )
    if np.allclose(values, expected, rtol=rtol, atol=atol):
        return None
    total = f" (these {batch} states get total probability {np.exp(values).sum():.4f})"
    total = total if all_states else ""
    candidates = {
        "mean": per_mask.mean(dim=0).numpy(),
        "sum": torch.logsumexp(per_mask, dim=0).numpy(),
        "max": per_mask.max(dim=0).values.numpy(),
    }
    if np.allclose(values, candidates["mean"], rtol=rtol, atol=atol):
        return (
            "You averaged the log-probabilities over the masks: that is the log of the "
            f"GEOMETRIC mean of the p_s(x), which is not a normalized distribution{total}; "
            "by the AM-GM inequality it is below the mixture. A mixture averages the "
            "probabilities: log((1/S) sum_s exp(log p_s)) = logsumexp over masks - log S."
        )
    if np.allclose(values, candidates["sum"], rtol=rtol, atol=atol):
        return (
            "You summed the probabilities of the masks without dividing by S = "
            f"{count}{total}: subtract log S after the logsumexp."
        )
    if np.allclose(values, candidates["max"], rtol=rtol, atol=atol):
        return (
            "You took the maximum over the masks; a mixture averages the probabilities "
            f"of all of them{total}: logsumexp over masks - log S."
        )
    k = int(np.argmax(np.abs(values - expected)))
    return (
        f"The mixture log-probability of input {k} is {expected[k]:.6f}, you return "
        f"{values[k]:.6f}{total}. Use logsumexp over the mask dimension minus log S."
    )


def averaged_logits_log_prob(model: MADE, x: torch.Tensor, num_masks: int) -> torch.Tensor:
    """NOT a mixture: log p(x) from the logits averaged over the first ``num_masks`` mask
    sets of ``model`` (a :class:`course.models.MADE`), shape (B,).

    A classic mistake, kept here to be recognized and shown: it is one new network, and
    with different orderings not even autoregressive, so it need not sum to one. The
    model's current mask set is restored.
    """
    logits = model.over_mask_sets(lambda: model.logits(x), num_masks)
    return bernoulli_log_prob(torch.stack(logits).mean(dim=0), x.to(logits[0].dtype))


# --- a student's MADE in the reference ---------------------------------------------------


def to_reference(layers: Sequence[torch.nn.Module], order: Any = None) -> MADE:
    """A float64 :class:`course.models.MADE` holding copies of ``layers``' weights and masks.

    ``layers`` are masked linear layers, input to output, each with ``weight`` (out, in),
    ``bias`` (out,) and ``mask`` (out, in). The reference then computes the same
    function (ReLU hidden units, logits out), so its ``log_prob`` and ``sample`` judge
    the student's parameters.
    """
    layers = list(layers)
    if not layers:
        raise ValueError("to_reference needs at least one layer")
    shapes = []
    for k, layer in enumerate(layers):
        for name in ("weight", "bias", "mask"):
            if not isinstance(getattr(layer, name, None), torch.Tensor):
                raise ValueError(f"layer {k} has no tensor attribute {name!r}")
        shapes.append(tuple(layer.weight.shape))
    n = shapes[0][1]
    if shapes[-1][0] != n:
        raise ValueError(f"the last layer has {shapes[-1][0]} outputs, expected n = {n}")
    for k in range(1, len(shapes)):
        if shapes[k][1] != shapes[k - 1][0]:
            raise ValueError(
                f"layer {k} takes {shapes[k][1]} inputs, but layer {k - 1} gives {shapes[k - 1][0]}"
            )
    reference = MADE(n, [s[0] for s in shapes[:-1]]).double()
    with torch.no_grad():
        for mine, theirs in zip(reference.layers, layers, strict=True):
            mine.weight.copy_(theirs.weight.detach().to("cpu", torch.float64))
            mine.bias.copy_(theirs.bias.detach().to("cpu", torch.float64))
            mine.mask.copy_(theirs.mask.detach().to("cpu", torch.float64))
        if order is not None:
            reference.order.copy_(torch.as_tensor(np.asarray(_numpy(order)), dtype=torch.long))
    return reference


def best_time(fn: Callable[[], Any], repeat: int = 3) -> float:
    """The fastest of ``repeat`` wall-clock timings of ``fn()``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# --- drawing ---------------------------------------------------------------------------


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
    arrays = [np.asarray(_numpy(m)) != 0 for m in masks]
    n = arrays[0].shape[1]
    sizes = [n, *[m.shape[0] for m in arrays]]
    columns = [_column_positions(size) for size in sizes]
    if ax is None:
        _, ax = plt.subplots(figsize=(2.2 * len(sizes), 0.45 * max(sizes) + 1.5))
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
    violation = first_violation(arrays, order)
    if violation is not None:
        i, j = violation
        for k, edges in enumerate(path_edges(arrays, j, i)):
            add_edges(k, edges, "tab:red", 2.2, f"violation {k}")
        legend.append(Line2D([], [], color="tab:red", lw=2, label=f"forbidden: x{j} -> p{i}"))
    cmap = plt.get_cmap("viridis")
    for k, ys in enumerate(columns):
        values = None
        if degrees is not None:
            values = np.asarray(degrees[k] if k < len(degrees) else degrees[0])
        colors = "white" if values is None else [cmap(v / max(n - 1, 1)) for v in values]
        ax.scatter(np.full(len(ys), k), ys, s=260, c=colors, edgecolors="black", zorder=3)
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
                fontsize=7,
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
                    fontsize=7,
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
            fontsize=8,
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
    masks = masks_with(in_degrees, hidden, output_cmp=">=" if wrong_output else ">")
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
    graph_ax.set_title(title, fontsize=10)
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
    style = {"description_width": "110px"}
    controls: dict[str, widgets.Widget] = {
        "n": widgets.IntSlider(value=n, min=2, max=10, description="n variables"),
        "sizes": widgets.Text(value=hidden_sizes, description="hidden sizes"),
        "ordering": widgets.Dropdown(
            options=["natural", "random"], value=ordering, description="ordering"
        ),
        "seed": widgets.IntSlider(value=seed, min=0, max=20, description="seed"),
        "wrong": widgets.Checkbox(value=False, description="'>=' in the output mask (wrong)"),
        "source": widgets.IntSlider(value=0, min=0, max=n - 1, description="from input j"),
        "target": widgets.IntSlider(value=n - 1, min=0, max=n - 1, description="to output i"),
    }
    for control in controls.values():
        control.style = style
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
            verdict.value = f"<b>{err}</b>"
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
        verdict.value = f"<pre style='color:{color}; white-space:pre-wrap'>{text}</pre>"
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
