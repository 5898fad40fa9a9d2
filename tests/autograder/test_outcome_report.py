"""Reasons, statuses, the CSV and the summary table (no nbgrader run; fast)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from ag_fixtures import read_csv
from nbgrader import utils

from autograder import nbtools, outcome, report
from autograder.catalog import GradeCell, NotebookInfo
from autograder.nbgrader_ext import UNRESPONSIVE_ENAME
from autograder.report import Row
from autograder.runner import log_problem


def _err(ename, evalue="", traceback=()):
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": list(traceback)}


def test_error_descriptions_name_the_problem():
    assert outcome.describe_error(_err("NameError", "name 'add' is not defined"), 30) == (
        "NameError: name 'add' is not defined")
    tb = ["\x1b[0;31m---------\x1b[0m", "Cell In[3], line 2\n      1 x = 1\n"
          "\x1b[0;32m----> 2\x1b[0m \x1b[38;5;28;01massert\x1b[39;00m add(2, 2) == 5\n"]
    assert outcome.describe_error(_err("AssertionError", "", tb), 30) == (
        "AssertionError at `assert add(2, 2) == 5`")
    assert "timed out" in outcome.describe_error(_err("CellTimeoutError"), 30)
    assert "30 s" in outcome.describe_error(_err("CellTimeoutError"), 30)
    assert "stub" in outcome.describe_error(_err("NotImplementedError"), 30)
    long = outcome.describe_error(_err("ValueError", "x" * 1000), 30)
    assert len(long) <= outcome.REASON_LIMIT and long.endswith(" [...]")


def _cell(outputs, gid="test_x"):
    return {"cell_type": "code", "source": "", "outputs": outputs,
            "metadata": {"nbgrader": {"grade": True, "solution": False, "locked": True,
                                      "points": 2, "grade_id": gid, "schema_version": 3}}}


def test_statuses():
    status = outcome._status
    assert status(_cell([]), 2.0, 2.0, "", None, None, False)[0] == "passed"
    failed = _cell([_err("AssertionError")])
    assert status(failed, 0.0, 2.0, "AssertionError", None, None, False)[0] == "failed"
    check_failed = _cell([_err("CheckFailure", "output 0 depends on input 0 itself")])
    assert status(check_failed, 0.0, 2.0, "CheckFailure", None, None, False)[0] == "failed"
    # an earlier crash explains a NameError, not an assertion that ran and judged
    earlier = "cell 'add' raised RuntimeError"
    assert "earlier" not in status(check_failed, 0.0, 2.0, "CheckFailure: x", None, earlier,
                                   False)[1]
    named = _cell([_err("NameError", "name 'add' is not defined")])
    assert "earlier, cell 'add'" in status(named, 0.0, 2.0, "NameError: add", None, earlier,
                                           False)[1]
    errored = _cell([_err("NameError", "x")])
    assert status(errored, 0.0, 2.0, "NameError: x", None, None, False)[0] == "error"
    s, reason = status(errored, 0.0, 2.0, "NameError: x", "cell 'add'", None, False)
    assert s == "timeout" and "cell 'add'" in reason
    skipped = _cell([_err(UNRESPONSIVE_ENAME, "not run")])
    assert status(skipped, 0.0, 2.0, "not run", None, None, False)[0] == "timeout"
    noisy = _cell([{"output_type": "stream", "name": "stderr", "text": "hello"}])
    assert status(noisy, 0.0, 2.0, "wrote to stderr", None, None, False)[0] == "stderr"
    assert status(_cell([]), 1.0, 2.0, "", None, None, False)[0] == "partial"
    assert status(_cell([]), None, 2.0, "", None, None, True)[0] == "needs_manual_grade"
    s, reason = status(errored, 0.0, 2.0, "NameError: x", None, "cell 'add' raised X", False)
    assert s == "error" and "cell 'add' raised X" in reason


def test_csv_has_exactly_the_columns(tmp_path):
    rows = [Row("s", "a1", "tiny.ipynb", "test_add", 2.0, 2.0, "passed"),
            Row("s", "a1", "tiny.ipynb", "test_mul", 0.5, 3.0, "partial", "a, \"quoted\"")]
    path = tmp_path / "grades.csv"
    report.write_csv(rows, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "student_id,assignment,notebook,grade_id,score,max_score,status,reason"
    assert lines[1] == "s,a1,tiny.ipynb,test_add,2,2,passed,"
    back = read_csv(path)
    assert back[1]["reason"] == 'a, "quoted"' and back[1]["score"] == "0.5"


def test_summary_one_line_per_student_and_assignment():
    rows = [Row("s", "a1", "n", "t1", 2.0, 2.0, "passed"),
            Row("s", "a1", "n", "t2", 0.0, 3.0, "failed"),
            Row("t", "a1", "n", "t1", 0.0, 2.0, "timeout")]
    text = report.summary(rows)
    lines = text.splitlines()
    assert len(lines) == 4
    assert "2 / 5" in lines[2] and "1 failed, 1 passed" in lines[2]
    assert "0 / 2" in lines[3] and "1 timeout" in lines[3]


def test_log_problem_quotes_nbgrader_errors():
    log = (
        "[AutogradeApp | INFO] Converting\n"
        "[AutogradeApp | ERROR] There was an error processing assignment: x\n"
        "[AutogradeApp | ERROR] Kernel died while waiting for execute reply.\n"
        "Traceback (most recent call last):\n"
        "nbclient.exceptions.DeadKernelError: Kernel died\n"
    )
    text = log_problem(log)
    assert "Kernel died while waiting" in text and "DeadKernelError" in text
    assert "There was an error processing" not in text
    assert "last log line" in log_problem("just one line")


def test_long_reasons_are_cut_at_a_word_boundary_with_a_marker():
    assert outcome.clip_words("short enough", 20) == "short enough"
    text = " ".join(f"word{i}" for i in range(200))
    clipped = outcome.clip_words(text, 100)
    assert len(clipped) <= 100 and clipped.endswith(" [...]")
    head = clipped[: -len(" [...]")]
    assert text.startswith(head) and text[len(head)] == " "  # ends on a whole word
    # a check's message ends with its hint: 300 characters cut it, the limit keeps it now
    message = ("output 5 depends on input 7, which comes later in the ordering. " * 4
               + "Hint: multiply the weights by the mask before the matrix product.")
    assert len(message) > 300
    reason = outcome.describe_error(_err("CheckFailure", message), 30)
    assert reason.endswith("before the matrix product.")
    assert "\n" not in outcome._clip("a\nb  c") and outcome._clip("a\nb  c") == "a b c"


def _timed_out(label="interrupted"):
    return [{"output_type": "stream", "name": "stdout", "text": "epoch 1\n"},
            _err("KeyboardInterrupt"), _err(outcome.TIMEOUT_ENAME, label)]


def _graded_notebook(tmp_path, cells):
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "tiny.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _info(grade_cells, budgets=None):
    return NotebookInfo("a1", "tiny", tuple(GradeCell(g, 2.0) for g in grade_cells),
                        frozenset(grade_cells), Path("tiny.ipynb"), dict(budgets or {}))


def _solution_cell(gid, outputs):
    cell = _cell(outputs, gid)
    cell["metadata"]["nbgrader"].update(solution=True, grade=False, locked=False)
    return cell


def _rows(tmp_path, cells, budgets=None, timeout=30):
    graded = [nbtools.grade_id(c) for c in cells if nbtools.is_grade_cell(c)]
    scores = {}
    for cell in cells:
        if nbtools.is_grade_cell(cell):
            score, _ = utils.determine_grade(nbformat.from_dict(cell))
            scores[nbtools.grade_id(cell)] = {"auto_score": score, "needs_manual_grade": False}
    rows = outcome.notebook_rows("s", _info(graded, budgets), _graded_notebook(tmp_path, cells),
                                 scores, timeout, {}, [])
    return {r.grade_id: r for r in rows}


def test_a_passed_cell_after_an_interruption_keeps_its_points_with_a_note(tmp_path):
    rows = _rows(tmp_path, [
        _cell([], "test_before"),
        _solution_cell("training", _timed_out()),
        _cell([], "test_after"),
        _cell([_err("NameError", "name 'W_trained' is not defined")], "test_uses_it"),
    ], budgets={"training": 120})
    assert (rows["test_before"].status, rows["test_before"].reason) == ("passed", "")
    after = rows["test_after"]
    assert (after.score, after.status) == (2.0, "passed")
    assert after.reason == ("note: ran after cell 'training' was interrupted at its 120 s"
                            " limit; its results may be incomplete")
    failed = rows["test_uses_it"]
    assert failed.status == "timeout" and failed.score == 0
    assert failed.reason == ("NameError: name 'W_trained' is not defined; after cell"
                             " 'training' was interrupted at its 120 s limit")
    assert all(r.interrupted for r in rows.values())  # the notebook had an interruption


def test_the_interrupted_cell_and_every_later_one_say_so(tmp_path):
    rows = _rows(tmp_path, [
        _cell(_timed_out(), "test_slow"),
        _solution_cell("training", _timed_out()),
        _cell([], "test_last"),
    ], timeout=5)
    assert rows["test_slow"].status == "timeout"
    assert "still running after the 5 s per-cell limit" in rows["test_slow"].reason
    assert rows["test_last"].status == "passed"
    assert rows["test_last"].reason == (
        "note: ran after cell 'test_slow' was interrupted at its 5 s limit and cell 'training'"
        " was interrupted at its 5 s limit; their results may be incomplete")


def test_partial_credit_after_an_interruption_is_not_called_zero(tmp_path):
    cell = _cell([{"output_type": "execute_result", "data": {"text/plain": "0.5"},
                   "metadata": {}, "execution_count": 3}], "test_partial")
    rows = _rows(tmp_path, [_solution_cell("training", _timed_out()), cell])
    assert rows["test_partial"].status == "timeout" and rows["test_partial"].score == 0.5
    assert rows["test_partial"].reason.startswith("partial credit: 0.5 of 2; after cell")


def test_a_notebook_without_interruptions_has_no_notes(tmp_path):
    rows = _rows(tmp_path, [_solution_cell("training", []), _cell([], "test_after")],
                 budgets={"training": 120})
    assert rows["test_after"].reason == "" and not rows["test_after"].interrupted


def test_the_summary_counts_notebooks_with_interruptions():
    rows = [Row("s", "a1", "n1.ipynb", "t1", 1.0, 1.0, "passed", "note: ...", True),
            Row("s", "a1", "n1.ipynb", "t2", 1.0, 1.0, "passed", "", True),
            Row("s", "a1", "n2.ipynb", "t1", 0.0, 1.0, "timeout", "x", True),
            Row("t", "a1", "n1.ipynb", "t1", 1.0, 1.0, "passed")]
    lines = report.summary(rows).splitlines()
    assert lines[2].endswith("2 passed, 1 timeout; 2 notebooks interrupted")
    assert lines[3].endswith("1 passed")
    assert report.interrupted_notebooks(rows) == [("s", "a1", "n1.ipynb"), ("s", "a1", "n2.ipynb")]


def test_grades_csv_neutralises_spreadsheet_formulas(tmp_path):
    rows = [Row("=HYPERLINK(\"x\")", "a1", "tiny.ipynb", "test_add", 0.0, 2.0, "failed",
                "-1 is not 3"),
            Row("+alice", "a1", "tiny.ipynb", "@test", 2.0, 2.0, "passed", ""),
            Row("bob", "a1", "tiny.ipynb", "test_mul", 1.5, 3.0, "partial", "partial credit")]
    report.write_csv(rows, tmp_path / "grades.csv")
    written = read_csv(tmp_path / "grades.csv")
    assert [r["student_id"] for r in written] == ["'=HYPERLINK(\"x\")", "'+alice", "bob"]
    assert written[0]["reason"] == "'-1 is not 3" and written[1]["grade_id"] == "'@test"
    assert written[2]["reason"] == "partial credit" and written[2]["score"] == "1.5"
