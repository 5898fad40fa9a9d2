"""The one timing helper of the course: wall-clock seconds of repeated calls.

Lectures, assignments and benchmarks time code through :func:`timings` (or its two
summaries :func:`best_time` and :func:`median_time`). On a GPU the device is synchronized
around each call, so asynchronous kernels are timed to their end.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["best_time", "median_time", "timings"]


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timings(fn: Callable[[], Any], repeat: int = 3, warmup: int = 1) -> list[float]:
    """Seconds of each of ``repeat`` calls ``fn()``, after ``warmup`` untimed calls."""
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeat):
        _sync()
        start = time.perf_counter()
        fn()
        _sync()
        seconds.append(time.perf_counter() - start)
    return seconds


def best_time(fn: Callable[[], Any], repeat: int = 3, warmup: int = 0) -> float:
    """The fastest of ``repeat`` timings: the least disturbed by other programs."""
    return min(timings(fn, repeat, warmup))


def median_time(fn: Callable[[], Any], repeat: int = 3, warmup: int = 1) -> float:
    """The median of ``repeat`` timings, after ``warmup`` calls: what benchmarks report."""
    return statistics.median(timings(fn, repeat, warmup))
