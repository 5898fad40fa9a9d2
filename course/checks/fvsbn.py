"""FVSBN in the tests: the reference as NumPy functions, and the mistakes it names.

Assignment 02 writes the FVSBN (Frey, Hinton & Dayan, 1996) by hand in NumPy:
z = x (W * M)^T + b with a strictly lower-triangular mask M, log p(x) = sum_i [x_i z_i -
softplus(z_i)], the gradients of the mean NLL, Adam (Kingma & Ba, 2015, Algorithm 1) and
ancestral sampling. The tests compare each function with :class:`course.models.FVSBN` in
float64 (gradients from autograd) and name the common mistakes:

- :func:`reference_logits` and :func:`reference_log_prob` are the reference as NumPy
  functions, exact in float64, to stand in for a student's (``course.checks.standing_in``);
- :func:`logits_mistakes` and :func:`sample_mistakes`: what a wrong mask, a transposed W,
  a comparison the wrong way round ... give;
- :func:`check_nll_and_grads` compares the mean NLL and its gradients with autograd
  (:func:`nll_and_grads_case` computes them, and what the mistakes give);
- :func:`check_adam` compares Adam steps with ``torch.optim.Adam`` (:func:`adam_case`);
- :func:`visible_cases`: the visible tests' inputs, the reference's outputs and the
  mistakes' values, stored at release time in ``course/expected/02-fvsbn.json``
  (``course.expected``), since this module does not ship to students.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from course.checks.core import CheckFailure, assert_close
from course.checks.distributions import all_binary_states
from course.checks.inputs import random_binary, random_params
from course.models import FVSBN
from course.models.base import bernoulli_log_prob
from course.numeric import to_numpy

__all__ = [
    "adam_case",
    "check_adam",
    "check_nll_and_grads",
    "logits_mistakes",
    "nll_and_grads_case",
    "reference_log_prob",
    "reference_logits",
    "sample_mistakes",
    "visible_cases",
]


def _model(W: Any, b: Any) -> FVSBN:
    """The reference holding W and b exactly, in float64 (no rounding to float32)."""
    b = np.asarray(to_numpy(b), dtype=np.float64)
    model = FVSBN(b.shape[0]).double()
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(np.asarray(to_numpy(W), dtype=np.float64)))
        model.bias.copy_(torch.as_tensor(b))
    return model


def _tensor(x: Any) -> torch.Tensor:
    return torch.as_tensor(np.asarray(to_numpy(x), dtype=np.float64))


def reference_logits(x: Any, W: Any, b: Any) -> np.ndarray:
    """The reference's logits b_i + sum_{j<i} W[i, j] x_j, (B, n) float64, as NumPy."""
    with torch.no_grad():
        return _model(W, b).logits(_tensor(x)).numpy()


def reference_log_prob(x: Any, W: Any, b: Any) -> np.ndarray:
    """The reference's log p(x) in nats, (B,) float64, as NumPy."""
    with torch.no_grad():
        return _model(W, b).log_prob(_tensor(x)).numpy()


def logits_mistakes(x: Any, W: Any, b: Any) -> dict[str, np.ndarray]:
    """{explanation: the logits that mistake gives} for a batch ``x`` (B, n)."""
    x, W, b = (np.asarray(to_numpy(v), dtype=np.float64) for v in (x, W, b))
    lower, upper = np.tril(W, k=-1), np.triu(W, k=1)
    return {
        "W is used transposed: z_i must read ROW i of W (W[i, j] x_j for j < i), i.e. "
        "x @ (W * M).T + b; x @ (W * M) reads column i.": x @ lower + b,
        "W is not masked: every logit sees every input, itself included. Use the strictly "
        "lower-triangular part, np.tril(W, k=-1).": x @ W.T + b,
        "The mask keeps the diagonal: z_i sees x_i itself. Use np.tril(W, k=-1), strictly "
        "below the diagonal.": x @ np.tril(W).T + b,
        "The mask keeps the upper triangle (j > i) instead of the lower one (j < i): use "
        "np.tril(W, k=-1).": x @ upper.T + b,
        "The mask keeps the upper triangle, read transposed: z_i must use W[i, j] for j < i "
        "(np.tril(W, k=-1)), not W[j, i].": x @ upper + b,
        "The bias b is missing: z = x @ (W * M).T + b.": x @ lower.T,
    }


