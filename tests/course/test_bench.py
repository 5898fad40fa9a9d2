"""The model micro-benchmark runs and reports what it measured."""

from __future__ import annotations

from course import bench


def test_model_benchmarks_small(capsys) -> None:
    rows = bench.model_benchmarks(n=20, d=8, batch=4, repeat=1)
    assert [job.split(" (")[0] for job, _, _ in rows] == [
        "NADE naive O(n^2 d) log p",
        "NADE tied O(nd), n steps of a_i+1 = a_i + W[:,i] x_i",
        "NADE tied O(nd), one cumsum over",
        "MADE one pass log p",
    ]
    assert all(seconds > 0 for _, seconds, _ in rows)
    assert rows[0][2].endswith("x tied") and rows[1][2].endswith("x MADE")
    assert bench.main(["-n", "10", "-d", "4", "--repeat", "1"]) == 0
    assert "MADE one pass" in capsys.readouterr().out
