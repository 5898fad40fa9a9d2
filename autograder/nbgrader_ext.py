"""An nbgrader ``Execute`` preprocessor that survives code which ignores interrupts.

What stock nbgrader 0.9.6 does when a cell runs past ``Execute.timeout`` (verified):

- It interrupts the kernel (SIGINT) and records a ``CellTimeoutError`` output in the cell;
  a plain ``while True: pass`` then stops with ``KeyboardInterrupt`` and the following
  cells run normally.
- A loop that catches and swallows ``KeyboardInterrupt`` (``time.sleep`` inside
  ``try/except KeyboardInterrupt``) keeps the kernel busy. With the default
  ``raise_on_iopub_timeout = True`` autograde then fails the whole submission: the
  autograded notebook is deleted and nothing is recorded. With ``False`` it goes on, but
  the busy kernel never answers again, so *every* later cell waits for the full timeout
  (timeout + 4 s each): a 30-cell notebook takes about 17 minutes to score 0.

``GuardedExecute`` keeps the stock behaviour and adds one step: after a timed-out cell it
asks the kernel for ``kernel_info`` (a busy ipykernel does not answer shell requests). If
the kernel does not answer within ``unresponsive_grace`` seconds, the remaining code
cells are not sent to it; each gets a ``KernelUnresponsiveError`` output instead, so
nbgrader scores them 0 at once, keeps the points earned before the loop, and shuts the
kernel down as usual. It relies on nbclient 0.11 internals (``_async_handle_timeout``,
``_get_timeout``), which pyproject.toml pins.

Cell time budgets: a cell that trains a model may need far more than ``Execute.timeout``
on a loaded machine. ``cell_budgets`` gives such cells their own limit, keyed by notebook
and grade_id. The grader sets it on nbgrader's command line from the instructor's source
notebooks (``metadata.autograder.timeout``, read by ``autograder.catalog``); it never
comes from the submitted notebook, whose metadata the student controls, nor from a file
that the student's code could rewrite while an earlier notebook runs.

Fail-closed tests (``fail_closed``, on by default): every graded test cell is sent with a
seal appended and the kernel's test machinery is checked before and after it, through
silent requests whose ``user_expressions`` the grader evaluates (``autograder.failclosed``
says what is sent and checked). A test cell without evidence that it ran to its end, or
that ran after the notebook changed the machinery, gets one ``TestTampered`` error output
instead of its own, so nbgrader scores it 0.

Stored outputs are capped (``output_limit`` per cell, ``notebook_output_limit`` per
notebook; see ``autograder/outputs.py``) while the cells run, with a note where output was
cut. With ``sandbox`` (set by the grader on the command line) every kernel is started
by ``autograder.sandbox.SandboxKernelManager``, inside bubblewrap; its report on the
kernel is named after the notebook.

``HideHiddenTests`` runs in ``generate_feedback``: the feedback shows the hidden tests'
failure messages, not their source.
"""

from __future__ import annotations

import re
import time
from queue import Empty
from typing import Any

from jupyter_core.utils import ensure_async, run_sync
from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, Integer

from autograder import failclosed
from autograder.outputs import cap_outputs, output_size

UNRESPONSIVE_ENAME = "KernelUnresponsiveError"
TIMEOUT_ENAME = "CellTimeoutError"  # nbgrader's Execute.error_on_timeout


def cell_limit(budget: float | None, timeout: float | None) -> float | None:
    """A cell's time limit: its budget, but never below the per-cell ``Execute.timeout``.

    ``None`` means no limit (``timeout`` None or 0 disables nbclient's limit); a budget
    does not impose one where the grader disabled it.
    """
    if budget is None or not timeout:
        return timeout
    return max(float(budget), float(timeout))


