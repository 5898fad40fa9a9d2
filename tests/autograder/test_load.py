"""Grades do not depend on the machine's load (slow: about 30-40 s on 2 cores).

A correct submission whose training cell takes longer than the per-cell timeout (1 s
here) is graded with --jobs 2, next to a second submission that trains too, while two
busy loops saturate the CPU. It gets full marks because

- the training cell has a time budget (60 s) from the source notebook; without it the
  cell is interrupted at 1 s (measured: test_training then scores 0), and the test
  checks that the cell did run longer than 1 s;
- the kernels run torch with 1 thread (checked from the cell's output). Measured on 2
  cores under this load: about 7 s with 1 thread, 30 to 80 s with the 2 threads torch
  picks by default.

The second submission also gives itself a budget in its own notebook's metadata: it is
ignored, and its interruption is recorded in every later row.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ag_fixtures import (
    ASSIGNMENT,
    NOTEBOOK,
    SOLUTIONS,
    TRAINING,
    filled,
    index_of,
    make_training_repo,
    write_files,
)

from autograder import catalog, nbtools
from autograder.grading import Options, grade

pytestmark = pytest.mark.slow

CELL_TIMEOUT = 1  # Execute.timeout for this run: well below the training cell's time
BUDGET = 60


@pytest.fixture
def busy_cpu():
    """Two processes that spin until the test ends, whatever happens to it."""
    procs: list[subprocess.Popen] = []
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
        time.sleep(0.5)
        assert all(p.poll() is None for p in procs)
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait(timeout=10)


def _training_seconds(autograded: Path) -> tuple[float, int]:
    nb = nbtools.load(autograded)
    cell = nb["cells"][index_of(nb, "training")]
    text = "".join(nbtools.source({"source": o.get("text", "")}) for o in cell["outputs"]
                   if o.get("output_type") == "stream")
    match = re.search(r"trained in ([\d.]+) s with (\d+) thread", text)
    assert match, f"the training cell did not finish: {cell['outputs']}"
    return float(match.group(1)), int(match.group(2))


def test_correct_submission_gets_full_marks_on_a_loaded_machine(tmp_path, busy_cpu):
    repo = make_training_repo(tmp_path / "repo", budget=BUDGET)
    cat = catalog.build(repo, tmp_path / "template")  # one generate_assignment
    assert cat.notebooks[ASSIGNMENT]["tiny"].budgets == {"training": BUDGET}
    released = nbtools.load(cat.course / "release" / ASSIGNMENT / NOTEBOOK)
    # nbgrader 0.9.6 keeps custom cell metadata in the release (so students see the
    # budget); the grader reads it from solutions/ all the same
    assert released["cells"][index_of(released, "training")]["metadata"]["autograder"] == {
        "timeout": BUDGET}

    correct = filled(released, {"training": TRAINING})
    greedy = filled(released, {"training": TRAINING,
                               "add": "import time\ntime.sleep(3)\n" + SOLUTIONS["add"]})
    greedy["cells"][index_of(greedy, "add")]["metadata"]["autograder"] = {"timeout": 600}
    write_files(tmp_path / "subs", {f"{name}/{ASSIGNMENT}/{NOTEBOOK}": nbtools.dumps(nb)
                                    for name, nb in (("correct", correct), ("greedy", greedy))})

    lines: list[str] = []
    rows = grade(repo, tmp_path / "subs", tmp_path / "out",
                 Options(jobs=2, timeout=CELL_TIMEOUT, limit=180, feedback=False),
                 echo=lines.append, cat=cat)
    print("\n".join(lines))
    by = {(r.student_id, r.grade_id): r for r in rows}

    got = [(g, r.score, r.max_score, r.status, r.reason)
           for (s, g), r in by.items() if s == "correct"]
    assert got == [("test_add", 2, 2, "passed", ""), ("test_mul", 3, 3, "passed", ""),
                   ("test_warn", 1, 1, "passed", ""), ("test_training", 1, 1, "passed", "")]
    seconds, threads = _training_seconds(
        tmp_path / "out" / "autograded" / "correct" / ASSIGNMENT / NOTEBOOK)
    assert threads == 1
    assert seconds > CELL_TIMEOUT, (
        f"training took {seconds} s: not above the {CELL_TIMEOUT} s per-cell timeout, so this"
        " test no longer shows that the budget is needed; make the training longer")
    assert seconds < BUDGET

    # a budget in the submitted notebook reaches the executor and is not honoured; the
    # interruption is recorded in the cell's row and, as a note, in every later one
    graded = nbtools.load(tmp_path / "out" / "autograded" / "greedy" / ASSIGNMENT / NOTEBOOK)
    assert graded["cells"][index_of(graded, "add")]["metadata"]["autograder"] == {
        "timeout": 600}
    assert by[("greedy", "test_add")].status == "timeout"
    assert "cell 'add' was interrupted at its 1 s limit" in by[("greedy", "test_add")].reason
    mul = by[("greedy", "test_mul")]
    assert (mul.score, mul.status) == (3, "passed")
    assert mul.reason == ("note: ran after cell 'add' was interrupted at its 1 s limit; its"
                          " results may be incomplete")
    assert [r.interrupted for r in rows if r.student_id == "greedy"] == [True] * 4
    assert not any(r.interrupted for r in rows if r.student_id == "correct")
    assert any("1 notebook(s) had a cell interrupted" in line for line in lines)
    assert f"  greedy/{ASSIGNMENT}/{NOTEBOOK}" in lines
