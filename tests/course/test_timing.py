"""course.timing: the one timing helper."""

from __future__ import annotations

import time

import pytest

from course import timing


def test_timings_count_calls_and_measure_each() -> None:
    calls = []

    def work() -> None:
        calls.append(1)
        time.sleep(0.02)

    seconds = timing.timings(work, repeat=3, warmup=2)
    assert len(calls) == 5, "two warm-up calls, then three timed ones"
    assert len(seconds) == 3 and all(0.02 <= s < 1.0 for s in seconds)


def test_best_is_at_most_median() -> None:
    durations = iter([0.0, 0.03, 0.0, 0.01])  # the warm-up call, then three timed calls
    seconds_best = timing.best_time(lambda: time.sleep(next(durations)), repeat=3, warmup=1)
    assert 0.0 <= seconds_best < 0.01
    durations = iter([0.0, 0.03, 0.0, 0.01])
    seconds_median = timing.median_time(lambda: time.sleep(next(durations)), repeat=3)
    assert 0.01 <= seconds_median < 0.03


def test_repeat_must_be_positive() -> None:
    with pytest.raises(ValueError, match="repeat"):
        timing.timings(lambda: None, repeat=0)
