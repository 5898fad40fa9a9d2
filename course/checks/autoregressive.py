"""The autoregressive property, checked by perturbation on any function.

Germain et al. (2015), "MADE", Section 3: output i may depend only on the inputs that come
before i in the ordering. :func:`dependency_matrix` flips one input at a time and records
which outputs change; :func:`first_violation` picks the forbidden dependency to report (the
one whose output comes first in the ordering, then whose input does), and
:func:`check_autoregressive` raises with its message. The same choice is used wherever a
violation is named (the MADE figures draw it), so every message agrees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from course.checks.core import CheckFailure, find_mistake
from course.numeric import to_numpy

__all__ = [
    "check_autoregressive",
    "dependency_matrix",
    "first_violation",
    "naming_batch",
    "positions",
    "violation_message",
]


def _call(fn: Callable[..., Any], x: np.ndarray, torch_input: bool) -> np.ndarray:
    if torch_input:
        param = next(iter(fn.parameters()), None) if isinstance(fn, torch.nn.Module) else None
        dtype = param.dtype if param is not None else torch.get_default_dtype()
        dev = param.device if param is not None else torch.device("cpu")
        with torch.no_grad():
            out = fn(torch.as_tensor(x, dtype=dtype, device=dev))
    else:
        out = fn(x)
    return to_numpy(out).astype(np.float64)


def dependency_matrix(
    fn: Callable[..., Any],
    n: int,
    *,
    num_bases: int = 4,
    seed: int = 0,
    atol: float = 1e-7,
    torch_input: bool | None = None,
) -> np.ndarray:
    """``D[i, j]`` is True when output ``i`` of ``fn`` changes when input ``j`` is flipped.

    ``fn`` maps a batch ``(B, n)`` of binary vectors to outputs ``(B, n)`` or
    ``(B, n, ...)`` (e.g. logits of a categorical per dimension). Each input is flipped
    (0 <-> 1) in ``num_bases`` random binary vectors; all flips are evaluated in one
    batch, so this costs ``num_bases * (n + 1)`` rows. Perturbation works for any
    function, differentiable or not, NumPy or torch. ``torch_input`` defaults to True
    for ``torch.nn.Module``.
    """
    if torch_input is None:
        torch_input = isinstance(fn, torch.nn.Module)
    rng = np.random.default_rng(seed)
    bases = (rng.random((num_bases, n)) < 0.5).astype(np.float64)
    flipped = np.repeat(bases[:, None, :], n, axis=1)  # (bases, j, n)
    idx = np.arange(n)
    flipped[:, idx, idx] = 1.0 - flipped[:, idx, idx]
    batch = np.concatenate([bases, flipped.reshape(-1, n)], axis=0)
    out = _call(fn, batch, torch_input)
    if out.shape[:2] != (len(batch), n):
        raise CheckFailure(
            f"The function returned shape {out.shape} for an input of shape {batch.shape}; "
            f"expected ({len(batch)}, {n}) or ({len(batch)}, {n}, ...): one output per "
            "input dimension."
        )
    out = out.reshape(len(batch), n, -1)
    base_out = out[:num_bases]  # (bases, n, k)
    flip_out = out[num_bases:].reshape(num_bases, n, n, -1)  # (bases, j, i, k)
    change = np.abs(flip_out - base_out[:, None, :, :]).max(axis=(0, 3))  # (j, i)
    scale = 1.0 + np.abs(base_out).max()
    return (change > atol * scale).T


def positions(order: Sequence[int] | None, n: int) -> np.ndarray:
    """``position[j]``: where variable j comes in ``order`` (default: the natural order)."""
    order = list(range(n)) if order is None else [int(v) for v in order]
    if sorted(order) != list(range(n)):
        raise ValueError(f"order must be a permutation of 0..{n - 1}, got {order}")
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    return position


def first_violation(
    depends: Any, order: Sequence[int] | None = None
) -> tuple[tuple[int, int], int] | None:
    """The forbidden dependency to report, and how many there are; None when there is none.

    ``depends[i, j]`` (nonzero) says that output i depends on input j, for example from
    :func:`dependency_matrix` or from a MADE's connectivity (the product of its masks).
    A dependency is forbidden unless j comes strictly before i in ``order``. Of all
    forbidden ones, the one whose output comes first in the ordering, then whose input
    comes first, is returned as ``((i, j), count)``.
    """
    depends = np.asarray(to_numpy(depends)) != 0
    position = positions(order, depends.shape[1])
    allowed = position[None, :] < position[:, None]  # allowed[i, j]: j before i
    violations = np.argwhere(depends & ~allowed)
    if not len(violations):
        return None
    i, j = min(violations.tolist(), key=lambda ij: (position[ij[0]], position[ij[1]]))
    return (int(i), int(j)), len(violations)


def violation_message(
    violation: tuple[tuple[int, int], int], order: Sequence[int] | None, n: int,
    name: str = "output", hint: str | None = None,
) -> str:
    """The student-facing message for :func:`first_violation`'s result.

    ``hint`` replaces the generic one (about masks) when given.
    """
    (i, j), count = violation
    given = hint
    position = positions(order, n)
    if i == j:
        detail = f"{name} {i} depends on input {i} itself"
        hint = (
            "A conditional p(x_i | x_<i) must not see x_i: use a strictly "
            "lower-triangular mask (k=-1), or '>' rather than '>=' in an output mask."
        )
    else:
        detail = (
            f"{name} {i} depends on input {j}, which comes later in the ordering "
            f"(position {position[j]} vs {position[i]})"
        )
        hint = "Check the mask: it must zero every weight from a later input."
    if given is not None:
        hint = given
    return (
        f"Not autoregressive: {detail}. {count} forbidden dependencies in all.\n"
        f"Hint: {hint}"
    )


def naming_batch(n: int, seed: int = 0) -> np.ndarray:
    """The batch (8, n) of 0/1 inputs on which :func:`check_autoregressive` compares a
    violating function with its ``mistakes``: stored test cases give what the mistakes
    compute on it."""
    return (np.random.default_rng(seed).random((8, n)) < 0.5).astype(np.float64)


def check_autoregressive(
    fn: Callable[..., Any],
    n: int,
    order: Sequence[int] | None = None,
    *,
    num_bases: int = 4,
    seed: int = 0,
    torch_input: bool | None = None,
    name: str = "output",
    hint: str | None = None,
    mistakes: Callable[[np.ndarray], Mapping[str, Any]] | None = None,
) -> np.ndarray:
    """Assert that output ``i`` depends only on inputs earlier than ``i`` in ``order``.

    ``order`` lists the variables in the order they are generated (``order[0]`` first);
    the default is the natural order ``0, 1, ..., n-1``. Any output that depends on
    itself or on a later input is a violation: the model would be looking at the
    answer, so its "likelihood" is not a normalized distribution. The message names
    the first violating pair (:func:`first_violation`), with ``hint`` instead of the
    generic hint about masks when given. ``mistakes(x)`` returns {explanation: the
    outputs that mistake gives for the batch x} (x is :func:`naming_batch`): when the
    outputs of a violating ``fn`` match one, the message starts with its explanation.
    Returns the dependency matrix (see :func:`dependency_matrix`) for plotting.
    """
    positions(order, n)  # validates the ordering before any work
    depends = dependency_matrix(fn, n, num_bases=num_bases, seed=seed, torch_input=torch_input)
    violation = first_violation(depends, order)
    if violation is None:
        return depends
    message = violation_message(violation, order, n, name, hint)
    if mistakes is not None:
        if torch_input is None:
            torch_input = isinstance(fn, torch.nn.Module)
        x = naming_batch(n, seed)
        mistake = find_mistake(_call(fn, x, torch_input), mistakes(x), rtol=1e-6, atol=1e-9)
        if mistake is not None:
            message = f"{mistake} {message.split(chr(10))[0]}"
    raise CheckFailure(message)
