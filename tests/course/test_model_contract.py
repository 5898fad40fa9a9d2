"""The one contract every registered model family keeps (course.models.base).

For each family of ``course.models.REGISTRY``, on a small example with random weights
(n variables, K values, all K**n states enumerated):

- exp(log_prob) over all states sums to 1 (log_prob is a distribution, in nats);
- the logits are autoregressive in the model's own ordering;
- samples pass a chi-square test against the exact probabilities;
- a seeded generator decides the samples (same seed, same samples; another, others);
- completion (``sample(..., condition=...)``) with the first variables of the ordering
  known matches the exact conditional distribution of the others.

A new family gets these tests by registering (``course.models.base.register``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course.checks import (
    CheckFailure,
    all_states,
    check_autoregressive,
    check_distribution,
    check_samples,
)
from course.models import REGISTRY, AutoregressiveModel

FAMILIES = sorted(REGISTRY)
NUM_SAMPLES = 20_000


def _example(name: str, seed: int = 0) -> tuple[AutoregressiveModel, int]:
    family = REGISTRY[name]
    n = min(4, family.max_n)
    model = family.example(n, seed).double().eval()
    assert isinstance(model, family.cls) and model.n == n
    return model, n


def _states(n: int, k: int) -> np.ndarray:
    return all_states(n, k).astype(np.float64)


def _probs(model: AutoregressiveModel, n: int) -> np.ndarray:
    with torch.no_grad():
        return check_distribution(
            lambda s: model.log_prob(torch.as_tensor(s, dtype=torch.float64)).numpy(),
            n, num_values=model.num_values, atol=1e-9,
        )


def test_every_family_is_registered_once_with_a_paper() -> None:
    assert {"fvsbn", "nade", "nade-categorical", "nade-untied", "made"} <= set(REGISTRY)
    for name, family in REGISTRY.items():
        assert family.name == name and family.paper
        assert issubclass(family.cls, AutoregressiveModel)


@pytest.mark.parametrize("name", FAMILIES)
def test_log_prob_is_a_normalized_distribution(name: str) -> None:
    model, n = _example(name)
    probs = _probs(model, n)
    # an example whose states are all (nearly) equally likely would hide sampling bugs,
    # one that puts all its mass on a few states would starve the chi-square test
    assert probs.max() > 2 * probs.min(), f"{name}'s example is too close to uniform"
    assert (probs > 0.01).sum() >= len(probs) // 3, f"{name}'s example is too peaked"


@pytest.mark.parametrize("name", FAMILIES)
def test_logits_are_autoregressive_in_the_models_ordering(name: str) -> None:
    model, n = _example(name)
    depends = check_autoregressive(model, n, order=model.ordering())
    position = np.argsort(model.ordering())
    last = int(np.argmax(position))
    # the last variable of the ordering depends on at least one earlier one
    assert depends[last].any(), f"{name}: the last conditional ignores every input"


@pytest.mark.parametrize("name", FAMILIES)
def test_samples_follow_the_exact_distribution(name: str) -> None:
    model, n = _example(name)
    probs = _probs(model, n)
    samples = model.sample(NUM_SAMPLES, generator=torch.Generator().manual_seed(1))
    assert samples.shape == (NUM_SAMPLES, n)
    check_samples(samples.numpy(), probs, num_values=model.num_values, alpha=1e-4,
                  name=f"{name} samples")


@pytest.mark.parametrize("name", FAMILIES)
def test_a_broken_sampler_fails_the_same_test(name: str) -> None:
    """The chi-square test has power on these examples: shuffling each column of the
    samples keeps every marginal but breaks the dependencies, and must be caught."""
    model, n = _example(name)
    probs = _probs(model, n)
    samples = model.sample(NUM_SAMPLES, generator=torch.Generator().manual_seed(2)).numpy()
    rng = np.random.default_rng(0)
    shuffled = np.stack([rng.permutation(col) for col in samples.T], axis=1)
    with pytest.raises(CheckFailure, match="do not follow"):
        check_samples(shuffled, probs, num_values=model.num_values, alpha=1e-4)


@pytest.mark.parametrize("name", FAMILIES)
def test_the_generator_decides_the_samples(name: str) -> None:
    model, _ = _example(name)
    first = model.sample(200, generator=torch.Generator().manual_seed(5))
    again = model.sample(200, generator=torch.Generator().manual_seed(5))
    other = model.sample(200, generator=torch.Generator().manual_seed(6))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


@pytest.mark.parametrize("name", FAMILIES)
def test_completion_matches_the_exact_conditional(name: str) -> None:
    model, n = _example(name)
    k = model.num_values
    probs = _probs(model, n)
    order = model.ordering()
    known_vars = order[: n // 2]
    states = _states(n, k)
    # condition on the most probable value of the known prefix
    joint = probs.reshape((k,) * n)
    prefix_mass = joint.sum(axis=tuple(v for v in range(n) if v not in known_vars))
    best = np.unravel_index(int(np.argmax(prefix_mass)), prefix_mass.shape)
    given = dict(zip(sorted(known_vars), (int(v) for v in best), strict=True))
    condition = torch.full((n,), float("nan"), dtype=torch.float64)
    for var, value in given.items():
        condition[var] = value
    samples = model.sample(NUM_SAMPLES, generator=torch.Generator().manual_seed(3),
                           condition=condition).numpy()
    for var, value in given.items():
        assert (samples[:, var] == value).all(), f"{name}: known x_{var} was not kept"
    consistent = np.all([states[:, v] == val for v, val in given.items()], axis=0)
    conditional = np.where(consistent, probs, 0.0)
    check_samples(samples, conditional / conditional.sum(), num_values=k, alpha=1e-4,
                  name=f"{name} completions")