def cell_label(cell: NotebookNode, index: int) -> str:
    """Name a cell for messages: its nbgrader grade_id, else its position."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell '{grade_id}'" if grade_id else f"cell {index + 1}"


class GuardedExecute(Execute):
    """nbgrader's Execute, plus: stop feeding cells to a kernel that ignores interrupts."""

    unresponsive_grace = Integer(
        5,
        help="Seconds a kernel may take to answer after a timed-out cell was interrupted.",
    ).tag(config=True)

    cell_budgets = Dict(
        help="Time limits in seconds for cells that need more than Execute.timeout,"
        " {notebook name: {grade_id: seconds}}. Set by the grader from the instructor's"
        " source notebooks (metadata.autograder.timeout); never from the submission.",
    ).tag(config=True)

    fail_closed = Bool(
        True,
        help="Seal every graded test cell and check the kernel's test machinery around it"
        " (autograder.failclosed); a test without that evidence scores 0.",
    ).tag(config=True)

    probe_timeout = Integer(
        30,
        help="Seconds the kernel may take to answer one of the grader's checks.",
    ).tag(config=True)

    output_limit = Integer(
        1_000_000,
        help="Characters of output a cell may store (text, images, tracebacks); the rest is"
        " cut, with a note. Errors and results, which decide the score, are kept.",
    ).tag(config=True)

    notebook_output_limit = Integer(
        10_000_000, help="Characters of output a whole notebook may store.",
    ).tag(config=True)

    reference_watch = Bool(
        True,
        help="Before any cell runs, make the course's reference implementations raise when"
        " a student's code calls them (course.checks.references): that cell loses its"
        " points with the reason 'calls the course's reference implementation of ...'.",
    ).tag(config=True)

    sandbox = Bool(
        False, help="Start kernels with autograder.sandbox.SandboxKernelManager (set by the"
        " grader; settings in c.Sandbox).",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> Any:
        self._timed_out = False
        self._stuck_after: str | None = None
        self._budgets = self.budgets_for(resources)  # read before any student code runs
        self._notebook_name = ((resources or {}).get("nbgrader") or {}).get("notebook")
        self._output_used = 0  # characters stored by the cells before this one
        self._cell_used = 0
        self._last_reply: dict | None = None
        self._guard = (failclosed.Guard(nb.cells, self.send_probe, self.log)
                       if self.fail_closed else None)
        self._watch_sent = not self.reference_watch
        self._instructor_sources = [c.source for c in nb.cells
                                    if c.cell_type == "code" and failclosed.is_instructor(c)]
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._guard is not None:
                self.log.info("fail-closed tests: %d checks of the kernel in %.2f s",
                              self._guard.probes, self._guard.seconds)

    def on_cell_executed(self, **kwargs: Any) -> Any:
        self._last_reply = kwargs.get("execute_reply")
        return super().on_cell_executed(**kwargs)

    async def _async_send_probe(self, expression: str) -> dict | None:
        """Evaluate ``expression`` as a user expression of a silent, empty execute request;
        its result dict, or None when the kernel does not answer in ``probe_timeout``."""
        msg_id = self.kc.execute("", silent=True, store_history=False, allow_stdin=False,
                                 stop_on_error=False, user_expressions={"probe": expression})
        deadline = time.monotonic() + self.probe_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=min(remaining, 1)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    return None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return (msg.get("content", {}).get("user_expressions") or {}).get("probe")
        return None

    send_probe = run_sync(_async_send_probe)

    def install_reference_watch(self) -> None:
        """Watch the reference implementations (before the fail-closed baseline is taken,
        so that the wrappers are part of it)."""
        from autograder.kit import hidden_modules

        expression = (f"__import__('course.checks.references', fromlist=['install']).install("
                      f"{hidden_modules()!r}, {self._instructor_sources!r})")
        result = self.send_probe(expression)
        if not isinstance(result, dict) or result.get("status") != "ok":
            detail = result.get("evalue") if isinstance(result, dict) else "no answer"
            self.log.warning("the reference watch could not be installed: %s", detail)

    def create_kernel_manager(self) -> Any:
        if self.sandbox:
            from autograder.sandbox import SandboxKernelManager

            self.kernel_manager_class = SandboxKernelManager
        km = super().create_kernel_manager()
        if self.sandbox and getattr(self, "_notebook_name", None):
            km.report_name = self._notebook_name
        return km

    async def async_start_new_kernel_client(self) -> Any:
        kc = await super().async_start_new_kernel_client()
        seal = getattr(self.km, "seal", None)
        if seal is not None:  # the sandboxed kernel is up: no student code has run yet
            seal()
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _cell_output_limit(self) -> tuple[int, str]:
        left = max(0, self.notebook_output_limit - getattr(self, "_output_used", 0))
        if left < self.output_limit:
            return left, "the notebook's output"
        return self.output_limit, "this cell's output"

    def output(self, outs: list, msg: dict, display_id: Any, cell_index: int) -> Any:
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            self._cell_used += output_size(out)
            limit, _ = self._cell_output_limit()
            if self._cell_used > 2 * limit + 100_000:  # keep memory bounded while it runs
                limit, what = self._cell_output_limit()
                outs[:] = cap_outputs(outs, limit, what)[0]
                self._cell_used = sum(output_size(o) for o in outs)
        return out

    def budgets_for(self, resources: Any) -> dict[str, float]:
        """grade_id -> budget for the notebook nbgrader is grading (its notebook id)."""
        name = ((resources or {}).get("nbgrader") or {}).get("notebook")
        return dict(self.cell_budgets.get(name) or {})

    def _get_timeout(self, cell: NotebookNode | None) -> Any:
        timeout = super()._get_timeout(cell)
        if cell is None:
            return timeout
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        return cell_limit(getattr(self, "_budgets", {}).get(grade_id), timeout)

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> Any:
        self._timed_out = True
        reply = await super()._async_handle_timeout(timeout, cell)
        if reply is not None and reply.get("content", {}).get("ename") == TIMEOUT_ENAME:
            # say which limit it was: the feedback shows this text to the student
            text = f"interrupted: still running after this cell's {timeout:g} s limit"
            reply = {"content": {**reply["content"], "evalue": text,
                                 "traceback": [f"\x1b[0;31m{TIMEOUT_ENAME}\x1b[0m: {text}"]}}
        return reply

    async def _async_kernel_answers(self, wait: float) -> bool:
        """True when the kernel replies to a kernel_info request within ``wait`` seconds."""
        msg_id = self.kc.kernel_info()
        deadline = time.monotonic() + wait
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=remaining))
            except Empty:
                return False
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False

    kernel_answers = run_sync(_async_kernel_answers)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        runs_code = cell.cell_type == "code" and cell.source.strip()
        if self._stuck_after is not None and runs_code:
            cell.outputs = [
                NotebookNode(
                    output_type="error",
                    ename=UNRESPONSIVE_ENAME,
                    evalue=f"not run: the kernel ignored the interrupt after {self._stuck_after}"
                    f" timed out",
                    traceback=[f"{UNRESPONSIVE_ENAME}: not run, the kernel was unresponsive"],
                )
            ]
            cell.execution_count = None
            return cell, resources
        if runs_code and not self._watch_sent:
            self._watch_sent = True
            self.install_reference_watch()
        guard = self._guard if runs_code else None
        pending = guard.before(cell, index) if guard else None  # may append the seal
        self._timed_out = False
        self._last_reply = None
        self._cell_used = 0
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        finally:
            if pending:
                pending.restore(cell)  # the feedback shows the test as written
        if cell.cell_type == "code":
            limit, what = self._cell_output_limit()
            cell.outputs = cap_outputs(cell.outputs, limit, what)[0]
            self._output_used += sum(output_size(o) for o in cell.outputs)
        if self._timed_out and not self.kernel_answers(self.unresponsive_grace):
            self._stuck_after = cell_label(cell, index)
            self.log.error(
                "The kernel ignored the interrupt after %s timed out; the remaining cells are"
                " not run and score 0.",
                self._stuck_after,
            )
        if guard and self._stuck_after is None:  # a stuck kernel answers no check
            guard.after(cell, index, pending, self._last_reply, cell_label(cell, index))
        return cell, resources


HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS\n?", re.S)
HIDDEN_NOTE = "# hidden tests: not shown (their messages are in the output below)\n"


class HideHiddenTests(Preprocessor):
    """Feedback without the hidden tests' source: their failure messages, not their code.

    In every graded test cell the block between ``### BEGIN HIDDEN TESTS`` and ``### END
    HIDDEN TESTS`` becomes one comment line, and every error output keeps only its last
    line (``Name: message``): a traceback quotes the lines it went through, hidden ones
    included. Printed output is kept. ``c.HideHiddenTests.enabled = False`` shows
    everything (nbgrader's default feedback).
    """

    enabled = Bool(True, help="Hide the hidden tests' source in the feedback.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not self.enabled or cell.cell_type != "code" or not meta.get("grade") \
                or meta.get("solution") or "### BEGIN HIDDEN TESTS" not in cell.source:
            return cell, resources
        cell.source = HIDDEN_BLOCK.sub(HIDDEN_NOTE, cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: "
                                       f"{output.get('evalue', '')}"]
        return cell, resources
