"""Each topic's named mistakes: a planted bug gets its name first, a correct answer passes.

The planted bugs are written here, independently of the helpers that compute what each
mistake gives, the way a student would write them.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from course.checks import (
    CheckFailure,
    assert_close,
    check_autoregressive,
    check_count,
    check_log_prob,
    check_samples,
)
from course.checks import chain_rule as cr
from course.checks import fvsbn as cf
from course.checks import nade as cn
from course.models import counting
from course.numeric import sigmoid

# --- 02: FVSBN -----------------------------------------------------------------------


def _params(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n)), rng.standard_normal(n)


def _binary(batch: int, n: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((batch, n)) < 0.5).astype(np.float64)


def test_reference_logits_and_log_prob_are_exact_in_float64() -> None:
    W, b = _params(6, 0)
    x = _binary(5, 6, 1)
    z = x @ np.tril(W, k=-1).T + b
    np.testing.assert_allclose(cf.reference_logits(x, W, b), z, rtol=1e-14, atol=1e-14)
    log_p = np.sum(x * z - np.logaddexp(0, z), axis=1)
    np.testing.assert_allclose(cf.reference_log_prob(x, W, b), log_p, rtol=1e-13)


PLANTED_LOGITS = {
    "W is used transposed": lambda x, W, b: x @ np.tril(W, k=-1) + b,
    "W is not masked": lambda x, W, b: x @ W.T + b,
    "The mask keeps the diagonal": lambda x, W, b: x @ np.tril(W).T + b,
    "The mask keeps the upper triangle (": lambda x, W, b: x @ np.triu(W, k=1).T + b,
}


@pytest.mark.parametrize("name", list(PLANTED_LOGITS))
def test_fvsbn_logits_mistakes_are_named_by_the_autoregressive_check(name: str) -> None:
    W, b = _params(5, 2)
    fn = PLANTED_LOGITS[name]
    with pytest.raises(CheckFailure) as info:
        check_autoregressive(lambda x: fn(x, W, b), 5, name="logit",
                             mistakes=lambda x: cf.logits_mistakes(x, W, b))
    assert str(info.value).startswith(name), str(info.value)


def test_fvsbn_logits_mistakes_that_stay_autoregressive_are_named_by_value() -> None:
    W, b = _params(7, 3)
    x = _binary(4, 7, 4)
    expected = cf.reference_logits(x, W, b)
    check_autoregressive(lambda s: s @ np.tril(W, k=-1).T + b, 7,
                         mistakes=lambda s: cf.logits_mistakes(s, W, b))
    for got, name in [(x @ np.triu(W, k=1) + b, "The mask keeps the upper triangle, read"),
                      (x @ np.tril(W, k=-1).T, "The bias b is missing")]:
        with pytest.raises(CheckFailure, match=f"^{name}"):
            assert_close(got, expected, "fvsbn_logits", rtol=1e-9, atol=1e-9,
                         mistakes=cf.logits_mistakes(x, W, b))


def _nll_and_grads(x: np.ndarray, W: np.ndarray, b: np.ndarray, bug: str = ""):
    batch = x.shape[0]
    z = x @ np.tril(W, k=-1).T + b
    nll = np.sum(np.logaddexp(0.0, z) - x * z, axis=1)
    mean_nll = float(np.sum(nll) if bug == "nll summed" else np.mean(nll))
    if bug == "nll sign":
        mean_nll = -mean_nll
    dz = sigmoid(z) - x if bug == "summed" else (sigmoid(z) - x) / batch
    if bug == "sign":
        dz = -dz
    if bug == "no sigmoid":
        dz = (z - x) / batch
    dW = np.tril(x.T @ dz if bug == "transposed" else dz.T @ x, k=-1)
    return mean_nll, dW, dz.sum(axis=0)


@pytest.mark.parametrize(
    ("bug", "start"),
    [
        ("transposed", "dW is the transpose of the gradient"),
        ("summed", "db is B = 6 times too large"),
        ("sign", "db has the wrong sign"),
        ("no sigmoid", "db uses the logits z"),
        ("nll summed", "mean_nll is the SUM over the batch"),
        ("nll sign", "mean_nll has the wrong sign"),
    ],
)
def test_check_nll_and_grads_names_each_planted_mistake(bug: str, start: str) -> None:
    W, b = _params(5, 5)
    x = _binary(6, 5, 6)
    cf.check_nll_and_grads(_nll_and_grads(x, W, b), x, W, b, "n=5")
    with pytest.raises(CheckFailure) as info:
        cf.check_nll_and_grads(_nll_and_grads(x, W, b, bug), x, W, b, "n=5")
    assert str(info.value).startswith(start), str(info.value)


def _adam(bug: str = ""):
    def adam_step(param, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        if not state:
            state.update(m=np.zeros_like(param), v=np.zeros_like(param), t=0)
        state["t"] += 1
        t = state["t"]
        first, second = (grad**2, grad) if bug == "moments swapped" else (grad, grad**2)
        state["m"] = beta1 * state["m"] + (1 - beta1) * first
        state["v"] = beta2 * state["v"] + (1 - beta2) * second
        power = t + 1 if bug == "power" else t
        m_hat = state["m"] / (1 - beta1**power)
        v_hat = state["v"] / (1 - beta2**power)
        if bug == "no correction":
            m_hat, v_hat = state["m"], state["v"]
        if bug == "corrections swapped":
            m_hat, v_hat = state["m"] / (1 - beta2**t), state["v"] / (1 - beta1**t)
        with np.errstate(invalid="ignore"):
            return param - lr * m_hat / (np.sqrt(v_hat) + eps)

    if bug == "state rebound":
        return lambda param, grad, state, lr, **kw: adam_step(param, grad, {}, lr, **kw)
    return adam_step


@pytest.mark.parametrize(
    ("bug", "start"),
    [
        ("no correction", "Adam without bias correction"),
        ("moments swapped", "m and v are swapped"),
        ("corrections swapped", "The bias corrections are swapped"),
        ("power", "The bias correction uses the wrong power"),
        ("state rebound", "adam_step does not keep its state"),
    ],
)
def test_check_adam_names_each_planted_mistake(bug: str, start: str) -> None:
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(4)
    grads = [rng.standard_normal(4) * s for s in (1.0, 0.3, 2.0)]
    cf.check_adam(_adam(), theta, grads, 0.05)
    cf.check_adam(_adam(), theta, grads, 0.05, beta1=0.5, beta2=0.9, eps=1e-6)
    with pytest.raises(CheckFailure) as info:
        cf.check_adam(_adam(bug), theta, grads, 0.05)
    assert str(info.value).startswith(start), str(info.value)


def _fvsbn_sample(W: np.ndarray, b: np.ndarray, num: int, rng, bug: str = "") -> np.ndarray:
    n = b.shape[0]
    x = np.zeros((num, n))
    for i in range(n):
        row = W[:i, i] if bug == "column" else W[i, :i]
        p = sigmoid(x[:, :i] @ row + b[i])
        u = rng.random(num)
        x[:, i] = u > p if bug == "wrong way" else u < p
    return x


@pytest.mark.parametrize(
    ("bug", "start"),
    [("wrong way", "x_i = 1 with probability 1 - p"), ("column", "W is read by column")],
)
def test_fvsbn_sample_mistakes_are_named(bug: str, start: str) -> None:
    W, b = _params(3, 7)
    W, b = 2.5 * W, b
    states = cf.all_binary_states(3)
    probs = np.exp(cf.reference_log_prob(states, W, b))
    right = _fvsbn_sample(W, b, 20000, np.random.default_rng(0))
    check_samples(right, probs, alpha=1e-4, mistakes=cf.sample_mistakes(W, b))
    wrong = _fvsbn_sample(W, b, 20000, np.random.default_rng(0), bug)
    with pytest.raises(CheckFailure, match=f"^{start}"):
        check_samples(wrong, probs, alpha=1e-4, mistakes=cf.sample_mistakes(W, b))


# --- 01: the chain rule --------------------------------------------------------------


def _forgets(function: str, n: int, k: int, third: int | None = None) -> int:
    """The count written with k entries per distribution: forgetting the k - 1."""
    if function == "count_chain_rule":
        return sum(k**i * k for i in range(n))
    if function == "count_independent":
        return n * k
    if function == "count_markov":
        return sum(k ** min(i, third) * k for i in range(n))
    return (third - 1) + third * n * k  # count_latent_variable


@pytest.mark.parametrize(
    ("function", "args"),
    [("count_chain_rule", (3, 2)), ("count_chain_rule", (4, 5)), ("count_independent", (3, 2)),
     ("count_markov", (5, 3, 2)), ("count_latent_variable", (4, 3, 5))],
)
def test_a_count_that_forgets_k_minus_1_is_named(function: str, args: tuple) -> None:
    expected = getattr(counting, function)(*args)
    mistakes = cr.count_mistakes(function, *args)
    check_count(expected, expected, function, mistakes=mistakes)
    with pytest.raises(CheckFailure, match="^K entries were counted per distribution"):
        check_count(_forgets(function, *args), expected, function, mistakes=mistakes)


def test_count_mistakes_of_the_other_counts() -> None:
    assert "not free" in cr.count_mistakes("count_joint_table", 3, 2)[8]
    assert "biases are missing" in cr.count_mistakes("count_fvsbn", 3)[3]
    assert "all n columns" in cr.count_mistakes("count_nade", 3, 2, True)[17]
    assert "c is missing" in cr.count_mistakes("count_nade", 3, 2, True)[13]
    assert "its own c_i" in cr.count_mistakes("count_nade", 3, 2, False)[17]
    assert "as if k = 2" in cr.count_mistakes("count_independent", 4, 3)[4]
    assert "min(i, m)" in cr.count_mistakes("count_markov", 4, 2, 2)[16]
    assert "|h| - 1" in cr.count_mistakes("count_latent_variable", 3, 2, 2)[8]
    with pytest.raises(ValueError):
        cr.count_mistakes("count_unknown", 3)


def _conditionals(joint: np.ndarray, bug: str = "") -> list[np.ndarray]:
    n, k = joint.ndim, joint.shape[0]
    out = []
    for i in range(n):
        marginal = joint.sum(axis=tuple(range(i + 1, n)))
        axis = 0 if bug == "axis" else -1
        prefix = marginal.sum(axis=axis, keepdims=True)
        if bug == "not divided" and i > 0:
            out.append(marginal)
        elif bug == "nan":
            out.append(marginal / prefix)
        else:
            safe = np.where(prefix > 0, prefix, 1.0)
            out.append(np.where(prefix > 0, marginal / safe, 0.0 if bug == "zero" else 1 / k))
    return out


@pytest.mark.parametrize(
    ("bug", "start"),
    [("axis", "conds[1] is normalized over the wrong axis"),
     ("not divided", "conds[1] is the joint p(x_0, ..., x_1), not divided"),
     ("nan", "conds[1] is NaN where p(x_<1) = 0"), ("zero", "conds[1] is 0 where p(x_<1) = 0")],
)
def test_conditionals_mistakes_are_named(bug: str, start: str) -> None:
    joint = np.random.default_rng(0).dirichlet(np.ones(27)).reshape(3, 3, 3)
    joint[1] = 0.0
    joint /= joint.sum()
    assert cr.explain_conditionals(_conditionals(joint), joint) is None
    with np.errstate(all="ignore"):
        wrong = _conditionals(joint, bug)
    assert cr.explain_conditionals(wrong, joint).startswith(start)
    assert cr.explain_conditionals(wrong[:2], joint) is None
    with pytest.raises(CheckFailure) as info:
        assert_close(wrong[1], _conditionals(joint)[1], "conds[1]",
                     mistakes=cr.conditionals_mistakes(joint)[1])
    assert str(info.value).startswith(start)


def _ancestral(conds, num: int, rng, bug: str = "") -> np.ndarray:
    samples = np.zeros((num, len(conds)), dtype=np.int64)
    for i, cond in enumerate(conds):
        probs = np.asarray(cond)[tuple(samples[:, :i].T)]
        below = np.cumsum(probs, axis=-1)[..., :-1]
        u = rng.random((num, 1))
        samples[:, i] = (u < below).sum(axis=-1) if bug == "wrong way" else (u >= below).sum(-1)
    return samples


@pytest.mark.parametrize("k", [2, 3])
def test_an_ancestral_sampler_with_the_comparison_the_wrong_way_round_is_named(k: int) -> None:
    rng = np.random.default_rng(1)
    conds = [rng.dirichlet(np.ones(k), size=(k,) * i) for i in range(3)]
    joint = conds[0][:, None, None] * conds[1][:, :, None] * conds[2]
    probs = joint.ravel()
    right = _ancestral(conds, 20000, np.random.default_rng(2))
    check_samples(right, probs, num_values=k, alpha=1e-4, mistakes=cr.sample_mistakes(conds))
    wrong = _ancestral(conds, 20000, np.random.default_rng(2), "wrong way")
    with pytest.raises(CheckFailure, match="^The comparison is the wrong way round"):
        check_samples(wrong, probs, num_values=k, alpha=1e-4, mistakes=cr.sample_mistakes(conds))
    assert len(list(itertools.product(range(k), repeat=3))) == probs.size


# --- 03: NADE ------------------------------------------------------------------------


def _nade_logits(x, W, c, V, b, bug: str = "") -> np.ndarray:
    batch, n = x.shape
    a = np.zeros((batch, W.shape[0])) if bug == "no c" else np.tile(c, (batch, 1))
    z = np.empty((batch, n))
    for i in range(n):
        if bug == "order":
            a = a + np.outer(x[:, i], W[:, i])
        h = a if bug == "no sigmoid" else sigmoid(a)
        z[:, i] = h @ V[i] + b[i]
        if bug != "order":
            a = a + np.outer(x[:, i], W[:, i])
    return z


@pytest.mark.parametrize(
    ("bug", "start"),
    [("order", "h_i sees x_i"), ("no c", "c is missing"), ("no sigmoid", "h_i has no sigmoid")],
)
def test_nade_mistakes_are_named_in_logits_probabilities_and_log_prob(bug: str, start: str) -> None:
    params = cn.random_nade_params(6, 4, seed=0)
    x = _binary(5, 6, 1)
    expected = cn.nade_from_numpy(*params).logits(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(_nade_logits(x, *params), expected, rtol=1e-12)
    wrong = _nade_logits(x, *params, bug)
    with pytest.raises(CheckFailure, match=f"^{start}"):
        assert_close(wrong, expected, "nade_logits", mistakes=cn.nade_mistakes(x, *params))
    with pytest.raises(CheckFailure, match=f"^{start}"):
        assert_close(sigmoid(wrong), sigmoid(expected), "nade_conditionals",
                     mistakes=cn.nade_mistakes(x, *params, output="probs"))
    log_p = np.sum(x * wrong - np.logaddexp(0, wrong), axis=1)
    with pytest.raises(CheckFailure, match=f"^{start}"):
        check_log_prob(log_p, np.sum(x * expected - np.logaddexp(0, expected), axis=1), "lp",
                       num_dims=6, mistakes=cn.nade_mistakes(x, *params, output="log_prob"))


def test_the_nade_update_order_is_named_by_the_autoregressive_check() -> None:
    params = cn.random_nade_params(6, 4, seed=2)
    with pytest.raises(CheckFailure) as info:
        check_autoregressive(lambda s: sigmoid(_nade_logits(s, *params, "order")), 6,
                             hint="In NADE: compute z_i first.",
                             mistakes=lambda s: cn.nade_mistakes(s, *params, output="probs"))
    assert str(info.value).startswith(cn.SEES_X_I + " Not autoregressive")
    assert "logits, not probabilities" in next(
        iter(k for k in cn.nade_mistakes(_binary(2, 6, 0), *params, output="probs")
             if "logits" in k))
    with pytest.raises(ValueError):
        cn.nade_mistakes(_binary(2, 6, 0), *params, output="samples")
