"""Parameter counts, checked against models built from their definitions."""

from __future__ import annotations

import itertools

import pytest
import torch

from course.models import counting


def _tables_count(n: int, k: int, parents: list[int]) -> int:
    """Count free entries of conditional tables; variable i has ``parents[i]`` parents."""
    return sum(k ** parents[i] * (k - 1) for i in range(n))


@pytest.mark.parametrize("n,k", [(1, 2), (3, 2), (4, 3), (5, 7)])
def test_joint_chain_rule_and_independence(n: int, k: int) -> None:
    assert counting.count_joint_table(n, k) == k**n - 1
    assert counting.count_chain_rule(n, k) == _tables_count(n, k, list(range(n)))
    assert counting.count_chain_rule(n, k) == counting.count_joint_table(n, k)
    assert counting.count_independent(n, k) == _tables_count(n, k, [0] * n)


@pytest.mark.parametrize("n,k,m", list(itertools.product([1, 2, 5], [2, 3], [0, 1, 2, 4, 9])))
def test_markov_counts_tables_of_min_m_parents(n: int, k: int, m: int) -> None:
    expected = _tables_count(n, k, [min(i, m) for i in range(n)])
    assert counting.count_markov(n, k, m) == expected
    if m >= n - 1:
        assert counting.count_markov(n, k, m) == counting.count_joint_table(n, k)
    if m == 0:
        assert counting.count_markov(n, k, m) == counting.count_independent(n, k)


def test_exact_integers_for_large_n() -> None:
    big = counting.count_joint_table(784, 2)
    assert isinstance(big, int) and len(str(big)) == 237
    assert counting.count_fvsbn(784) == 307_720


def test_fvsbn_count_equals_unmasked_parameters_of_reference() -> None:
    from course.models import FVSBN

    model = FVSBN(10)
    assert counting.count_fvsbn(10) == int(model.mask.sum().item()) + model.bias.numel()


def _nade_influential_parameters(n: int, d: int, tied: bool) -> int:
    """Build a binary NADE from its definition and count parameters that get a gradient."""
    torch.manual_seed(0)
    if tied:
        params = {
            "W": torch.randn(d, n),
            "c": torch.randn(d),
            "V": torch.randn(n, d),
            "b": torch.randn(n),
        }
    else:
        params = {f"A{i}": torch.randn(d, i) for i in range(n)}
        params |= {f"c{i}": torch.randn(d) for i in range(n)}
        params |= {f"V{i}": torch.randn(d) for i in range(n)}
        params["b"] = torch.randn(n)
    for p in params.values():
        p.requires_grad_(True)
    x = (torch.rand(64, n) < 0.5).float()
    total = torch.zeros(())
    for i in range(n):
        if tied:
            h = torch.sigmoid(x[:, :i] @ params["W"][:, :i].T + params["c"])
            logit = h @ params["V"][i] + params["b"][i]
        else:
            h = torch.sigmoid(x[:, :i] @ params[f"A{i}"].T + params[f"c{i}"])
            logit = h @ params[f"V{i}"] + params["b"][i]
        total = total + (x[:, i] * logit - torch.nn.functional.softplus(logit)).sum()
    total.backward()
    return sum(int((p.grad != 0).sum()) for p in params.values() if p.grad is not None)


@pytest.mark.parametrize("n,d", [(1, 1), (4, 3), (6, 5)])
@pytest.mark.parametrize("tied", [True, False])
def test_nade_count_equals_parameters_that_influence_p(n: int, d: int, tied: bool) -> None:
    assert counting.count_nade(n, d, tied=tied) == _nade_influential_parameters(n, d, tied)


def test_latent_variable_mixture() -> None:
    # 3 states: 2 free mixture weights + 3 components of 4 Bernoullis
    assert counting.count_latent_variable(4, 2, 3) == 2 + 3 * 4
    assert counting.count_latent_variable(2, 5, 1) == counting.count_independent(2, 5)


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda: counting.count_joint_table(0, 2), ValueError),
        (lambda: counting.count_joint_table(3, 1), ValueError),
        (lambda: counting.count_markov(3, 2, -1), ValueError),
        (lambda: counting.count_nade(3, 0), ValueError),
        (lambda: counting.count_fvsbn(2.0), TypeError),
        (lambda: counting.count_independent(True, 2), TypeError),
    ],
)
def test_invalid_arguments_raise(call, error) -> None:
    with pytest.raises(error):
        call()
