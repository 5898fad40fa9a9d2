"""Named mistakes: each one is recognized and named first; a correct value passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course import checks
from course.checks import CheckFailure

EXPECTED = np.array([[1.0, 2.0], [3.0, 4.0]])
MISTAKES = {
    "X is transposed: read rows, not columns.": EXPECTED.T,
    "X is summed over the batch: average it.": 10 * EXPECTED,
    "X has one value per row: keep both columns.": EXPECTED.sum(axis=1),
}


def test_assert_close_passes_the_right_value_whatever_the_mistakes() -> None:
    checks.assert_close(EXPECTED + 1e-12, EXPECTED, "X", mistakes=MISTAKES)
    checks.assert_close(torch.tensor(EXPECTED), EXPECTED, "X", mistakes=MISTAKES)


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_assert_close_names_the_matching_mistake_first(mistake: str) -> None:
    with pytest.raises(CheckFailure) as info:
        checks.assert_close(MISTAKES[mistake], EXPECTED, "X", hint="generic", mistakes=MISTAKES)
    message = str(info.value)
    assert message.startswith(mistake)
    assert "X" in message[len(mistake):] and "generic" not in message


def test_assert_close_names_a_float32_mistake_and_falls_back_otherwise() -> None:
    with pytest.raises(CheckFailure, match="^X is transposed"):
        checks.assert_close(EXPECTED.T.astype(np.float32) * (1 + 1e-7), EXPECTED, "X",
                            rtol=1e-9, atol=0, mistakes=MISTAKES)
    with pytest.raises(CheckFailure, match=r"^X differs from the reference at index \[0, 0\]"):
        checks.assert_close(EXPECTED + 1.0, EXPECTED, "X", hint="generic", mistakes=MISTAKES)
    with pytest.raises(CheckFailure, match="^X has shape"):
        checks.assert_close(np.zeros(3), EXPECTED, "X", mistakes=MISTAKES)


def test_a_mistake_that_changes_nothing_here_is_not_named() -> None:
    symmetric = np.array([[1.0, 2.0], [2.0, 1.0]])
    got = symmetric + 0.5
    assert checks.find_mistake(got, {"transposed": symmetric.T, "shifted": got},
                               expected=symmetric) == "shifted"
    assert checks.find_mistake(symmetric, {"transposed": symmetric.T}, expected=symmetric) is None
    assert checks.find_mistake(got, {"n/a": None, "shifted": got}) == "shifted"


def test_find_mistake_matches_nan_where_the_mistake_gives_nan() -> None:
    with_nan = np.array([0.5, np.nan])
    assert checks.find_mistake(with_nan.copy(), {"0 / 0": with_nan}) == "0 / 0"
    with pytest.raises(CheckFailure, match=r"^0 / 0"):
        checks.assert_close(with_nan.copy(), np.array([0.5, 0.5]), "p",
                            mistakes={"0 / 0": with_nan})


def test_check_count_puts_the_named_mistake_first() -> None:
    with pytest.raises(CheckFailure) as info:
        checks.check_count(14, 7, "count_chain_rule(3, 2)", hint="h", mistakes={14: "k entries"})
    assert str(info.value).startswith("K entries (count_chain_rule(3, 2) returned 14, expected 7")


def test_check_autoregressive_uses_the_given_hint_and_names_the_mistake() -> None:
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 4))

    def transposed(x: np.ndarray) -> np.ndarray:
        return x @ np.tril(W, k=-1)

    with pytest.raises(CheckFailure) as info:
        checks.check_autoregressive(transposed, 4, hint="In NADE: look at a.")
    assert "In NADE: look at a." in str(info.value) and "Check the mask" not in str(info.value)
    with pytest.raises(CheckFailure) as info:
        checks.check_autoregressive(
            transposed, 4, mistakes=lambda x: {"W is transposed.": x @ np.tril(W, k=-1),
                                               "W is unmasked.": x @ W.T})
    message = str(info.value)
    assert message.startswith("W is transposed. Not autoregressive: output 0 depends on input")
    checks.check_autoregressive(lambda x: x @ np.tril(W, k=-1).T, 4,
                                mistakes=lambda x: {"W is transposed.": x @ np.tril(W, k=-1)})


def _probs(samples: np.ndarray) -> np.ndarray:
    return np.bincount(samples @ np.array([2, 1]), minlength=4) / len(samples)


def test_check_samples_names_the_distribution_the_samples_follow() -> None:
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    rng = np.random.default_rng(0)
    codes = rng.choice(4, size=5000, p=probs[::-1])
    samples = np.stack([codes // 2, codes % 2], axis=1)
    with pytest.raises(CheckFailure, match="^Reversed: x = 1 - x"):
        checks.check_samples(samples, probs, mistakes={"Uniform.": np.full(4, 0.25),
                                                       "Reversed: x = 1 - x.": probs[::-1]})
    with pytest.raises(CheckFailure, match="do not follow the model's distribution"):
        checks.check_samples(samples, probs, mistakes={"Uniform.": np.full(4, 0.25)})
    right = rng.choice(4, size=5000, p=probs)
    assert checks.check_samples(np.stack([right // 2, right % 2], axis=1), probs,
                                mistakes={"Reversed.": probs[::-1]}) > 1e-3


def test_check_uses_generator_accepts_a_sampler_that_draws_from_it() -> None:
    checks.check_uses_generator(lambda rng: rng.random(5) < 0.5, np.random.default_rng)
    checks.check_uses_generator(lambda g: torch.rand(5, generator=g) < 0.5,
                                lambda seed: torch.Generator().manual_seed(seed))


def test_check_uses_generator_names_a_sampler_that_ignores_it() -> None:
    with pytest.raises(CheckFailure, match="ignores the random generator"):
        checks.check_uses_generator(lambda rng: np.random.random(20) < 0.5,  # noqa: NPY002
                                    np.random.default_rng, "fvsbn_sample")

    def seeds_itself(rng: np.random.Generator) -> np.ndarray:
        return np.random.default_rng(0).random(20) < 0.5

    with pytest.raises(CheckFailure, match="does not depend on the random generator"):
        checks.check_uses_generator(seeds_itself, np.random.default_rng)
    with pytest.raises(CheckFailure, match="ignores the random generator"):
        checks.check_uses_generator(lambda g: torch.rand(20) < 0.5,
                                    lambda seed: torch.Generator().manual_seed(seed))


def test_standing_in_swaps_and_restores_names() -> None:
    namespace = {"logits": "student's", "other": 1}
    with checks.standing_in(namespace, logits="reference", missing="reference"):
        assert namespace["logits"] == "reference" and namespace["missing"] == "reference"
    assert namespace == {"logits": "student's", "other": 1}
    with pytest.raises(CheckFailure), checks.standing_in(namespace, logits="reference"):
        raise CheckFailure("a failing test")
    assert namespace["logits"] == "student's"


def test_standing_in_reaches_a_function_through_its_globals() -> None:
    namespace: dict = {}
    exec("def logits(x):\n    return x + 1\n\ndef log_prob(x):\n    return logits(x) * 2\n",
         namespace)
    assert namespace["log_prob"](1) == 4
    with checks.standing_in(namespace, logits=lambda x: x):
        assert namespace["log_prob"](1) == 2
    assert namespace["log_prob"](1) == 4


def test_check_samples_names_one_draw_shared_by_every_sample() -> None:
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    with pytest.raises(CheckFailure, match="^Every sample is the same state, \\[1, 0\\]"):
        checks.check_samples(np.tile([1, 0], (100, 1)), probs)
