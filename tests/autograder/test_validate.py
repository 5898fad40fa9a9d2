"""The student's Validate button: ``nbgrader validate`` with the course's configuration.

A correct submission must be told it passes (nbgrader counts a test cell whose last
expression has a value as partial credit, and then says "WILL NOT receive full credit");
a blank one must be told which cells fail. Slow: it executes every example notebook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.paths import CONFIG_FILE, Repo
from autograder.runner import THREAD_VARS

pytestmark = pytest.mark.slow

REPO = Repo.at()
CELL_TIMEOUT_S = 300
CASES = [(a, s) for a in REPO.assignment_ids() for s in ("correct", "blank")]


def _validate(notebook: Path, tmp_path: Path) -> str:
    shutil.copyfile(CONFIG_FILE, tmp_path / "nbgrader_config.py")
    target = tmp_path / notebook.name
    shutil.copyfile(notebook, target)
    env = dict(os.environ)
    env.pop("NBGRADER_EXECUTION", None)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update({var: "1" for var in THREAD_VARS})  # as the grader's kernels run
    # The course's configuration, except the per-cell limit: what this test checks is the
    # verdict on a finished notebook, not the time a training cell takes on a busy machine
    # (tests/autograder/test_load.py checks that).
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", target.name,
         f"--Execute.timeout={CELL_TIMEOUT_S}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize(("assignment", "student"), CASES,
                         ids=[f"{a}-{s}" for a, s in CASES])
def test_validate_tells_the_student_the_truth(assignment, student, tmp_path) -> None:
    notebooks = sorted((REPO.examples / student / assignment).glob("*.ipynb"))
    assert notebooks, f"no {student} example for {assignment}"
    for notebook in notebooks:
        report = _validate(notebook, tmp_path)
        if student == "correct":
            assert "Success! Your notebook passes all the tests." in report, report[-3000:]
            assert "WILL NOT receive full credit" not in report, report[-3000:]
        else:
            assert "VALIDATION FAILED" in report, report[-3000:]
