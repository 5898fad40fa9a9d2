"""The stored cases of 01's and 02's visible tests: current, finite, and naming mistakes.

Students receive the course without ``course.checks.chain_rule`` and ``course.checks.fvsbn``,
so the visible tests compare with values stored at release time
(``course/expected/01-chain-rule.json``, ``02-fvsbn.json``). Each check here runs the stored
values the way the visible test cell does: the right answer passes, a planted mistake fails
with its name first.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from course.checks import CheckFailure, assert_close, check_count, find_mistake
from course.checks import chain_rule as cr
from course.checks import fvsbn as cf
from course.checks.inputs import random_params
from course.checks.stand_ins import passes_its_test
from course.expected import EXPECTED_DIR, decode, dumps, load_expected, same_values
from course.models import counting

MODULES = {"01-chain-rule": cr, "02-fvsbn": cf}


@pytest.mark.parametrize("assignment", list(MODULES))
def test_the_stored_cases_are_what_visible_cases_gives_now(assignment: str) -> None:
    fresh = json.loads(dumps(MODULES[assignment].visible_cases()))
    stored = json.loads((EXPECTED_DIR / f"{assignment}.json").read_text(encoding="utf-8"))
    assert same_values(fresh, stored), (
        f"course/expected/{assignment}.json is stale: run python -m autograder release")
    assert len(json.dumps(stored)) < 25_000, "keep the stored cases small"


# --- 01 ----------------------------------------------------------------------------------


def test_every_stored_count_passes_and_every_stored_mistake_is_named() -> None:
    counts = load_expected("01-chain-rule")["counts"]
    assert set(counts) == {cr.count_call(f, a) for f, a in cr.VISIBLE_COUNTS}
    named = 0
    for call, case in counts.items():
        mistakes = dict(case["mistakes"])  # as the visible test passes them
        assert all(isinstance(v, int) for v in mistakes), call
        check_count(case["expected"], case["expected"], call, mistakes=mistakes)
        for value, why in mistakes.items():
            if value == case["expected"]:
                continue
            with pytest.raises(CheckFailure) as info:
                check_count(value, case["expected"], call, mistakes=mistakes)
            assert str(info.value).startswith(why[0].upper() + why[1:]), str(info.value)
            named += 1
    assert named >= 30
    assert counts["count_nade(3, 2, tied=True)"]["expected"] == counting.count_nade(3, 2, True)


def test_the_stored_conditionals_name_a_wrong_axis_and_a_missing_division() -> None:
    case = load_expected("01-chain-rule")["conditionals"]
    joint = case["joint"]
    right = cr.reference_conditionals(joint)
    for got, expected, mistakes in zip(right, case["expected"], case["mistakes"], strict=True):
        assert find_mistake(got, mistakes, rtol=1e-6, atol=1e-9) is None
        assert_close(got, expected, "conds", rtol=1e-9, atol=1e-12)
    marginal = joint.sum(axis=2)
    wrong_axis = marginal / marginal.sum(axis=0, keepdims=True)
    assert find_mistake(wrong_axis, case["mistakes"][1]).startswith(
        "conds[1] is normalized over the wrong axis")
    assert find_mistake(marginal, case["mistakes"][1]).startswith(
        "conds[1] is the joint p(x_0, ..., x_1), not divided")


@pytest.mark.parametrize("name", ["sample_binary", "sample_categorical"])
def test_the_stored_sampling_cases_are_normalized_with_the_mistakes_they_name(name: str) -> None:
    case = load_expected("01-chain-rule")[name]
    probs = cr.reference_joint(case["conds"]).ravel()
    np.testing.assert_allclose(case["probs"], probs, rtol=1e-15)
    assert case["probs"].sum() == pytest.approx(1.0)
    assert case["mistakes"].keys() == cr.sample_mistakes(case["conds"]).keys()


# --- 02 ----------------------------------------------------------------------------------


def test_random_params_is_dense_seeded_and_exact_in_float32() -> None:
    W, b = random_params(6, seed=4, scale=3.0)
    assert W.shape == (6, 6) and b.shape == (6,) and W.dtype == np.float64
    assert np.count_nonzero(np.triu(W)) == 21  # dense: the mask is the student's job
    np.testing.assert_array_equal(W, W.astype(np.float32))
    np.testing.assert_array_equal(b, b.astype(np.float32))
    W2, b2 = random_params(6, seed=4, scale=3.0)
    assert np.array_equal(W, W2) and np.array_equal(b, b2)
    assert not np.array_equal(W, random_params(6, seed=5, scale=3.0)[0])


@pytest.mark.parametrize(
    ("bug", "start"),
    [(lambda x, W, b: x @ np.tril(W, k=-1) + b, "W is used transposed"),
     (lambda x, W, b: x @ W.T + b, "W is not masked"),
     (lambda x, W, b: x @ np.tril(W, k=-1).T, "The bias b is missing")],
)
def test_the_stored_logits_name_the_planted_mistake(bug, start: str) -> None:
    case = load_expected("02-fvsbn")["logits"]
    x, W, b = case["x"], case["W"], case["b"]
    assert_close(x @ np.tril(W, k=-1).T + b, case["expected"], "fvsbn_logits", rtol=1e-9,
                 atol=1e-9, mistakes=case["mistakes"])
    with pytest.raises(CheckFailure, match=f"^{start}"):
        assert_close(bug(x, W, b), case["expected"], "fvsbn_logits", rtol=1e-9, atol=1e-9,
                     mistakes=case["mistakes"])


def _visible_nll_and_grads_check(case: dict, result: tuple) -> None:
    """The comparison of the visible test cell test_grads_values."""
    nll, dW, db = result
    for name, got, rtol, atol in [("mean_nll", nll, 1e-9, 1e-9), ("db", db, 1e-7, 1e-12),
                                  ("dW below the diagonal", np.tril(dW, k=-1), 1e-7, 1e-12)]:
        assert_close(got, case[name]["expected"], name, rtol=rtol, atol=atol,
                     hint=case[name]["hint"], mistakes=case[name]["mistakes"])


@pytest.mark.parametrize(("scale", "start"), [(1.0, None), (4.0, "db is B = 4 times too large"),
                                              (-1.0, "db has the wrong sign")])
def test_the_stored_gradients_pass_the_right_ones_and_name_a_planted_mistake(
        scale: float, start: str | None) -> None:
    case = load_expected("02-fvsbn")["nll_and_grads"]
    x, W, b = case["x"], case["W"], case["b"]
    z = x @ np.tril(W, k=-1).T + b
    nll = float(np.mean(np.sum(np.logaddexp(0.0, z) - x * z, axis=1)))
    dz = scale * (1 / (1 + np.exp(-z)) - x) / len(x)
    result = (nll, np.tril(dz.T @ x, k=-1), dz.sum(axis=0))
    np.testing.assert_allclose(case["logits"], z, rtol=1e-12)
    if start is None:
        _visible_nll_and_grads_check(case, result)
    else:
        with pytest.raises(CheckFailure, match=f"^{start}"):
            _visible_nll_and_grads_check(case, result)


def _adam_step(param, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, correct=True):
    if not state:
        state.update(m=np.zeros_like(param), v=np.zeros_like(param), t=0)
    state["t"] += 1
    state["m"] = beta1 * state["m"] + (1 - beta1) * grad
    state["v"] = beta2 * state["v"] + (1 - beta2) * grad**2
    m, v = state["m"], state["v"]
    if correct:
        m, v = m / (1 - beta1 ** state["t"]), v / (1 - beta2 ** state["t"])
    return param - lr * m / (np.sqrt(v) + eps)


def _visible_adam_check(case: dict, adam_step) -> None:
    """The comparison of the visible test cell test_adam."""
    params, state = case["start"].copy(), {}
    for t, (g, expected) in enumerate(zip(case["grads"], case["steps"], strict=True), start=1):
        params = np.array(adam_step(params, g.copy(), state, lr=case["lr"]), dtype=np.float64)
        assert_close(params, expected, f"parameter after Adam step {t}", rtol=1e-6, atol=1e-4,
                     hint=case["hint"],
                     mistakes={why: after[t - 1] for why, after in case["mistakes"].items()})


def test_the_stored_adam_steps_are_torchs_and_name_a_missing_bias_correction() -> None:
    case = load_expected("02-fvsbn")["adam"]
    assert case["steps"].shape == (3, 3) and len(case["mistakes"]) >= 10
    _visible_adam_check(case, _adam_step)
    with pytest.raises(CheckFailure, match="^Adam without bias correction"):
        _visible_adam_check(case, lambda *a, **k: _adam_step(*a, **k, correct=False))


def test_the_stored_adam_mistakes_leave_out_only_the_ones_json_cannot_hold() -> None:
    fresh = cf.adam_case(np.array([1.0, -2.0, 0.5]),
                         [np.array([0.3, -4.0, 0.05]), np.array([-1.0, 0.5, 2.0]),
                          np.array([0.3, -4.0, 0.05])], lr=0.1)
    stored = load_expected("02-fvsbn")["adam"]["mistakes"]
    left_out = {why for why, after in fresh["mistakes"].items()
                if not np.isfinite(after).all()}
    assert left_out and set(stored) == set(fresh["mistakes"]) - left_out


def test_the_stored_sampling_case_is_the_reference_distribution() -> None:
    case = load_expected("02-fvsbn")["sample"]
    W, b = case["W"], case["b"]
    assert W[0, 3] == W[1, 1] == -50.0 and W[3, 0] == 50.0
    probs = np.exp(cf.reference_log_prob(cf.all_binary_states(4), W, b))
    np.testing.assert_allclose(case["probs"], probs, rtol=1e-12)
    assert case["mistakes"].keys() == cf.sample_mistakes(W, b).keys()


def test_the_stored_values_decode_as_arrays() -> None:
    cases = load_expected("02-fvsbn")
    assert isinstance(cases["log_prob"]["expected"], np.ndarray)
    assert cases["log_prob"]["expected"].shape == (16,)
    assert decode(json.loads(json.dumps([[1, "a"]]))) == [[1, "a"]]  # count mistakes' pairs


# --- passes_its_test -----------------------------------------------------------------------


def test_passes_its_test_is_quiet_when_the_function_is_right(capsys) -> None:
    assert passes_its_test("fvsbn_logits", np.ones((2, 3)), np.ones((2, 3)))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("got", [np.zeros((2, 3)), np.ones((3, 2)), None, "abc",
                                 np.full((2, 3), np.nan)])
def test_passes_its_test_says_which_function_to_fix_first(got, capsys) -> None:
    assert not passes_its_test("fvsbn_logits", got, np.ones((2, 3)))
    out = capsys.readouterr().out
    assert out.startswith("Skipped: this test calls your fvsbn_logits")
    assert "Fix fvsbn_logits first" in out
