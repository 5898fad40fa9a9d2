"""Reasons, statuses, the CSV and the summary table (no nbgrader run; fast)."""

from __future__ import annotations

from ag_fixtures import read_csv

from autograder import outcome, report
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
