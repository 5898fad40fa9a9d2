"""Character n-gram baselines: the Markov chain of order m = order - 1 of topic 01.

p(x_t | x_<t) ~ p(x_t | x_{t-m}, ..., x_{t-1}), estimated by counting in a training text
(Shannon, 1948; Jurafsky & Martin, "Speech and Language Processing", ch. 3). Unseen
events need smoothing:

- ``"add-one"`` (Laplace): p(w | h) = (c(h w) + 1) / (c(h) + V);
- ``"witten-bell"`` (Witten & Bell, 1991; interpolated, as in Chen & Goodman, 1999,
  "An empirical study of smoothing techniques for language modeling")::

      p(w | h) = (c(h w) + N1+(h .) p(w | h')) / (c(h) + N1+(h .))

  where N1+(h .) is the number of distinct symbols seen after h and h' drops the oldest
  symbol of h; below order 1 the distribution is uniform, 1 / V. A context never seen
  falls back to p(w | h').

The first m symbols of a text, which have fewer than m predecessors, are scored with the
context they have, so every symbol is scored, as a recurrent model does. Counts are kept
sparse (sorted integer keys), so any order whose V^order fits in 63 bits works.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["SMOOTHINGS", "NGramModel"]

SMOOTHINGS = ("add-one", "witten-bell")


def _windows(ids: np.ndarray, k: int, base: int) -> np.ndarray:
    """Key sum_j ids[t - k + 1 + j] base^(k-1-j) of every window of k symbols ending at t."""
    keys = np.zeros(len(ids) - k + 1, dtype=np.int64)
    for j in range(k):
        keys = keys * base + ids[j : len(ids) - k + 1 + j]
    return keys


def _lookup(keys: np.ndarray, counts: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """counts[keys == q] for every query q (0 where absent); ``keys`` sorted."""
    if not len(keys):
        return np.zeros(len(queries), dtype=np.int64)
    where = np.clip(np.searchsorted(keys, queries), 0, len(keys) - 1)
    return np.where(keys[where] == queries, counts[where], 0)


class NGramModel:
    """An n-gram model over ids 0..V-1: ``order`` = 1 unigram, 2 bigram, 3 trigram, ...

    ``fit(ids)`` counts; :meth:`log_prob` (nats, every symbol scored),
    :meth:`bits_per_symbol` and :meth:`conditional` (one context's distribution) use
    the counts with the chosen smoothing.
    """

    def __init__(self, order: int, num_values: int, smoothing: str = "witten-bell") -> None:
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing={smoothing!r} is not supported; use one of {SMOOTHINGS}")
        if order * math.log2(max(num_values, 2)) > 62:
            raise ValueError(f"V^order = {num_values}^{order} does not fit in 63 bits")
        self.order, self.num_values, self.smoothing = order, num_values, smoothing
        self._tables: list[dict[str, np.ndarray]] = []

    def fit(self, ids: Any) -> NGramModel:
        """Count every window of 1..order symbols of ``ids``; returns self."""
        ids = self._check(ids)
        V = self.num_values
        self._tables = []
        for k in range(1, self.order + 1):
            keys, counts = np.unique(_windows(ids, k, V), return_counts=True)
            contexts, first = np.unique(keys // V, return_index=True)
            context_counts = np.add.reduceat(counts, first) if len(counts) else counts
            distinct = np.diff(np.append(first, len(keys)))  # N1+(h .)
            self._tables.append({"keys": keys, "counts": counts, "contexts": contexts,
                                 "context_counts": context_counts, "distinct": distinct})
        return self

    def _check(self, ids: Any) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if len(ids) and (ids.min() < 0 or ids.max() >= self.num_values):
            raise ValueError(f"ids must be in 0..{self.num_values - 1}")
        return ids

    def _context_keys(self, history: np.ndarray, k: int) -> np.ndarray:
        """Keys of the k - 1 most recent symbols of every row of ``history``."""
        keys = np.zeros(len(history), dtype=np.int64)
        for column in range(history.shape[1] - (k - 1), history.shape[1]):
            keys = keys * self.num_values + history[:, column]
        return keys

    def _probs(self, history: np.ndarray, nexts: np.ndarray, available: np.ndarray
               ) -> np.ndarray:
        """p(next | history) for rows of ``history`` (M, order - 1; most recent last) of
        which the last ``available`` symbols are real context."""
        if not self._tables:
            raise RuntimeError("call fit(ids) first")
        V = self.num_values
        usable = np.minimum(available, self.order - 1)
        if self.smoothing == "add-one":  # the longest context each row has
            p = np.empty(len(nexts))
            for k in np.unique(usable + 1):
                rows, t = usable + 1 == k, self._tables[k - 1]
                context = self._context_keys(history[rows], k)
                c_hw = _lookup(t["keys"], t["counts"], context * V + nexts[rows])
                c_h = _lookup(t["contexts"], t["context_counts"], context)
                p[rows] = (c_hw + 1.0) / (c_h + V)
            return p
        p = np.full(len(nexts), 1.0 / V)  # Witten-Bell, interpolated from order 0 up
        for k, t in enumerate(self._tables, start=1):
            context = self._context_keys(history, k)
            c_hw = _lookup(t["keys"], t["counts"], context * V + nexts)
            c_h = _lookup(t["contexts"], t["context_counts"], context)
            n1 = _lookup(t["contexts"], t["distinct"], context)
            seen = (usable >= k - 1) & (c_h > 0)
            p = np.where(seen, (c_hw + n1 * p) / np.maximum(c_h + n1, 1), p)
        return p

    def _histories(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self.order - 1
        padded = np.concatenate([np.zeros(m, dtype=np.int64), ids])
        history = np.stack([padded[j : j + len(ids)] for j in range(m)], axis=1) if m \
            else np.zeros((len(ids), 0), dtype=np.int64)
        return history, np.arange(len(ids))

    def log_prob(self, ids: Any) -> float:
        """log p(ids) in nats: every symbol, each with its last order - 1 predecessors."""
        ids = self._check(ids)
        history, available = self._histories(ids)
        return float(np.log(self._probs(history, ids, available)).sum())

    def bits_per_symbol(self, ids: Any) -> float:
        """-log2 p(ids) / len(ids)."""
        return -self.log_prob(ids) / (len(self._check(ids)) * math.log(2.0))

    def conditional(self, context: Any = ()) -> np.ndarray:
        """p(. | context) over the V symbols (uses the last order - 1 ids of ``context``)."""
        context = self._check(context)[-(self.order - 1):] if self.order > 1 \
            else np.zeros(0, dtype=np.int64)
        m = self.order - 1
        history = np.zeros((self.num_values, m), dtype=np.int64)
        if len(context):
            history[:, m - len(context):] = context
        available = np.full(self.num_values, len(context))
        return self._probs(history, np.arange(self.num_values), available)
