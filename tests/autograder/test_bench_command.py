"""``python -m autograder bench`` on a tiny course: times every notebook, reports a table."""

from __future__ import annotations

import pytest

from autograder.bench import bench


@pytest.mark.slow
def test_bench_times_every_notebook_and_reports_failures(repo):
    lines: list[str] = []
    assert bench(repo, repeat=1, grading=False, models=False, echo=lines.append) == 0
    report = "\n".join(lines)
    assert "solutions/a1/tiny.ipynb" in report and "x 60 s budget" in report

    broken = repo.root / "lectures" / "99-broken.ipynb"
    broken.parent.mkdir(exist_ok=True)
    broken.write_text(
        '{"cells": [{"cell_type": "code", "execution_count": null, "id": "boom",'
        ' "metadata": {}, "outputs": [], "source": "1 / 0"}], "metadata": {"kernelspec":'
        ' {"name": "python3", "display_name": "Python 3", "language": "python"}},'
        ' "nbformat": 4, "nbformat_minor": 5}'
    )
    lines.clear()
    assert bench(repo, repeat=1, grading=False, models=False, echo=lines.append) == 1
    assert "FAILED: CellExecutionError" in "\n".join(lines)


def test_timed_pair_alternates_and_reports_failures():
    from autograder.bench import timed_pair

    order: list[str] = []

    def fail() -> None:
        order.append("b")
        raise RuntimeError("boom")

    (a, status_a), (b, status_b) = timed_pair(lambda: order.append("a"), fail, repeat=3)
    assert order == ["a", "b", "a", "a"]  # B stops after its first failure
    assert status_a == "ok" and status_b == "FAILED: RuntimeError"
    assert a >= 0 and b >= 0
