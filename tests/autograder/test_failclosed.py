"""The fail-closed test cells (autograder/failclosed.py and autograder/kernel_probe.py).

Fast: the notebooks run in a plain IPython shell in this process, which stands in for the
grading kernel (``send`` evaluates the grader's user expressions as ipykernel does). The
hostile submissions graded end to end through nbgrader are in test_hostile.py.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import re
import sys

import pytest
from IPython.core.interactiveshell import InteractiveShell
from nbformat.v4 import new_code_cell
from traitlets.config import Config

from autograder import failclosed
from autograder.failclosed import CHANGED, NOT_RUN, TAMPERED_ENAME, Guard


def locked(src: str, gid: str):
    cell = new_code_cell(src)
    cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True,
                                 "grade_id": gid, "schema_version": 3}
    return cell


def answer(src: str, gid: str = "answer"):
    cell = new_code_cell(src)
    cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False,
                                 "grade_id": gid, "schema_version": 3}
    return cell


def graded_test(src: str, gid: str):
    cell = new_code_cell(src)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                 "points": 1, "grade_id": gid, "schema_version": 3}
    return cell


SETUP = locked("from course.checks import assert_close\n\n\ndef twice(x):\n"
               "    return assert_close(x, x, 'x')", "setup")
ADD = answer("def add(a, b):\n    return a + b")
TEST_ADD = graded_test("assert add(1, 2) == 3\nassert_close(add(2, 2), 4, 'add(2, 2)')", "test_add")
TEST_TWICE = graded_test("twice(add(1, 1))", "test_twice")
TEST_PLAIN = graded_test("assert add(0, 0) == 0", "test_plain")


class Kernel:
    """A plain IPython shell in this process, standing in for the grading kernel."""

    def __init__(self) -> None:
        config = Config()
        config.HistoryManager.enabled = False
        self.shell = InteractiveShell(config=config)
        self.sent: list[str] = []
        self.hide_errors = False  # drop error outputs, as a hidden traceback would

    def send(self, expression: str):
        return self.shell.user_expressions({"probe": expression})["probe"]

    def run(self, cell) -> dict:
        self.sent.append(cell.source)
        result = self.shell.run_cell(cell.source, store_history=True)
        error = result.error_before_exec or result.error_in_exec
        cell.outputs = []
        if error is not None and not self.hide_errors:
            cell.outputs = [{"output_type": "error", "ename": type(error).__name__,
                             "evalue": str(error), "traceback": []}]
        if result.result is not None:
            cell.outputs.append({"output_type": "execute_result", "data": {
                "text/plain": repr(result.result)}, "metadata": {}, "execution_count": 1})
        return {"content": {"status": "ok" if result.success else "error"}}


def grade(cells, kernel=None, send=None):
    """Run ``cells`` as GuardedExecute does; returns (kernel, cells)."""
    kernel = kernel or Kernel()
    guard = Guard(cells, send or kernel.send)
    for index, cell in enumerate(cells):
        pending = guard.before(cell, index)
        try:
            reply = kernel.run(cell)
        finally:
            if pending:
                pending.restore(cell)
        guard.after(cell, index, pending, reply, f"cell '{cell.metadata['nbgrader']['grade_id']}'")
    return kernel, cells


def verdicts(cells) -> dict[str, str | None]:
    """grade_id -> the TestTampered text of each test cell, None when it kept its outputs."""
    out = {}
    for cell in cells:
        if cell.metadata["nbgrader"].get("grade"):
            tampered = [o for o in cell.outputs if o.get("ename") == TAMPERED_ENAME]
            out[cell.metadata["nbgrader"]["grade_id"]] = tampered[0]["evalue"] if tampered \
                else None
    return out


@pytest.fixture(autouse=True)
def _forget_probes():
    """Each test's shell installs a probe (kept in sys.modules, as in a kernel): drop them."""
    yield
    for name in [n for n in sys.modules if n.startswith("_autograder_probe_")]:
        del sys.modules[name]


def fresh(*cells):
    return [c.copy() for c in cells]


# -- what is sent ------------------------------------------------------------------------------


