"""Tests of course.models.ngram: counts, smoothing, normalization, scoring."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from course.models.ngram import NGramModel

TEXT = np.array([0, 1, 2, 0, 1, 2, 0, 1, 1, 2, 0, 2])  # V = 4: symbol 3 never occurs


@pytest.mark.parametrize("smoothing", ["add-one", "witten-bell"])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_every_conditional_sums_to_one(smoothing: str, order: int) -> None:
    model = NGramModel(order, 4, smoothing).fit(TEXT)
    for length in range(order):
        for context in itertools.product(range(4), repeat=length):
            p = model.conditional(context)
            assert p.shape == (4,) and (p > 0).all()
            assert p.sum() == pytest.approx(1.0, abs=1e-12), (context, p)


@pytest.mark.parametrize("smoothing", ["add-one", "witten-bell"])
def test_log_prob_of_all_sequences_of_length_three_sums_to_one(smoothing: str) -> None:
    """Scoring every symbol with the context it has makes a distribution over V^T."""
    model = NGramModel(2, 4, smoothing).fit(TEXT)
    total = sum(math.exp(model.log_prob(s)) for s in itertools.product(range(4), repeat=3))
    assert total == pytest.approx(1.0, abs=1e-12)


def test_add_one_matches_hand_counts() -> None:
    model = NGramModel(2, 4, "add-one").fit(TEXT)
    # after 1: 1 -> 2 three times, 1 -> 1 once; c(1 .) = 4
    assert model.conditional([1]).tolist() == pytest.approx([1 / 8, 2 / 8, 4 / 8, 1 / 8])
    unigram = NGramModel(1, 4, "add-one").fit(TEXT)
    assert unigram.conditional().tolist() == pytest.approx([5 / 16, 5 / 16, 5 / 16, 1 / 16])


def test_witten_bell_matches_hand_counts() -> None:
    model = NGramModel(2, 4, "witten-bell").fit(TEXT)
    # unigram: c = (4, 4, 4, 0) of N = 12, N1+ = 3: p(w) = (c(w) + 3 / 4) / 15
    p1 = (np.array([4, 4, 4, 0]) + 0.75) / 15
    assert model.conditional([]).tolist() == pytest.approx(p1.tolist())
    # after 1: c = (0, 1, 3, 0) of 4, N1+ = 2: p(w | 1) = (c + 2 p1(w)) / 6
    expected = (np.array([0, 1, 3, 0]) + 2 * p1) / 6
    assert model.conditional([1]).tolist() == pytest.approx(expected.tolist())
    # a context never seen (3) falls back to the unigram
    assert model.conditional([3]).tolist() == pytest.approx(p1.tolist())


def test_bits_per_symbol_and_orders_help_on_a_periodic_text() -> None:
    periodic = np.tile([0, 1, 2, 3], 200)
    bits = [NGramModel(k, 4).fit(periodic).bits_per_symbol(periodic) for k in (1, 2)]
    assert bits[0] == pytest.approx(2.0, abs=0.01)  # four symbols equally often
    assert bits[1] < 0.05  # the next symbol is determined by the last one


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="smoothing"):
        NGramModel(2, 4, "kneser-ney")
    with pytest.raises(ValueError, match="order"):
        NGramModel(0, 4)
    with pytest.raises(ValueError, match="ids must be in"):
        NGramModel(2, 4).fit([0, 4])
    with pytest.raises(RuntimeError, match="fit"):
        NGramModel(2, 4).log_prob([0, 1])
