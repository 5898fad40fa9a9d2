"""MADE in the tests: naming the mistake in a student's masks or mask ensemble.

Germain, Gregor, Murray & Larochelle (2015), "MADE", ICML, Section 4. Degrees are 0-based
as in :mod:`course.models.made`.

- :func:`explain_mask_difference` compares masks with MADE's and names the mistake (a
  comparison off by one, transposed masks, ...);
- :func:`explain_ensemble_difference` names what a wrong mixture of mask sets computes
  (the mean of log-probabilities, a missing 1/S, ...); :func:`averaged_logits_log_prob`
  computes one such mistake on the reference, to show it;
- :func:`to_reference` copies a MADE written by a student into :class:`course.models.MADE`
  to evaluate it with the reference;
- :func:`reference_helpers` lets the reference's degrees, masks and mixture stand in for
  a student's, so that a hidden test grades one part on its own;
- :func:`visible_cases` stores, at release time, the inputs and expected values of the
  visible tests of assignment 04 (``course/expected/04-made.json``), with the values of
  the common mistakes (:func:`mask_mistakes`, :func:`ensemble_mistakes`).

This module exists only where grading runs; the released notebook imports none of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from course.checks.autoregressive import first_violation
from course.checks.distributions import all_binary_states
from course.checks.inputs import load_parameters, random_binary, randomize_parameters
from course.checks.stand_ins import standing_in
from course.expected import rounded
from course.models import MADE
from course.models.base import bernoulli_log_prob
from course.models.made import connectivity, hidden_degrees, made_degrees, masks_from_degrees
from course.numeric import to_numpy

__all__ = [
    "averaged_logits_log_prob",
    "ensemble_mistakes",
    "explain_ensemble_difference",
    "explain_mask_difference",
    "mask_mistakes",
    "reference_helpers",
    "to_reference",
    "visible_cases",
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
    for explanation, candidate in ensemble_mistakes(per_mask, all_states=all_states).items():
        if np.allclose(values, candidate, rtol=rtol, atol=atol):
            return explanation
    total = f" (these {batch} states get total probability {np.exp(values).sum():.4f})"
    total = total if all_states else ""
    k = int(np.argmax(np.abs(values - expected)))
    return (
        f"The mixture log-probability of input {k} is {expected[k]:.6f}, you return "
        f"{values[k]:.6f}{total}. Use logsumexp over the mask dimension minus log S."
    )


def ensemble_mistakes(log_probs_per_mask: Any, *, all_states: bool = False
                      ) -> dict[str, np.ndarray]:
    """{explanation: what that mistake returns} for combining ``log_probs_per_mask`` (S, B).

    The mean of the log-probabilities (a geometric mean), the log of the sum (no 1/S) and
    the maximum over masks. With ``all_states`` (the B columns enumerate every state) each
    explanation says how much probability that mistake puts on all states together.
    """
    per_mask = torch.as_tensor(to_numpy(log_probs_per_mask), dtype=torch.float64)
    count, batch = per_mask.shape
    candidates = {"mean": per_mask.mean(dim=0).numpy(),
                  "sum": torch.logsumexp(per_mask, dim=0).numpy(),
                  "max": per_mask.max(dim=0).values.numpy()}

    def total(kind: str) -> str:
        mass = np.exp(candidates[kind]).sum()
        return f" (these {batch} states get total probability {mass:.4f})" if all_states else ""

    return {
        "You averaged the log-probabilities over the masks: that is the log of the GEOMETRIC "
        f"mean of the p_s(x), which is not a normalized distribution{total('mean')}; by the "
        "AM-GM inequality it is below the mixture. A mixture averages the probabilities: "
        "log((1/S) sum_s exp(log p_s)) = logsumexp over masks - log S.": candidates["mean"],
        f"You summed the probabilities of the masks without dividing by S = {count}"
        f"{total('sum')}: subtract log S after the logsumexp.": candidates["sum"],
        "You took the maximum over the masks; a mixture averages the probabilities of all of "
        f"them{total('max')}: logsumexp over masks - log S.": candidates["max"],
    }


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


def mask_mistakes(in_degrees: Any, hidden: Sequence[Any], *, autoregressive_only: bool = False
                  ) -> dict[str, list[np.ndarray]]:
    """{explanation: the masks that mistake builds} for these degrees (0/1 int arrays).

    The comparisons of :func:`explain_mask_difference` ('>=' at the output, '>' in the
    hidden masks, both swapped, turned around) and transposed masks, each with the message
    that :func:`explain_mask_difference` gives for them. ``autoregressive_only`` keeps the
    mistakes that break the autoregressive property (the others keep it, losing
    connections) and the transposed masks.
    """
    in_degrees = np.asarray(in_degrees)
    hidden = [np.asarray(h) for h in hidden]
    right = masks_from_degrees(in_degrees, hidden)
    comparisons = [(">=", ">="), (">", ">"), (">", ">="), ("<=", "<"), ("<", "<=")]
    variants = [masks_from_degrees(in_degrees, hidden, hidden_cmp=h, output_cmp=o)
                for h, o in comparisons]
    variants.append([m.T for m in right])
    labels = [f" (Here: '{h}' in the hidden masks, '{o}' in the output mask.)"
              for h, o in comparisons] + [""]
    mistakes: dict[str, list[np.ndarray]] = {}
    for masks, label in zip(variants, labels, strict=True):
        if all(m.shape == r.shape and np.array_equal(m, r) for m, r in zip(masks, right,
                                                                           strict=True)):
            continue  # no difference for these degrees
        breaks = (masks[0].shape != right[0].shape
                  or first_violation(connectivity(masks), np.argsort(in_degrees)) is not None)
        if autoregressive_only and not breaks:
            continue
        explanation = explain_mask_difference(masks, in_degrees, hidden)
        if explanation is not None:
            if explanation in mistakes:  # the two ways of turning the comparisons around
                explanation += label
            mistakes.setdefault(explanation, [m.astype(np.int64) for m in masks])
    return mistakes


def _mixture(log_probs_per_mask: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(log_probs_per_mask, dim=0) - math.log(log_probs_per_mask.shape[0])


@contextmanager
def reference_helpers(namespace: MutableMapping[str, Any]) -> Iterator[None]:
    """Within the block, the functions of earlier parts in ``namespace`` (the notebook's
    ``globals()``: input_degrees, sample_hidden_degrees, made_masks, ensemble_log_prob) are
    the reference ones, so that a hidden test grades one part on its own: a mistake costs
    points once."""
    with standing_in(namespace,
                     input_degrees=lambda order: np.argsort(np.asarray(order)),
                     sample_hidden_degrees=hidden_degrees,
                     made_masks=masks_from_degrees,
                     ensemble_log_prob=_mixture):
        yield


def _state(model: MADE) -> dict[str, np.ndarray]:
    """Weights, biases and masks of a MADE, by their ``state_dict`` names (order excluded)."""
    return {name: value.numpy() for name, value in model.state_dict().items()
            if name != "order"}


def _made_with(n: int, sizes: list[int], order: Any, seed: int) -> MADE:
    """The reference MADE that a student's ``MADE(n, sizes, order, seed)`` should build,
    with weights and biases of two decimals (short to store, exact in the stored file)."""
    order = np.arange(n) if order is None else np.asarray(order)
    in_degrees = np.argsort(order)
    hidden = hidden_degrees(n, sizes, in_degrees, np.random.default_rng(seed))
    model = randomize_parameters(MADE(n, sizes), seed)
    load_parameters(model, {
        **{name: np.round(value.detach().numpy(), 2) for name, value in model.named_parameters()},
        **{f"layers.{k}.mask": mask for k, mask in
           enumerate(masks_from_degrees(in_degrees, hidden))},
        "order": order})
    return model


def _logit_mistakes(model: MADE, x: torch.Tensor) -> dict[str, np.ndarray]:
    """{explanation: the logits that mistake gives} for a one-hidden-layer-or-more MADE."""
    def run(masked: bool = True, relu_out: bool = False, relu: bool = True) -> torch.Tensor:
        h = x
        for k, layer in enumerate(model.layers):
            weight = layer.weight * layer.mask if masked else layer.weight
            h = torch.nn.functional.linear(h, weight, layer.bias)
            if (k < len(model.layers) - 1 and relu) or (k == len(model.layers) - 1 and relu_out):
                h = torch.relu(h)
        return h

    with torch.no_grad():
        return {
            "The weights are not masked: forward must use self.weight * self.mask "
            "(F.linear(x, self.weight * self.mask, self.bias)).": run(masked=False).numpy(),
            "relu after the output layer: the logits may be negative, relu only between "
            "hidden layers.": run(relu_out=True).numpy(),
            "no relu between the layers: h = relu(layer(h)) after every hidden layer.":
                run(relu=False).numpy(),
            "These are probabilities, not logits: return the output layer's values, "
            "without sigmoid.": torch.sigmoid(run()).numpy(),
        }


def _toy_autoregressive(n: int, seed: int) -> dict[str, Any]:
    """A linear autoregressive model for a random ordering, stored: logit_i = b_i + A[i] . x
    with A[i, j] = 0 unless j comes before i in ``order``; and the log-probabilities that
    ``log_prob_n_passes`` gives on a batch, right and with two common mistakes."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    position = np.argsort(order)
    A = np.round(rng.standard_normal((n, n)), 2) * (position[None, :] < position[:, None])
    b = np.round(rng.standard_normal(n), 2)
    x = random_binary(8, n, seed)

    def n_passes(visit: Sequence[int], logit_of: Any, hide: Any) -> np.ndarray:
        known = np.zeros_like(x)
        total = np.zeros(len(x))
        for p, i in enumerate(visit):
            z = ((x * known) @ A.T + b)[:, logit_of(p, i)]
            total += x[:, hide(p, i)] * z - np.logaddexp(0.0, z)
            known[:, i] = 1.0
        return total

    logits = x @ A.T + b
    return {"order": order, "A": A, "b": b, "x": x,
            "expected": np.sum(x * logits - np.logaddexp(0.0, logits), axis=1),
            "mistakes": {
                "You used the position p where the variable order[p] belongs: at position p, "
                "take the logit of variable i = order[p] (and x[:, i]), not column p.":
                    n_passes(order, lambda p, i: p, lambda p, i: p),
                "You walked through the variables in index order 0..n-1: walk through "
                "model.order, revealing each variable after its conditional.":
                    n_passes(range(n), lambda p, i: i, lambda p, i: i),
            }}