def test_the_seal_is_the_last_line_and_the_source_comes_back():
    kernel, cells = grade(fresh(SETUP, ADD, TEST_ADD, TEST_TWICE, TEST_PLAIN))
    assert verdicts(cells) == {"test_add": None, "test_twice": None, "test_plain": None}
    assert [c.source for c in cells] == [c.source for c in (SETUP, ADD, TEST_ADD, TEST_TWICE,
                                                            TEST_PLAIN)]
    sent = kernel.sent[2]
    assert sent.startswith(TEST_ADD.source + "\n")
    assert re.fullmatch(r"'autograder seal [0-9a-f]{32} [0-9a-f]{64}'\n", sent.splitlines(True)[-1])
    assert sent.split()[-2] != kernel.sent[4].split()[-2]  # a nonce per cell
    assert hashlib.sha256(sent.replace(sent.split()[-1][:64], "0" * 64).encode()).hexdigest() \
        == sent.split()[-1][:64]


@pytest.mark.parametrize(("source", "value"), [
    ("x = 2\nx * 1.5", 3.0),  # nbgrader's partial credit: a final value survives
    ("x = 2\n(x\n * 2)  # four", 4),
    ("x = 2\nx * 1.5;", None),  # IPython shows nothing after a final ';'
    ("x = 2", None),
    ("for i in range(2):\n    x = i\n", None),
])
def test_the_seal_keeps_the_final_value(source, value):
    kernel = Kernel()
    _, cells = grade([SETUP.copy(), graded_test(source, "test_value")], kernel)
    assert verdicts(cells) == {"test_value": None}
    assert kernel.shell.user_ns["Out"].get(2) == value


def test_tracebacks_show_the_test_as_written(capsys):
    kernel = Kernel()
    kernel.shell.InteractiveTB.set_mode("Plain")
    failing = graded_test("x = 1\nassert x == 2, 'x is not 2'", "test_fails")
    _, cells = grade([SETUP.copy(), failing], kernel)
    assert verdicts(cells) == {"test_fails": None}
    assert [o["evalue"] for o in cells[1].outputs] == ["x is not 2"]
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert re.search(r"(line |:)2\b", traceback), traceback
    assert "assert x == 2, 'x is not 2'" in traceback and "autograder seal" not in traceback


def test_sealed_source_of_a_syntax_error_still_fails():
    kernel = Kernel()
    _, cells = grade([SETUP.copy(), graded_test("assert (", "test_syntax")], kernel)
    assert verdicts(cells) == {"test_syntax": None}
    assert [o["ename"] for o in cells[1].outputs] == ["SyntaxError"]


def test_watched_names_follow_instructor_helpers():
    setup = ast.parse("import numpy as np\nfrom course.models import FVSBN\n\n"
                      "def reference(W, b):\n    return FVSBN.from_numpy(W, b)\n"
                      "def unused():\n    return np.zeros(1)\nW = 1\n")
    helpers = failclosed.definitions(setup)
    bound = failclosed.bound_names(setup)
    assert bound == {"np", "FVSBN", "reference", "unused", "W"}
    test_tree = ast.parse("W, b = 1, 2\nassert reference(W, b) is not None")
    assert failclosed.watched_names(test_tree, helpers, bound) == {"reference", "FVSBN"}


# -- authenticity -----------------------------------------------------------------------------


def _answer(key: str, challenge: str, body: dict) -> dict:
    text = repr(body)
    tag = hmac.new(bytes.fromhex(key), challenge.encode() + b"\0" + text.encode(),
                   hashlib.sha256).hexdigest()
    return {"status": "ok", "data": {"text/plain": repr(tag + ":" + text)}}


def test_verify_accepts_only_fresh_authentic_answers():
    key, challenge = "ab" * 32, "c1"
    body = {"challenge": challenge, "digests": {}, "details": {}, "names": {}, "seals": []}
    assert failclosed.verify(_answer(key, challenge, body), key, challenge).seals == []
    with pytest.raises(failclosed.Forged, match="not authentic"):
        failclosed.verify(_answer("cd" * 32, challenge, body), key, challenge)
    with pytest.raises(failclosed.Forged, match="replay"):
        failclosed.verify(_answer(key, "c2", {**body, "challenge": "c1"}), key, "c2")
    with pytest.raises(failclosed.Forged, match="garbled"):
        failclosed.verify({"status": "ok", "data": {"text/plain": "42"}}, key, challenge)
    with pytest.raises(failclosed.Forged, match=r"failed in the kernel \(IndexError\)"):
        failclosed.verify({"status": "error", "ename": "IndexError"}, key, challenge)


