"""``python -m autograder bench``: how long notebooks and grading take (medians).

Budget: each solution notebook (hidden tests included) and each lecture should run top
to bottom in about a minute on 2 CPU cores (README, "For lecturers"), so the ratio column
is seconds divided by 60; grading one submission (the `correct` example of each assignment, a full
execution with feedback) is measured against the same minute. Then the reference-model
micro-benchmarks of :mod:`course.bench` (NADE naive vs tied at n = 784, d = 500; MADE's
one pass vs NADE's n passes).

Grading is timed with and without the bubblewrap sandbox (runs alternate, so that a drift
in the machine's speed hits both alike), and the table adds the sandbox's cost per
submission (target: under 10 %).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder import catalog, prepass
from autograder.demo import EXAMPLES_ROOT_FILES
from autograder.grading import Options, grade_unit, prepare_sandbox
from autograder.paths import Repo
from autograder.report import table

BUDGET_S = 60.0


def execute(path: Path, timeout: int = 600) -> None:
    """Run a notebook top to bottom with nbclient; raises on the first failing cell."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()


def timed(job: Callable[[], object], repeat: int) -> tuple[float, str]:
    """Median seconds of ``repeat`` runs, and "ok" or the error of the first failure."""
    times = []
    for _ in range(repeat):
        start = time.monotonic()
        try:
            job()
        except Exception as err:  # noqa: BLE001 - report, keep benchmarking
            return time.monotonic() - start, f"FAILED: {type(err).__name__}"
        times.append(time.monotonic() - start)
    return statistics.median(times), "ok"


def timed_pair(job_a: Callable[[], object], job_b: Callable[[], object],
               repeat: int) -> tuple[tuple[float, str], tuple[float, str]]:
    """Like ``timed`` for two jobs run in turn (A B A B ...): (median, status) of each."""
    times: tuple[list[float], list[float]] = ([], [])
    status = ["ok", "ok"]
    for _ in range(repeat):
        for k, job in enumerate((job_a, job_b)):
            if status[k] != "ok":
                continue
            start = time.monotonic()
            try:
                job()
            except Exception as err:  # noqa: BLE001 - report, keep benchmarking
                status[k] = f"FAILED: {type(err).__name__}"
            times[k].append(time.monotonic() - start)
    return ((statistics.median(times[0]), status[0]), (statistics.median(times[1]), status[1]))


def bench(repo: Repo, repeat: int = 3, grading: bool = True, all_examples: bool = False,
          models: bool = True, notebooks: bool = True, echo=print) -> int:
    """Time notebooks, grading and reference models; print one table; exit status."""
    lines = []
    costs: list[tuple[str, float, float]] = []

    def record(name: str, seconds: float, status: str) -> None:
        lines.append([name, f"{seconds:.1f}", f"{seconds / BUDGET_S:.2f}", status])
        echo(f"  {name}: {seconds:.1f} s ({status})")

    sources = [p for a in repo.assignment_ids() for p in repo.source_notebooks(a)]
    for path in [*sources, *repo.lecture_notebooks()] if notebooks else []:
        rel = path.relative_to(repo.root).as_posix()
        record(rel, *timed(lambda path=path: execute(path), repeat))

    if grading and repo.examples.is_dir():
        with tempfile.TemporaryDirectory(prefix="autograder-bench-") as tmp:
            start = time.monotonic()
            cat = catalog.build(repo, Path(tmp) / "template")
            record("release + gradebook (generate_assignment)", time.monotonic() - start, "ok")
            units = prepass.scan(repo.examples, cat, EXAMPLES_ROOT_FILES).units
            chosen = [u for u in units if u.files and (all_examples or u.student == "correct")]
            sandboxed = prepare_sandbox(Options(), Path(tmp))
            for i, unit in enumerate(chosen):
                def run(box, unit=unit, i=i) -> None:
                    stamp = f"{i}-{time.monotonic_ns()}"
                    grade_unit(unit, cat, Path(tmp) / "work" / stamp,
                               Path(tmp) / "out" / stamp, Options(sandbox=box is not None),
                               box)
                name = f"grade examples/{unit.student}/{unit.assignment}"
                if sandboxed is None:
                    record(f"{name} (no sandbox)", *timed(lambda run=run: run(None), repeat))
                    continue
                inside, outside = timed_pair(lambda run=run: run(sandboxed),
                                             lambda run=run: run(None), repeat)
                record(name, *inside)
                record(f"{name} (no sandbox)", *outside)
                if inside[1] == outside[1] == "ok":
                    costs.append((name, inside[0], outside[0]))
    echo("")
    echo(table(["job", "median s", "x 60 s budget", "status"], lines))
    echo(f"\n(median of {repeat} run(s); ratio > 1 means over the one-minute budget)")
    if costs:
        echo("\nThe sandbox's cost per submission (grading with / without it):\n")
        echo(table(["submission", "sandbox s", "no sandbox s", "cost"],
                   [[n, f"{a:.1f}", f"{b:.1f}", f"{(a / b - 1) * 100:+.1f} %"]
                    for n, a, b in costs]))
    if models:
        from course.bench import format_table, model_benchmarks

        echo("\nReference models (what tying and masking buy):\n")
        echo(format_table(model_benchmarks(repeat=repeat)))
        from course.bench import pixelcnn_benchmarks

        echo("\nPixelCNN: one pass to train, n passes to sample 16 digits:\n")
        echo(format_table(pixelcnn_benchmarks(repeat=repeat)))

        from course.bench import char_speed_benchmarks

        echo("\nCharacter models at Assignment 5's sizes (characters per second):\n")
        echo(format_table(char_speed_benchmarks(repeat=repeat)))
    return 0 if all(line[3] == "ok" for line in lines) else 1