def _mask_set_case(n: int, sizes: list[int], num_masks: int, seed: int) -> dict[str, Any]:
    """What a MADE with several mask sets gives on all 2^n states, stored per mask set."""
    model = randomize_parameters(MADE(n, sizes, num_masks=num_masks, ordering="agnostic",
                                      seed=seed), seed)
    x = torch.as_tensor(all_binary_states(n))
    with torch.no_grad():
        log_probs = torch.stack(model.over_mask_sets(lambda: model.log_prob(x), num_masks))
        logits = torch.stack(model.over_mask_sets(lambda: model.logits(x), num_masks))
        wrong = averaged_logits_log_prob(model, x, num_masks)
    return {"x": x, "log_probs": log_probs, "logits": logits, "expected": _mixture(log_probs),
            "mistakes": {
                "You averaged the logits of the mask sets: that is one new network, not the "
                "mixture (1/S) sum_s p_s(x). Here its probabilities over all "
                f"{len(x)} states sum to {wrong.exp().sum().item():.4f}: with different "
                "orderings it is not even normalized. Evaluate log_prob under each mask set "
                "and combine with ensemble_log_prob.": rounded(wrong)}}


def visible_cases() -> dict[str, Any]:
    """Inputs and expected values of the visible tests of assignment 04 (MADE).

    Masks are stored as 0/1 integers; a MADE's weights, biases and masks under their
    ``state_dict`` names (``state``), for :func:`course.checks.load_parameters`; under
    ``mistakes``, {explanation: what that mistake gives}.
    """
    in_degrees, hidden = np.array([0, 1, 2]), [np.array([0, 1, 1, 0])]
    cases: dict[str, Any] = {"masks": {
        "in_degrees": in_degrees, "hidden": hidden,
        "expected": [m.astype(np.int64) for m in masks_from_degrees(in_degrees, hidden)],
        "mistakes": mask_mistakes(in_degrees, hidden)}}
    cases["masks_autoregressive"] = []
    for n, sizes, ordering, seed in [(4, [8], "natural", 0), (5, [10, 10], "random", 1)]:
        order, in_degrees, hidden = made_degrees(n, sizes, ordering, seed=seed)
        cases["masks_autoregressive"].append({
            "n": n, "order": order, "in_degrees": in_degrees, "hidden": hidden,
            "shapes": [list(m.shape) for m in masks_from_degrees(in_degrees, hidden)],
            "mistakes": mask_mistakes(in_degrees, hidden, autoregressive_only=True)})
    model, x = _made_with(4, [8], None, seed=0), random_binary(8, 4, seed=0, torch_tensor=True)
    with torch.no_grad():
        cases["made"] = {"state": _state(model), "x": x, "logits": model.logits(x),
                         "expected": model.log_prob(x),
                         "mistakes": rounded(_logit_mistakes(model, x))}
    model, states = _made_with(4, [12, 12], [3, 1, 0, 2], seed=0), all_binary_states(4)
    with torch.no_grad():
        cases["made_autoregressive"] = {
            "state": _state(model), "expected": model.log_prob(torch.as_tensor(states))}
    cases["n_passes"] = _toy_autoregressive(5, seed=0)
    per_mask = torch.stack([
        randomize_parameters(MADE(4, [10], ordering="random", seed=s), seed=s)
        .log_prob(torch.as_tensor(all_binary_states(4))).detach() for s in range(3)])
    small = torch.log(torch.tensor([[0.2, 0.5], [0.6, 0.1]], dtype=torch.float64))
    cases["ensemble"] = {
        "log_probs": per_mask, "expected": _mixture(per_mask),
        "mistakes": rounded(ensemble_mistakes(per_mask, all_states=True))}
    cases["ensemble_small"] = {"log_probs": small, "expected": _mixture(small),
                               "mistakes": rounded(ensemble_mistakes(small))}
    cases["mask_ensemble"] = _mask_set_case(3, [8], 3, seed=5)
    return cases