# -- the machinery check ----------------------------------------------------------------------


def test_an_input_transformer_zeroes_every_later_test():
    hostile = answer("get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"
                     "def add(a, b):\n    return 0")
    _, cells = grade(fresh(SETUP, hostile, TEST_ADD, TEST_PLAIN))
    found = verdicts(cells)
    assert set(found) == {"test_add", "test_plain"}
    for text in found.values():
        assert text.startswith(CHANGED + "IPython input transformers changed")
        assert "shell.input_transformers_post: added __main__.<lambda>" in text


def test_an_ast_transformer_is_a_change():
    hostile = answer("import ast\nclass T(ast.NodeTransformer):\n"
                     "    def visit_Assert(self, node):\n        return ast.Pass()\n"
                     "get_ipython().ast_transformers.append(T())\n" + ADD.source)
    _, cells = grade(fresh(SETUP, hostile, TEST_PLAIN))
    assert "IPython AST transformers changed" in verdicts(cells)["test_plain"]


def test_a_rebound_name_zeroes_only_the_tests_that_use_it():
    hostile = answer(ADD.source + "\nassert_close = lambda *a, **k: None")
    _, cells = grade(fresh(SETUP, hostile, TEST_ADD, TEST_TWICE, TEST_PLAIN))
    found = verdicts(cells)
    assert "`assert_close` was rebound to __main__.<lambda> (cell 'setup' bound it to" \
        " course.checks.core.assert_close)" in found["test_add"]
    assert "`assert_close` was rebound" in found["test_twice"]  # through the helper twice()
    assert found["test_plain"] is None


def test_a_patched_course_function_is_a_change():
    import course.checks.core as core

    saved = dict(core.assert_close.__kwdefaults__)
    try:
        hostile = answer("import course.checks.core\n"
                         "course.checks.core.assert_close.__kwdefaults__['rtol'] = 1e300\n"
                         + ADD.source)
        _, cells = grade(fresh(SETUP, hostile, TEST_PLAIN))
    finally:
        core.assert_close.__kwdefaults__.update(saved)
    assert "course.checks.core.assert_close had its keyword defaults or closure changed" in \
        verdicts(cells)["test_plain"]


def test_a_patched_builtin_is_a_change():
    import builtins

    saved = builtins.AssertionError
    try:
        hostile = answer("import builtins\nbuiltins.AssertionError = Warning\n" + ADD.source)
        _, cells = grade(fresh(SETUP, hostile, TEST_PLAIN))
    finally:
        builtins.AssertionError = saved
    assert verdicts(cells)["test_plain"] == CHANGED + "builtins.AssertionError was replaced"


def test_a_replaced_probe_is_not_trusted():
    hostile = answer("import sys\n"
                     "for _n, _m in list(sys.modules.items()):\n"
                     "    if _n.startswith('_autograder_probe_'):\n"
                     "        _m.probe_class.probe = staticmethod(lambda c, r: 'ab:{}')\n"
                     + ADD.source)
    _, cells = grade(fresh(SETUP, hostile, TEST_PLAIN))
    assert verdicts(cells)["test_plain"] == CHANGED + (
        "the kernel's answer to the grader's check is not authentic")


def test_a_changed_probe_class_cannot_be_found():
    hostile = answer("import sys\n"
                     "for _n, _m in list(sys.modules.items()):\n"
                     "    if _n.startswith('_autograder_probe_'):\n"
                     "        _m.probe_class.__name__ = 'gone'\n" + ADD.source)
    _, cells = grade(fresh(SETUP, hostile, TEST_PLAIN))
    assert verdicts(cells)["test_plain"] == CHANGED + (
        "the grader's check failed in the kernel (IndexError)")


# -- the seal ---------------------------------------------------------------------------------


