"""MADE reference: degrees, masks, autoregressive for every ordering, ensembles as mixtures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course import checks
from course.models import MADE
from course.models.made import hidden_degrees, masks_from_degrees


def _double(model: MADE) -> MADE:
    torch.manual_seed(0)
    model = model.double()
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.normal_(0, 1)
            layer.bias.normal_(0, 1)
    return model


def test_masks_for_hand_computed_degrees() -> None:
    inputs = np.array([0, 1, 2])
    hidden = [np.array([0, 1, 1, 0])]
    first, output = masks_from_degrees(inputs, hidden)
    # hidden unit k sees input j when degree(k) >= degree(j)
    np.testing.assert_array_equal(first, [[1, 0, 0], [1, 1, 0], [1, 1, 0], [1, 0, 0]])
    # output i sees hidden unit k when degree(i) > degree(k)
    np.testing.assert_array_equal(output, [[0, 0, 0, 0], [1, 0, 0, 1], [1, 1, 1, 1]])


def test_hidden_degrees_stay_in_range_and_never_dead() -> None:
    rng = np.random.default_rng(0)
    inputs = np.arange(6)
    layers = hidden_degrees(6, [50, 50, 50], inputs, rng)
    previous = inputs
    for layer in layers:
        assert layer.min() >= previous.min() and layer.max() <= 6 - 2
        previous = layer
    masks = masks_from_degrees(inputs, layers)
    for mask in masks[:-1]:
        assert (mask.sum(axis=1) > 0).all(), "a hidden unit has no input"
    assert (masks[-1].sum(axis=0) > 0).all(), "a hidden unit reaches no output"
    with pytest.raises(ValueError, match="n >= 2"):
        hidden_degrees(1, [3], np.arange(1), rng)


@pytest.mark.parametrize("ordering", ["natural", "random", "agnostic"])
@pytest.mark.parametrize("hidden_sizes", [[8], [16, 16, 16]])
def test_every_mask_set_is_autoregressive_and_normalized(ordering, hidden_sizes) -> None:
    model = _double(MADE(5, hidden_sizes, num_masks=3, ordering=ordering, seed=1))
    for index in range(3):
        model.set_mask(index)
        checks.check_autoregressive(model, 5, order=model.order.tolist())
        checks.check_distribution(lambda s: model.log_prob(torch.as_tensor(s)), 5, atol=1e-10)


def test_orderings() -> None:
    natural = MADE(6, [10], ordering="natural")
    assert natural.order.tolist() == list(range(6))
    random = MADE(6, [10], num_masks=2, ordering="random", seed=3)
    first = random.order.tolist()
    random.next_mask()
    assert random.order.tolist() == first and sorted(first) == list(range(6))
    agnostic = MADE(6, [10], num_masks=4, ordering="agnostic", seed=3)
    orders = set()
    for _ in range(4):
        orders.add(tuple(agnostic.order.tolist()))
        agnostic.next_mask()
    assert len(orders) > 1
    assert agnostic.mask_index == 0, "next_mask cycles through num_masks sets"


def test_wrong_comparisons_break_the_property() -> None:
    """The classic off-by-one mistakes are caught by check_autoregressive."""
    model = _double(MADE(5, [12], seed=0))
    _, degrees = model.mask_set(0)
    inputs, hidden = degrees[0], degrees[1]
    model.layers[-1].set_mask((inputs[:, None] >= hidden[None, :]).astype(np.float32))
    with pytest.raises(checks.CheckFailure, match="depends on input"):
        checks.check_autoregressive(model, 5)


def test_ensemble_is_a_mixture_of_probabilities() -> None:
    model = _double(MADE(4, [10], num_masks=3, ordering="agnostic", seed=5))
    model.set_mask(1)
    states = torch.as_tensor(checks.all_binary_states(4))
    per_mask = []
    for index in range(3):
        model.set_mask(index)
        per_mask.append(model.log_prob(states).exp())
    model.set_mask(1)
    expected = torch.stack(per_mask).mean(0).log()
    ensemble = model.log_prob_ensemble(states)
    torch.testing.assert_close(ensemble, expected, rtol=0, atol=1e-12)
    assert ensemble.exp().sum().item() == pytest.approx(1.0, abs=1e-12)
    assert model.mask_index == 1, "the ensemble restores the current mask"
    assert ensemble.exp().sum().item() == pytest.approx(math.fsum(expected.exp().tolist()))


def test_masked_linear_rejects_wrong_mask_shape() -> None:
    model = MADE(4, [6])
    with pytest.raises(ValueError, match="shape"):
        model.layers[0].set_mask(np.ones((4, 4)))


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="ordering"):
        MADE(4, [6], ordering="backwards")
    with pytest.raises(ValueError, match="num_masks"):
        MADE(4, [6], num_masks=0)
