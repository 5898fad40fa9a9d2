"""grade: every kind of submission, end to end through nbgrader (slow: about a minute).

All fixture submissions are graded once (module fixture, --jobs 2, 5 s per cell).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from ag_fixtures import (
    ASSIGNMENT,
    MAX_SCORE,
    NOTEBOOK,
    make_repo,
    read_csv,
    submissions,
    tree_hash,
    write_files,
)

from autograder import nbtools, release
from autograder.__main__ import main
from autograder.grading import Options, grade
from autograder.report import COLUMNS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    repo = make_repo(root / "repo")
    with tempfile.TemporaryDirectory() as tmp:
        released = nbtools.load(release.generate(repo, Path(tmp)) / ASSIGNMENT / NOTEBOOK)
    files = submissions(released)
    write_files(root / "subs", files)
    write_files(root / "alone", {k: v for k, v in files.items() if k.startswith("correct/")})
    before = tree_hash(root / "subs")
    rows = grade(repo, root / "subs", root / "out", Options(jobs=2, timeout=5, limit=120))
    return {"repo": repo, "root": root, "rows": rows, "before": before, "files": files}


def _rows(graded, student):
    return [r for r in graded["rows"] if r.student_id == student]


def _total(graded, student):
    return sum(r.score for r in _rows(graded, student) if r.assignment == ASSIGNMENT)


def _by_cell(graded, student):
    return {r.grade_id: r for r in _rows(graded, student)}


def test_correct_gets_full_marks_despite_warnings_on_stderr(graded):
    rows = _rows(graded, "correct")
    assert [(r.grade_id, r.score, r.max_score, r.status) for r in rows] == [
        ("test_add", 2, 2, "passed"), ("test_mul", 3, 3, "passed"), ("test_warn", 1, 1, "passed")]
    assert all(r.reason == "" for r in rows)


def test_wrong_answer_fails_the_right_cells(graded):
    cells = _by_cell(graded, "wrong")
    assert _total(graded, "wrong") == 2
    assert cells["test_mul"].status == "failed"
    assert "AssertionError" in cells["test_mul"].reason
    assert "mul(2, 3) == 6" in cells["test_mul"].reason


def test_blank_release_scores_zero(graded):
    assert _total(graded, "blank") == 0
    assert {r.status for r in _rows(graded, "blank")} == {"error"}
    assert all("NotImplementedError" in r.reason for r in _rows(graded, "blank"))


def test_invalid_json(graded):
    rows = _rows(graded, "invalid-json")
    assert len(rows) == 3 and _total(graded, "invalid-json") == 0
    assert all(r.status == "invalid_notebook" and "not valid JSON" in r.reason for r in rows)


def test_missing_notebook(graded):
    rows = _rows(graded, "missing")
    by = {(r.notebook, r.status) for r in rows}
    assert ("notes.txt", "unexpected_file") in by
    missing = [r for r in rows if r.status == "missing_notebook"]
    assert [r.grade_id for r in missing] == ["test_add", "test_mul", "test_warn"]
    assert sum(r.max_score for r in missing) == MAX_SCORE
    assert all(f"no {NOTEBOOK}" in r.reason for r in missing)


def test_layout_problems(graded):
    (lost,) = _rows(graded, "lost")
    assert (lost.assignment, lost.status, lost.grade_id) == ("a2", "unknown_assignment", "")
    assert "not an assignment" in lost.reason
    renamed = {r.status for r in _rows(graded, "renamed")}
    assert renamed == {"unexpected_notebook", "missing_notebook"}
    (flat,) = _rows(graded, "flat")
    assert flat.status == "wrong_layout" and f"{ASSIGNMENT}/{NOTEBOOK}" in flat.reason


def test_duplicated_cell_is_repaired(graded):
    assert _total(graded, "duplicated-cell") == MAX_SCORE
    assert "duplicated" in _by_cell(graded, "duplicated-cell")["test_add"].reason


def test_deleted_cell_is_restored(graded):
    assert _total(graded, "deleted-cell") == MAX_SCORE
    assert "restored" in _by_cell(graded, "deleted-cell")["test_mul"].reason


def test_raising_cell_costs_its_tests(graded):
    cells = _by_cell(graded, "raising")
    assert _total(graded, "raising") == 4
    assert cells["test_add"].status == "error"
    assert "NameError" in cells["test_add"].reason
    assert "RuntimeError: crash before the definition" in cells["test_add"].reason


def test_endless_loop_times_out_and_later_cells_still_run(graded):
    cells = _by_cell(graded, "endless-loop")
    assert _total(graded, "endless-loop") == 4
    assert cells["test_add"].status == "timeout"
    assert "cell 'add'" in cells["test_add"].reason
    assert cells["test_mul"].status == "passed"


def test_loop_that_ignores_interrupts_scores_zero_quickly(graded):
    rows = _rows(graded, "ignores-interrupt")
    assert {r.status for r in rows} == {"timeout"}
    assert all("ignored the interrupt" in r.reason for r in rows)


def test_stderr_in_a_test_cell_scores_zero(graded):
    cells = _by_cell(graded, "noisy")
    assert cells["test_mul"].status == "stderr" and cells["test_mul"].score == 0
    assert "debugging" in cells["test_mul"].reason


def test_dead_kernel_is_reported(graded):
    rows = _rows(graded, "kernel-dies")
    assert {r.status for r in rows} == {"grading_failed"}
    assert all("Kernel died" in r.reason for r in rows)


def test_outputs_written(graded):
    out = graded["root"] / "out"
    assert [list(r) for r in read_csv(out / "grades.csv")][0] == COLUMNS
    assert (out / "feedback" / "correct" / ASSIGNMENT / "tiny.html").is_file()
    assert (out / "autograded" / "correct" / ASSIGNMENT / NOTEBOOK).is_file()
    assert (out / "logs" / "correct" / ASSIGNMENT / "nbgrader.log").is_file()
    assert not (out / "feedback" / "invalid-json").exists()


def test_rows_are_sorted_and_deterministic(graded):
    rows = graded["rows"]
    students = [r.student_id for r in rows]
    assert students == sorted(students)
    csv_rows = read_csv(graded["root"] / "out" / "grades.csv")
    assert len(csv_rows) == len(rows)
    # grading the same submissions again, one job instead of two (another order of
    # completion), gives a byte-identical grades.csv
    again = graded["root"] / "out-again"
    grade(graded["repo"], graded["root"] / "subs", again, Options(jobs=1, timeout=5, limit=120))
    first = (graded["root"] / "out" / "grades.csv").read_bytes()
    assert (again / "grades.csv").read_bytes() == first


def test_submissions_are_untouched(graded):
    assert tree_hash(graded["root"] / "subs") == graded["before"]


def test_a_bad_student_never_changes_another_students_rows(graded):
    root = graded["root"]
    assert main(["--repo", str(graded["repo"].root), "grade", str(root / "alone"),
                 "--out", str(root / "alone-out"), "--timeout", "5"]) == 0
    alone = read_csv(root / "alone-out" / "grades.csv")
    together = [r for r in read_csv(root / "out" / "grades.csv") if r["student_id"] == "correct"]
    assert alone == together


def test_wall_clock_limit_kills_the_grading(graded, tmp_path):
    files = {k: v for k, v in graded["files"].items() if k.startswith("endless-loop/")}
    write_files(tmp_path / "subs", files)
    rows = grade(graded["repo"], tmp_path / "subs", tmp_path / "out",
                 Options(timeout=60, limit=8, feedback=False))
    assert {r.status for r in rows} == {"grading_timeout"}
    assert all("8 s limit" in r.reason for r in rows)