def test_a_test_that_stops_silently_has_not_run_to_its_end():
    kernel = Kernel()
    kernel.hide_errors = True  # as if the traceback were hidden in a way the probe misses
    wrong = answer("def add(a, b):\n    return 1")
    _, cells = grade(fresh(SETUP, wrong, TEST_PLAIN), kernel)
    assert verdicts(cells)["test_plain"] == NOT_RUN + (
        "its last line never ran (the kernel reported an error that no output shows)")


def test_a_seal_called_by_other_code_is_not_evidence():
    kernel = Kernel()
    kernel.hide_errors = True
    cheat = answer(
        "import re, sys\n"
        "def add(a, b):\n"  # calls the seal itself, with the nonce of the test calling it
        "    raw = get_ipython().displayhook.exec_result.info.raw_cell\n"
        "    nonce, digest = re.search(r\"'autograder seal (\\w+) (\\w+)'\", raw).groups()\n"
        "    name = [n for n in sys.modules if n.startswith('_autograder_probe_')][-1]\n"
        "    sys.modules[name].probe_class.seal(nonce, digest)\n"
        "    raise RuntimeError('stop here')\n")
    _, cells = grade(fresh(SETUP, cheat, TEST_PLAIN), kernel)
    assert verdicts(cells)["test_plain"] == NOT_RUN + (
        "its last line was reached from other code (called from add(), not called by"
        " IPython's run_code)")


def test_a_seal_with_a_made_up_nonce_is_a_change():
    cheat = answer("import sys\n"
                   "for _n, _m in list(sys.modules.items()):\n"
                   "    if _n.startswith('_autograder_probe_'):\n"
                   "        _m.probe_class.seal('0' * 32, '0' * 64)\n" + ADD.source)
    _, cells = grade(fresh(SETUP, cheat, TEST_PLAIN))
    assert "the grader's seal was called by the notebook" in verdicts(cells)["test_plain"]


def test_the_seal_sees_transformers_the_baseline_accepted():
    # Installed by an instructor cell, the transformers are part of the baseline, so only
    # the seal can see them: it compares what ran with IPython's own transformers at boot.
    setup = locked(SETUP.source + "\nget_ipython().input_transformers_post.append("
                   "lambda lines: lines[-1:])", "setup")
    _, cells = grade(fresh(setup, ADD, TEST_PLAIN))
    assert verdicts(cells)["test_plain"] == CHANGED + (
        "input transformers changed the test while it ran")
    setup = locked(SETUP.source + "\nimport ast\nget_ipython().ast_transformers.append("
                   "ast.NodeTransformer())", "setup")
    _, cells = grade(fresh(setup, ADD, TEST_PLAIN))
    assert verdicts(cells)["test_plain"] == CHANGED + (
        "AST transformers were active while the test ran")


def test_a_kernel_that_does_not_answer_fails_closed():
    _, cells = grade(fresh(SETUP, ADD, TEST_PLAIN), send=lambda expression: None)
    assert verdicts(cells)["test_plain"] == NOT_RUN + (
        "the grader could not install its check in the kernel")


def test_a_failing_test_keeps_its_own_error():
    wrong = answer("def add(a, b):\n    return 1")
    _, cells = grade(fresh(SETUP, wrong, TEST_PLAIN))
    assert verdicts(cells)["test_plain"] is None
    assert [o["ename"] for o in cells[2].outputs] == ["AssertionError"]


def test_honest_habits_do_not_trip_the_check():
    habits = answer(
        "%load_ext autoreload\n%autoreload 2\n"
        "import collections, concurrent.futures, dataclasses\n"
        "import numpy as np\n"
        "from course.numeric import sigmoid  # a course module the setup did not import\n"
        "Pair = collections.namedtuple('Pair', 'a b')\n\n\n"
        "@dataclasses.dataclass(frozen=True)\nclass Point:\n    x: float\n\n\n"
        "pool = concurrent.futures.ThreadPoolExecutor(2)  # idle workers stay\n"
        "print(list(pool.map(sigmoid, [0.0, 1.0])))\n"
        "W = np.zeros(3)  # data names may change freely\n"
        + ADD.source)
    _, cells = grade(fresh(SETUP, habits, TEST_ADD, TEST_TWICE, TEST_PLAIN))
    assert verdicts(cells) == {"test_add": None, "test_twice": None, "test_plain": None}