NLL_AND_GRADS_HINTS = {
    "mean_nll": "mean_nll = mean over the batch of -log p(x), log p(x) = sum_i [x_i z_i - "
    "softplus(z_i)].",
    "db": "db = sum over the batch of dL/dz, with dL/dz = (sigmoid(z) - x) / B.",
    "dW below the diagonal": "dL/dW[i, j] = sum_k dz[k, i] x[k, j]: dW = dz.T @ x, masked.",
}


def nll_and_grads_case(x: Any, W: Any, b: Any) -> dict[str, Any]:
    """The reference's mean NLL and gradients on ``(x, W, b)``, and what mistakes give.

    Returns {"x", "W", "b"} and, for each of "mean_nll", "db" and "dW below the diagonal"
    (the strictly lower triangle of dW; the masked entries are another test's business),
    {"expected": autograd on :class:`course.models.FVSBN` in float64, "mistakes":
    {explanation: the value it gives} (None where it makes no difference), "hint": ...}.
    Recognized: a sum over the batch instead of a mean, a flipped sign, a transposed dW,
    logits where probabilities belong.
    """
    x = np.asarray(to_numpy(x), dtype=np.float64)
    batch, n = x.shape
    model = _model(W, b)
    masked = (model.weight * model.mask).detach().requires_grad_(True)
    bias = model.bias.detach().requires_grad_(True)
    x_t = torch.as_tensor(x)
    z_t = F.linear(x_t, masked, bias)
    loss = -bernoulli_log_prob(z_t, x_t).mean()
    loss.backward()
    full = masked.grad.numpy()  # dz.T @ x, every entry: the gradient before masking
    mask = model.mask.numpy()
    ref_dW, ref_db, ref_nll = full * mask, bias.grad.numpy(), loss.item()
    z = z_t.detach().numpy()
    dz_logits = (z - x) / batch  # what dL/dz is without the sigmoid
    summed = f"is B = {batch} times too large: it is summed over the batch; the loss is the " \
             "MEAN NLL, so dz = (sigmoid(z) - x) / B."
    sign = "has the wrong sign: it is the gradient of the NEGATIVE log-likelihood, " \
           "dz = (sigmoid(z) - x) / B."
    no_sigmoid = "uses the logits z where the probabilities belong: dz = (sigmoid(z) - x) / B."
    several = batch > 1
    transposed = np.tril(full.T, k=-1)
    mistakes = {
        "mean_nll": {
            "mean_nll is the SUM over the batch: it is the MEAN of -log p(x) over the B "
            "examples.": batch * ref_nll if several else None,
            "mean_nll has the wrong sign: it is the NEGATIVE log-likelihood (>= 0).": -ref_nll,
            "mean_nll is also averaged over the n variables: average over the batch, but SUM "
            "over the variables.": ref_nll / n if n > 1 else None,
        },
        "db": {
            f"db {summed}": batch * ref_db if several else None,
            f"db {sign}": -ref_db,
            f"db {no_sigmoid}": dz_logits.sum(axis=0),
        },
        "dW below the diagonal": {
            "dW is the transpose of the gradient: dL/dW[i, j] = sum_k dz[k, i] x[k, j], i.e. "
            "dz.T @ x (then masked), not x.T @ dz.": transposed,
            f"dW {summed}": batch * ref_dW if several else None,
            f"dW {sign}": -ref_dW,
            f"dW {no_sigmoid}": np.tril(dz_logits.T @ x, k=-1),
            f"dW is the transpose of the gradient (dz.T @ x, not x.T @ dz) and {summed}":
                batch * transposed if several else None,
        },
    }
    expected = {"mean_nll": ref_nll, "db": ref_db, "dW below the diagonal": ref_dW}
    case: dict[str, Any] = {"x": x, "W": np.asarray(to_numpy(W), dtype=np.float64),
                            "b": np.asarray(to_numpy(b), dtype=np.float64)}
    for name, value in expected.items():
        case[name] = {"expected": value, "mistakes": mistakes[name],
                      "hint": NLL_AND_GRADS_HINTS[name]}
    return case


