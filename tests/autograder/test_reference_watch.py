"""While grading, a student's call of a reference loses that cell; the feedback shows the
hidden tests' messages but not their source (slow: grades one submission of 01)."""

from __future__ import annotations

import csv
import html as html_module
import re

import pytest

from autograder import nbtools
from autograder.grading import Options, grade
from autograder.paths import Repo

pytestmark = pytest.mark.slow

REPO = Repo.at()
ASSIGNMENT = "01-chain-rule"
CHEAT = '''

from course.models.counting import count_joint_table as _reference_count  # noqa: E402


def count_joint_table(n, k=2):
    return _reference_count(n, k)
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("watch")
    correct = next((REPO.examples / "correct" / ASSIGNMENT).glob("*.ipynb"))
    nb = nbtools.load(correct)
    cell = next(c for c in nb["cells"]
                if "def count_joint_table" in nbtools.source(c) and nbtools.is_solution_cell(c))
    cell["source"] = nbtools.source(cell) + CHEAT
    nbtools.write(nb, root / "subs" / "cheater" / ASSIGNMENT / correct.name)
    grade(REPO, root / "subs", root / "out", Options(jobs=1))
    with open(root / "out" / "grades.csv", newline="") as f:
        rows = {r["grade_id"]: r for r in csv.DictReader(f)}
    feedback = next((root / "out" / "feedback" / "cheater" / ASSIGNMENT).glob("*.html"))
    return rows, feedback.read_text(encoding="utf-8")


def test_calling_the_reference_loses_the_cell_with_a_reason(graded) -> None:
    rows, _ = graded
    cheated = [r for r in rows.values() if r["status"] != "passed"]
    assert [r["grade_id"] for r in cheated] == ["test_count_tables"], cheated
    assert cheated[0]["score"] in ("0", "0.0")
    assert cheated[0]["reason"].startswith(
        "ReferenceCallError: calls the course's reference implementation of "
        "course.models.counting.count_joint_table")


def test_feedback_hides_the_hidden_tests_source(graded) -> None:
    _, html = graded
    assert "calls the course&#39;s reference implementation" in html or \
        "calls the course's reference implementation" in html
    assert "calls the course's reference implementation" in html_module.unescape(html)
    assert "BEGIN HIDDEN TESTS" not in html
    assert "hidden tests: not shown" in html
    source = nbtools.load(next(REPO.source_notebooks(ASSIGNMENT).__iter__()))
    hidden = [line.strip() for c in source["cells"]
              for line in nbtools.source(c).split("### BEGIN HIDDEN TESTS")[-1].splitlines()
              if "### BEGIN HIDDEN TESTS" in nbtools.source(c) and len(line.strip()) > 40
              and not line.strip().startswith("#")]
    assert hidden
    text = html_module.unescape(re.sub(r"<[^>]+>", "", html))  # what the reader sees
    assert "count_joint_table" in text
    shown = [line for line in hidden if line in text]
    assert not shown, f"hidden test lines in the feedback: {shown[:3]}"
