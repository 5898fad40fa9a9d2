"""MADE in the tests: naming the mistake in a student's masks or mask ensemble.

Germain, Gregor, Murray & Larochelle (2015), "MADE", ICML, Section 4. Degrees are 0-based
as in :mod:`course.models.made`.

- :func:`explain_mask_difference` compares masks with MADE's and names the mistake (a
  comparison off by one, transposed masks, ...);
- :func:`explain_ensemble_difference` names what a wrong mixture of mask sets computes
  (the mean of log-probabilities, a missing 1/S, ...); :func:`averaged_logits_log_prob`
  computes one such mistake on the reference, to show it;
- :func:`to_reference` copies a MADE written by a student into :class:`course.models.MADE`
  to evaluate it with the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from course.checks.autoregressive import first_violation
from course.models import MADE
from course.models.base import bernoulli_log_prob
from course.models.made import connectivity, masks_from_degrees
from course.numeric import to_numpy

__all__ = [
    "averaged_logits_log_prob",
    "explain_ensemble_difference",
    "explain_mask_difference",
    "to_reference",
]


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
    expected = masks_from_degrees(in_degrees, hidden)
    if isinstance(got, np.ndarray | torch.Tensor) or not isinstance(got, Sequence):
        return f"made_masks must return a list of masks (one per layer), got {type(got).__name__}."
    if len(got) != len(expected):
        return (
            f"made_masks returned {len(got)} masks for {len(hidden)} hidden layers; expected "
            f"{len(expected)}: one per hidden layer and one for the output layer."
        )
    arrays = []
    for k, (mask, want) in enumerate(zip(got, expected, strict=True)):
        arr = to_numpy(mask)
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
        variant = masks_from_degrees(
            in_degrees, hidden, hidden_cmp=hidden_cmp, output_cmp=output_cmp
        )
        if not all(np.array_equal(a, v) for a, v in zip(arrays, variant, strict=True)):
            continue
        violation = first_violation(connectivity(arrays), np.argsort(in_degrees))
        example = (f" (here output {violation[0][0]} sees input {violation[0][1]})"
                   if violation else "")
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
    raw = to_numpy(log_probs_per_mask)
    if rtol is None:
        rtol = 1e-5 if raw.dtype == np.float32 else 1e-9
    per_mask = torch.as_tensor(raw, dtype=torch.float64)
    count, batch = per_mask.shape
    expected = (torch.logsumexp(per_mask, dim=0) - np.log(count)).numpy()
    values = to_numpy(got)
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
            reference.order.copy_(torch.as_tensor(np.asarray(to_numpy(order)), dtype=torch.long))
    return reference
