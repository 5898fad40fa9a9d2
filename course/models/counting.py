"""Reference parameter counts for factorizations of a joint over n discrete variables.

All counts are numbers of *free* parameters, with exact integer arithmetic (Python
ints, so k**n does not overflow). Conventions, stated once for students and tests:

- A categorical over k values has k - 1 free parameters (the last is one minus the
  others).
- Chain rule with tables: p(x) = prod_i p(x_i | x_<i) (Bengio & Bengio, 2000; Larochelle
  & Murray, 2011, eq. 1); the i-th table (1-based) has k**(i-1) rows of k - 1 free
  entries, so the total telescopes to k**n - 1, the same as the full joint table.
- FVSBN (Frey et al., 1996; Gan et al., 2015): binary variables,
  p(x_i = 1 | x_<i) = sigmoid(b_i + sum_{j<i} W_ij x_j): i parameters for the i-th.
- NADE (Larochelle & Murray, 2011, eqs. 2-3), binary, d hidden units:
  h_i = sigmoid(W[:, <i] x_<i + c), p(x_i = 1 | x_<i) = sigmoid(V_i . h_i + b_i).
  Tied: W is d x n, but its last column is never read (x_n is nobody's input), so the
  parameters that influence p(x) are d(n - 1) + d (c) + nd (V) + n (b) = n(2d + 1).
  Untied: the i-th conditional has its own A_i (d x (i - 1)), c_i (d), V_i (d) and
  b_i (1): d n(n - 1)/2 + 2dn + n.
- Latent-variable model with |h| latent states: a mixture of fully factorized
  distributions, p(x) = sum_h p(h) prod_i p(x_i | h): (|h| - 1) + |h| n (k - 1).

The student-facing check of a count (exact value *and* Python int) is
:func:`course.checks.check_count`; :func:`course.checks.format_count` prints one.
"""

from __future__ import annotations

__all__ = [
    "count_chain_rule",
    "count_fvsbn",
    "count_independent",
    "count_joint_table",
    "count_latent_variable",
    "count_markov",
    "count_nade",
]


def _check(**values: int) -> None:
    minimum = {"n": 1, "k": 2, "m": 0, "d": 1, "num_latent_states": 1}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{key} must be an int, got {value!r}")
        if value < minimum[key]:
            raise ValueError(f"{key} must be at least {minimum[key]}, got {value}")


def count_joint_table(n: int, k: int = 2) -> int:
    """Free parameters of a full probability table over n variables with k values."""
    _check(n=n, k=k)
    return k**n - 1


def count_chain_rule(n: int, k: int = 2) -> int:
    """Free parameters of the chain rule with a full table per conditional (= joint)."""
    _check(n=n, k=k)
    return sum(k ** (i - 1) * (k - 1) for i in range(1, n + 1))


def count_independent(n: int, k: int = 2) -> int:
    """Free parameters when all n variables are independent: n (k - 1)."""
    _check(n=n, k=k)
    return n * (k - 1)


def count_markov(n: int, k: int = 2, m: int = 1) -> int:
    """Free parameters of an order-m Markov chain: x_i depends on the m previous values.

    The first variables have fewer than m predecessors; with m >= n - 1 the chain is the
    full chain rule, and m = 0 is full independence.
    """
    _check(n=n, k=k, m=m)
    return sum(k ** min(i - 1, m) * (k - 1) for i in range(1, n + 1))


def count_fvsbn(n: int) -> int:
    """Free parameters of an FVSBN over n binary variables: n(n + 1) / 2."""
    _check(n=n)
    return n * (n + 1) // 2


def count_nade(n: int, d: int, tied: bool = True) -> int:
    """Free parameters of a binary NADE with d hidden units, tied or untied."""
    _check(n=n, d=d)
    if tied:
        return n * (2 * d + 1)
    return d * n * (n - 1) // 2 + 2 * d * n + n


def count_latent_variable(n: int, k: int = 2, num_latent_states: int = 2) -> int:
    """Free parameters of a mixture of |h| fully factorized distributions."""
    _check(n=n, k=k, num_latent_states=num_latent_states)
    return (num_latent_states - 1) + num_latent_states * n * (k - 1)