def check_nll_and_grads(
    result: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, label: str = "",
    *, rtol: float = 1e-7, atol: float = 1e-12,
) -> None:
    """Compare ``result = (mean_nll, dW, db)`` with the reference's, naming common mistakes.

    mean_nll is compared within rtol = atol = 1e-9, db and the strictly lower triangle of
    dW within ``rtol``/``atol``, with :func:`nll_and_grads_case` (autograd on
    :class:`course.models.FVSBN` in float64).
    """
    if not (isinstance(result, tuple) and len(result) == 3):
        raise CheckFailure("fvsbn_nll_and_grads must return a tuple (mean_nll, dW, db).")
    nll, dW, db = result
    label = f" ({label})" if label else ""
    case = nll_and_grads_case(x, W, b)
    dW_low = np.tril(np.asarray(to_numpy(dW), dtype=np.float64), k=-1)
    for name, got, rtol_, atol_ in [
        ("mean_nll", np.asarray(to_numpy(nll), dtype=np.float64), 1e-9, 1e-9),
        ("db", np.asarray(to_numpy(db), dtype=np.float64), rtol, atol),
        ("dW below the diagonal", dW_low, rtol, atol),
    ]:
        assert_close(got, case[name]["expected"], f"{name}{label}", rtol=rtol_, atol=atol_,
                     hint=case[name]["hint"], mistakes=case[name]["mistakes"])


# --- Adam ----------------------------------------------------------------------------

_ADAM_MISTAKES = {
    "no_correction": "Adam without bias correction: m and v start at 0, so divide them by "
    "(1 - beta1**t) and (1 - beta2**t) (without it the first step is about 3 lr, not lr).",
    "only_m": "Only m is bias-corrected: v needs v_hat = v / (1 - beta2**t) too.",
    "only_v": "Only v is bias-corrected: m needs m_hat = m / (1 - beta1**t) too.",
    "swapped_moments": "m and v are swapped: m averages the gradient g, v its square g**2.",
    "swapped_betas": "beta1 and beta2 are swapped: m decays with beta1, v with beta2.",
    "swapped_corrections": "The bias corrections are swapped: m_hat = m / (1 - beta1**t), "
    "v_hat = v / (1 - beta2**t).",
    "power_t_plus_1": "The bias correction uses the wrong power: at step t (t = 1 for the "
    "first step) divide by 1 - beta**t; here it is beta**(t + 1).",
    "power_t_minus_1": "The bias correction uses the wrong power: at step t (t = 1 for the "
    "first step) divide by 1 - beta**t; here it is beta**(t - 1), a division by zero at "
    "the first step (increment t first).",
    "power_1": "The bias correction uses beta, not beta**t: divide by 1 - beta**t, with t "
    "the step count.",
    "ascent": "Adam steps along the gradient: theta = theta - lr * m_hat / (sqrt(v_hat) + eps).",
    "no_state": "adam_step does not keep its state between calls: every step is a first "
    "step. Fill and update the dict `state` you are given in place (state['m'] = ...); "
    "do not rebind it (state = {...}).",
    "gradient_not_m": "The step uses the gradient g where m_hat belongs: theta - lr * m_hat "
    "/ (sqrt(v_hat) + eps).",
    "eps_inside": "eps is inside the square root: the step is lr * m_hat / (sqrt(v_hat) + "
    "eps), not lr * m_hat / sqrt(v_hat + eps).",
}


def _adam_variant(start: np.ndarray, grads: Sequence[np.ndarray], lr: float, beta1: float,
                  beta2: float, eps: float, mistake: str) -> list[np.ndarray]:
    """The parameters after each step of Adam with one of the mistakes of _ADAM_MISTAKES."""
    theta, m, v, t, out = np.array(start, dtype=np.float64), 0.0, 0.0, 0, []
    b1, b2 = (beta2, beta1) if mistake == "swapped_betas" else (beta1, beta2)
    with np.errstate(all="ignore"):
        for g in grads:
            if mistake == "no_state":
                m, v, t = 0.0, 0.0, 0
            t += 1
            if mistake == "swapped_moments":
                m, v = b1 * m + (1 - b1) * g**2, b2 * v + (1 - b2) * g
            else:
                m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
            power = {"power_t_plus_1": t + 1, "power_t_minus_1": t - 1, "power_1": 1}.get(
                mistake, t)
            cm, cv = 1 - b1**power, 1 - b2**power
            if mistake == "swapped_corrections":
                cm, cv = 1 - b2**power, 1 - b1**power
            m_hat = m if mistake in ("no_correction", "only_v") else m / cm
            v_hat = v if mistake in ("no_correction", "only_m") else v / cv
            root = np.sqrt(v_hat + eps) if mistake == "eps_inside" else np.sqrt(v_hat) + eps
            step = (g if mistake == "gradient_not_m" else m_hat) / root
            theta = theta + lr * step if mistake == "ascent" else theta - lr * step
            out.append(theta.copy())
    return out


