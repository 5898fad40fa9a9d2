"""Hostile submissions that tamper with the test machinery score 0 on every test cell they
affect, with a reason that names the tampering, while honest students graded in the same
batch, before and after them, keep full marks (slow: one grading run, about a minute).

The cases are data: tests/autograder/tampering.toml (its header says how to add one).
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path

import pytest
from ag_fixtures import (
    ASSIGNMENT,
    MAX_SCORE,
    NOTEBOOK,
    checked_notebook,
    filled,
    make_repo,
    write_files,
)

from autograder import nbtools, release
from autograder.grading import Options, grade
from autograder.report import Status

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).with_name("tampering.toml")
CASES = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["case"]
ALL_CELLS = ["test_add", "test_mul", "test_warn"]
WRONG = {"add": "def add(a, b):\n    return a - b", "mul": "def mul(a, b):\n    return a + b"}
HONEST = ("a-honest", "z-honest")  # graded first and last (students are graded in order)


def hostile_notebook(released: dict, case: dict) -> dict:
    mul = case.get("mul", WRONG["mul"]).strip()
    return filled(released, {"add": case["code"].strip() + "\n\n\n" + WRONG["add"], "mul": mul})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    repo = make_repo(root / "repo", notebook=checked_notebook())
    with tempfile.TemporaryDirectory() as tmp:
        released = nbtools.load(release.generate(repo, Path(tmp)) / ASSIGNMENT / NOTEBOOK)
    files = {f"{student}/{ASSIGNMENT}/{NOTEBOOK}": json.dumps(filled(released))
             for student in HONEST}
    for case in CASES:
        files[f"h-{case['name']}/{ASSIGNMENT}/{NOTEBOOK}"] = json.dumps(
            hostile_notebook(released, case))
    write_files(root / "subs", files)
    rows = grade(repo, root / "subs", root / "out", Options(jobs=1, timeout=10, limit=120))
    return {(r.student_id, r.grade_id): r for r in rows}


def test_corpus_is_well_formed():
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for case in CASES:
        assert {"name", "code", "reason"} <= case.keys(), case.get("name")
        assert set(case.get("zeroed", ALL_CELLS)) <= set(ALL_CELLS), case["name"]


@pytest.mark.parametrize("student", HONEST)
def test_honest_students_keep_full_marks(graded, student):
    rows = [graded[(student, gid)] for gid in ALL_CELLS]
    assert [(r.score, r.status, r.reason) for r in rows] == [
        (2.0, Status.PASSED, ""), (3.0, Status.PASSED, ""), (1.0, Status.PASSED, "")]
    assert sum(r.score for r in rows) == MAX_SCORE


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_tampering_scores_zero_and_says_why(graded, case):
    for gid in case.get("zeroed", ALL_CELLS):
        row = graded[(f"h-{case['name']}", gid)]
        assert row.score == 0, f"{gid}: the tampering earned {row.score} points"
        assert row.status == Status.TAMPERED, (gid, row.status, row.reason)
        assert "TestTampered: the notebook changed the test machinery: " in row.reason, (
            gid, row.reason)
        assert case["reason"] in row.reason, (gid, row.reason)