ADAM_HINT = ("Follow Algorithm 1: update m and v, bias-correct both with the step count t, "
             "then step by lr * m_hat / (sqrt(v_hat) + eps).")


def adam_case(start: Any, grads: Sequence[Any], lr: float, **hyper: float) -> dict[str, Any]:
    """``torch.optim.Adam`` (float64) from ``start`` over ``grads``, and what mistakes give.

    Returns {"start", "grads", "lr", "hyper" (beta1, beta2, eps as given), "steps": the
    parameters after each step (one row per step), "mistakes": {explanation: the
    parameters after each step with that mistake, one row per step} (a missing or wrong
    bias correction, m and v mixed up, a state that is not kept, ...), "hint"}.
    Defaults: beta1 0.9, beta2 0.999, eps 1e-8.
    """
    beta1, beta2 = hyper.get("beta1", 0.9), hyper.get("beta2", 0.999)
    eps = hyper.get("eps", 1e-8)
    start = np.array(to_numpy(start), dtype=np.float64)
    grads = [np.array(to_numpy(g), dtype=np.float64) for g in grads]
    p = torch.tensor(start, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    steps = []
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        steps.append(p.detach().numpy().copy())
    mistakes = {text: np.array(_adam_variant(start, grads, lr, beta1, beta2, eps, key))
                for key, text in _ADAM_MISTAKES.items()}
    return {"start": start, "grads": np.array(grads), "lr": lr, "hyper": dict(hyper),
            "steps": np.array(steps), "mistakes": mistakes, "hint": ADAM_HINT}


def check_adam(
    adam_step: Callable[..., Any], start: np.ndarray, grads: Sequence[np.ndarray], lr: float,
    *, rtol: float = 1e-6, atol: float = 1e-4, **hyper: float,
) -> None:
    """Run ``adam_step`` over ``grads`` from ``start`` and compare every step with
    ``torch.optim.Adam`` (float64, :func:`adam_case`), naming common mistakes.

    ``hyper`` holds the keyword arguments passed to ``adam_step`` (beta1, beta2, eps),
    defaults 0.9, 0.999, 1e-8. The default atol of 1e-4 accepts Kingma & Ba's
    "efficient" ordering (eps added before the bias correction, ~1e-5 apart).
    """
    case = adam_case(start, grads, lr, **hyper)
    mine, state = case["start"].copy(), {}
    suffix = f" {hyper}" if hyper else ""
    for t, (g, expected) in enumerate(zip(case["grads"], case["steps"], strict=True), start=1):
        mine = np.array(adam_step(mine, g.copy(), state, lr, **hyper), dtype=np.float64)
        assert_close(mine, expected, f"parameter after Adam step {t}{suffix}",
                     rtol=rtol, atol=atol, hint=case["hint"],
                     mistakes={text: after[t - 1] for text, after in case["mistakes"].items()})


# --- sampling ------------------------------------------------------------------------


def sample_mistakes(W: Any, b: Any) -> dict[str, np.ndarray]:
    """{explanation: probabilities of all 2^n states} for samplers making common mistakes.

    In the order of :func:`course.checks.all_binary_states`, for
    :func:`course.checks.check_samples`' ``mistakes``; n must be small (2^n states).
    """
    W, b = (np.asarray(to_numpy(v), dtype=np.float64) for v in (W, b))
    states = all_binary_states(b.shape[0])

    def probs(W_: np.ndarray, b_: np.ndarray) -> np.ndarray:
        return np.exp(reference_log_prob(states, W_, b_))

    return {
        "x_i = 1 with probability 1 - p: the comparison is the wrong way round. With u "
        "uniform on [0, 1), x_i = 1 when u < p(x_i = 1 | x_<i).": probs(-W, -b),
        "The values already sampled are not used: x_i is drawn from sigmoid(b_i) alone. "
        "Compute z_i = b_i + sum_{j<i} W[i, j] x_j from the x_<i of the same sample.":
            probs(np.zeros_like(W), b),
        "W is read by column: z_i = b_i + sum_{j<i} W[i, j] x_j uses ROW i of W.":
            probs(W.T, b),
    }


# --- the visible tests' cases ---------------------------------------------------------


def _logits_case(batch: int, n: int, params_seed: int, x_seed: int) -> dict[str, Any]:
    W, b = random_params(n, seed=params_seed)
    x = random_binary(batch, n, seed=x_seed)
    return {"x": x, "W": W, "b": b, "expected": reference_logits(x, W, b),
            "mistakes": logits_mistakes(x, W, b)}


def _storable(mistakes: dict[str, Any]) -> dict[str, Any]:
    """``mistakes`` without the values that are not finite everywhere: JSON has no NaN or
    infinity. (The hidden tests, which compute them, still name those mistakes.)"""
    return {text: value for text, value in mistakes.items()
            if value is None or np.isfinite(value).all()}


def visible_cases() -> dict[str, Any]:
    """The cases of assignment 02's visible tests (``load_expected("02-fvsbn")``), on the
    inputs the visible tests used before (``random_params``, ``random_binary`` seeds):

    - ``logits``: x (3, 5), dense W, b; the reference's logits; {explanation: the logits
      that mistake gives} (:func:`logits_mistakes`);
    - ``log_prob``: W, b (n = 4); the logits and log p of every state, in the order of
      :func:`course.checks.all_binary_states`;
    - ``log_prob_stable``: x (6, 8), W of scale 100, b; the logits and log p(x);
    - ``nll_and_grads``: :func:`nll_and_grads_case` on x (4, 5), and the logits;
    - ``adam``: :func:`adam_case`, three steps of ``torch.optim.Adam`` (lr 0.1);
    - ``sample``: W, b (n = 4, masked entries set to -50, which must have no effect); the
      logits and the probabilities of the 16 states, and :func:`sample_mistakes`.

    The logits let a visible test of a function that calls ``fvsbn_logits`` skip its
    checks while the student's ``fvsbn_logits`` is wrong
    (:func:`course.checks.stand_ins.passes_its_test`).

    Mistakes whose values are not finite (Adam's with a division by zero or the square
    root of a negative v) are left out: the hidden test names them.
    """
    W_lp, b_lp = random_params(4, seed=2)
    W_st, b_st = random_params(8, seed=3, scale=100.0)
    x_st = random_binary(6, 8, seed=4)
    W_g, b_g = random_params(5, seed=9)
    grad = np.array([0.3, -4.0, 0.05])
    b_s = np.array([-2.0, 0.0, 2.0, 0.0])
    W_s = np.zeros((4, 4))
    W_s[3, 0] = 50.0  # x_3 = 1 whenever x_0 = 1 (and b_3 = 0 gives p = 1/2 otherwise)
    W_s[0, 3] = W_s[1, 1] = -50.0  # masked: must have no effect
    adam = adam_case(np.array([1.0, -2.0, 0.5]), [grad, np.array([-1.0, 0.5, 2.0]), grad],
                     lr=0.1)
    adam["mistakes"] = _storable(adam["mistakes"])
    states = all_binary_states(4)
    x_g = random_binary(4, 5, seed=10)
    return {
        "logits": _logits_case(3, 5, params_seed=0, x_seed=1),
        "log_prob": {"W": W_lp, "b": b_lp, "logits": reference_logits(states, W_lp, b_lp),
                     "expected": reference_log_prob(states, W_lp, b_lp)},
        "log_prob_stable": {"x": x_st, "W": W_st, "b": b_st,
                            "logits": reference_logits(x_st, W_st, b_st),
                            "expected": reference_log_prob(x_st, W_st, b_st)},
        "nll_and_grads": {**nll_and_grads_case(x_g, W_g, b_g),
                          "logits": reference_logits(x_g, W_g, b_g)},
        "adam": adam,
        "sample": {"W": W_s, "b": b_s, "logits": reference_logits(states, W_s, b_s),
                   "probs": np.exp(reference_log_prob(states, W_s, b_s)),
                   "mistakes": sample_mistakes(W_s, b_s)},
    }
