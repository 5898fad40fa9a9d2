"""Graded test cells that fail closed, and a check of the kernel's test machinery.

nbgrader runs the tests in the kernel that ran the student's code, after it, and gives full
points to a test cell that stays silent. One line in an answer cell,
``get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])``, turns every
later test into ``pass``; rebinding ``assert_close`` or patching ``course.checks`` makes a
check vacuous; a trace function can skip the asserts. ``Guard`` (driven by
``autograder.nbgrader_ext.GuardedExecute``) makes every graded test cell earn its points
only on evidence the grader can check:

1. **A seal at the end of the test.** The cell sent to the kernel is the test's own source
   plus one line, ``'autograder seal NONCE DIGEST'``: a nonce chosen per cell with
   ``secrets`` and the SHA-256 of the text sent. The probe's AST transformer (installed
   with the probe) turns that line into a call of the seal after the test's last statement
   (a final expression becomes its argument and keeps its value, so partial credit still
   works, and every line of the test keeps its number and text in tracebacks). The seal
   records whether it was called by the cell itself (a ``<module>`` frame run by IPython's
   ``run_code``, not nested), with no trace or profile function, for the very text the
   grader sent, as IPython's own input transformers would have turned it into code, with
   no other AST transformer. After the cell the grader asks for the seals; without this
   cell's nonce, and without an error output of its own, the cell scores 0: "the test did
   not run to its end: ...". The cell's source is restored before anything is saved: the
   feedback shows the test as written.
2. **A check of the machinery.** Before every test cell and after every instructor cell
   the grader probes the kernel (``autograder/kernel_probe.py``): input and AST
   transformers, event callbacks, the shell's, kernel's and session's methods and
   instance overrides, builtins, ``sys.settrace``/``setprofile``/``threading.settrace``,
   import hooks, threads, every ``course`` module (attributes, class members, a
   function's code, defaults and closure) and the modules they use (numpy, torch, ...),
   and the notebook names that instructor cells bound to functions, classes or modules and
   that the test uses (``assert_close``, ``reference``, ...). The first answer is the
   baseline, updated while only instructor cells (locked cells, restored from the
   gradebook) have run; any later difference, outside a short list of honest ones (the
   matplotlib backend's post_execute callback, modules imported later, numpy or torch
   rebinding their own functions), zeroes the test cells it was seen before or after:
   "the notebook changed the test machinery: ...".

Why ``user_expressions``: IPython's input transformers also transform the code of silent
execute requests, but user expressions are evaluated with ``eval`` after the request's
(empty) code, untouched by them (verified in ipykernel 7.4.0's ``do_execute`` and
IPython 9's ``InteractiveShell.user_expressions``). The probe class is found from a literal
(``().__class__.__base__.__subclasses__()``), not by a name the notebook could rebind.

Where the secrets live: the HMAC key, the probe class's name, the challenges and the seal
nonces are drawn with ``secrets`` in the grader process for each run; the baseline is kept
there too. The kernel's answers (the ``repr`` of a dict, read with ``ast.literal_eval``) are
authenticated with HMAC-SHA256 over the grader's fresh challenge, so an answer recorded
earlier, or made up by code that has not found the key, is rejected.

Limits: this raises the bar, it does not contain. Code in the same interpreter can find
the key, patch what the probe does not look at (numpy's internals, C extensions), run a
thread or a tracer that undoes itself before the grader looks, or forge the code objects
the probe inspects. The sandbox (autograder/runner.py) contains what such code can reach;
only a test run in a fresh interpreter, apart from the student's, would not trust it.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode

TAMPERED_ENAME = "TestTampered"
CHANGED = "the notebook changed the test machinery: "
NOT_RUN = "the test did not run to its end: "
KERNEL_SOURCE = (Path(__file__).with_name("kernel_probe.py")).read_text(encoding="utf-8")
CATEGORIES = ("ipython", "builtins", "trace", "threads", "course", "deps")
# Categories where an entry may appear later: modules imported after the baseline. Their
# new entries are accepted unless the probe marked them "!" (defined in the notebook, or in
# a file outside the Python installation and the course package).
GROWING = frozenset({"course", "deps"})
# The modules the course uses (numpy, torch, ...) patch themselves: importing torch._dynamo
# wraps torch.manual_seed. There only values marked "!" count, replaced or added.
LENIENT = frozenset({"deps"})
SHOWN_FINDINGS = 3
PLACEHOLDER = "0" * 64  # kernel_probe.PLACEHOLDER: the digest's place in the text it covers
MARKER = "autograder seal "  # kernel_probe.MARKER
# What the seal found wrong (kernel_probe._State.seal), as machinery changes.
SEAL_FINDINGS = {
    "trace": "a trace function was active while the test ran",
    "profile": "a profile function was active while the test ran",
    "sent": "the cell that ran is not the test the grader sent",
    "transformed": "input transformers changed the test while it ran",
    "ast": "AST transformers were active while the test ran",
}

Send = Callable[[str], Any]  # a user expression -> its result dict, or None: no answer


# -- what the grader sends -------------------------------------------------------------------


def finder(name: str) -> str:
    """An expression that finds the probe class without looking up a name."""
    return f"[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == {name!r}][0]"


def boot_expression(name: str, key: str) -> str:
    """Install the probe in a kernel nothing has run in: its builtins and ``get_ipython``
    are still IPython's own. The probe keeps its own copy of the builtins."""
    source = KERNEL_SOURCE + f"\ninstall({name!r}, {key!r}, shell)\n"
    return (f"__import__('builtins').exec({source!r}, {{'__name__': 'autograder_kernel_probe',"
            " '__builtins__': dict(__import__('builtins').__dict__), 'shell': get_ipython()})"
            " or 'installed'")


def python_source(source: str) -> ast.Module | None:
    """The cell as Python (IPython syntax such as magics transformed), or None."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, TypeError):
        return None


def sealed_source(source: str, nonce: str, digest: str) -> str:
    """``source`` and a last line that the probe's AST transformer turns into the seal.

    The lines of the test stay as written, so tracebacks point at the same lines and show
    the same text. A final expression becomes the seal's argument and stays the cell's
    result (nbgrader's partial credit), unless a final ';' hides it ('quiet').
    """
    body = source.rstrip()
    quiet = " quiet" if _quiet(body) else ""
    return f"{body}\n{MARKER + nonce + ' ' + digest + quiet!r}\n"


def _quiet(source: str) -> bool:
    """IPython shows no value for a cell whose last line ends with ';' (comments aside)."""
    import io
    import tokenize

    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
                  if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                    tokenize.ENDMARKER, tokenize.DEDENT, tokenize.INDENT)]
    except (tokenize.TokenError, SyntaxError):
        return False
    return bool(tokens) and tokens[-1].string == ";"


# -- which names a test depends on (static, on the instructor's sources) ----------------------


def bound_names(tree: ast.Module | None) -> set[str]:
    """Names a cell binds at top level (imports, defs, classes, assignments, loops, with)."""
    names: set[str] = set()
    if tree is None:
        return names

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in tree.body:
        visit(statement)
    return names


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def _locals(scope: ast.AST) -> set[str]:
    """Parameters and names a function (or comprehension) binds: not globals."""
    names = set()
    args = getattr(scope, "args", None)
    if isinstance(args, ast.arguments):
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        names |= {a.arg for a in every if a is not None}
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node is not scope:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {a.asname or a.name.split(".")[0] for a in node.names}
    return names


def free_names(node: ast.AST, bound: frozenset[str] = frozenset()) -> set[str]:
    """Global names that ``node`` reads (a function's parameters and locals are not)."""
    if isinstance(node, ast.Name):
        return {node.id} - bound if isinstance(node.ctx, ast.Load) else set()
    if isinstance(node, _SCOPES):
        bound = bound | _locals(node)
    out: set[str] = set()
    for child in ast.iter_child_nodes(node):
        out |= free_names(child, bound)
    return out


def definitions(tree: ast.Module | None) -> dict[str, set[str]]:
    """Top-level function and class name -> the global names its body reads."""
    if tree is None:
        return {}
    return {node.name: free_names(node) for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def watched_names(test: ast.Module | None, helpers: dict[str, set[str]],
                  bound_by_instructor: set[str]) -> set[str]:
    """The instructor-bound names a test reads, directly or through instructor helpers
    (``reference`` in a test reads ``FVSBN``), minus those the test binds itself first."""
    if test is None:
        return set()
    own = bound_names(test)
    todo = free_names(test) - own
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo |= helpers.get(name, set()) - seen
    return seen & bound_by_instructor


# -- cells --------------------------------------------------------------------------------------


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test(cell: NotebookNode) -> bool:
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get(
        "solution")


def is_instructor(cell: NotebookNode) -> bool:
    """A cell whose source nbgrader restored from the gradebook before execution: a locked
    cell (tests included) with a grade_id (OverwriteCells resets ``locked`` and the source
    of every cell whose grade_id the gradebook knows)."""
    meta = _nbgrader(cell)
    locked = bool(meta.get("grade")) or bool(meta.get("locked"))
    return bool(meta.get("grade_id")) and locked and not meta.get("solution")


def tampered_output(text: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=TAMPERED_ENAME, evalue=text,
                        traceback=[f"\x1b[0;31m{TAMPERED_ENAME}\x1b[0m: {text}"])


def hide_marker(cell: NotebookNode, marker: str) -> None:
    """Drop the seal's line from the context lines of the cell's tracebacks."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error" and isinstance(output.get("traceback"), list):
            output["traceback"] = ["\n".join(line for line in chunk.split("\n")
                                             if marker not in line)
                                   for chunk in output["traceback"]]


def summarize(findings: list[str]) -> str:
    unique = list(dict.fromkeys(findings))
    shown = "; ".join(unique[:SHOWN_FINDINGS])
    more = len(unique) - SHOWN_FINDINGS
    return shown + (f" (and {more} more)" if more > 0 else "")


# -- comparing answers --------------------------------------------------------------------------


def _changed_part(old: str, new: str) -> str:
    """How a function entry changed: 'replaced', or which part of it."""
    a, b = old.split(":"), new.split(":")
    if not (a[0].startswith("f") and b[0].startswith("f")) or a[0] != b[0]:
        return "was replaced"
    if len(a) > 1 and len(b) > 1 and a[1] != b[1]:
        return "had its code replaced"
    if len(a) > 2 and len(b) > 2 and a[2] != b[2]:
        return "had its defaults changed"
    return "had its keyword defaults or closure changed"


def _list_change(old: str, new: str) -> str:
    before, after = [x for x in old.split(", ") if x], [x for x in new.split(", ") if x]
    added = [x for x in after if x not in before]
    removed = [x for x in before if x not in after]
    parts = ([f"added {', '.join(added)}"] if added else []) + (
        [f"removed {', '.join(removed)}"] if removed else [])
    return "; ".join(parts) or f"replaced, now [{new}]"


def describe(category: str, key: str, old: list | None, new: list | None) -> str:
    """One finding, in words an instructor and a student can act on."""
    new_label = new[1] if new else ""
    if category == "trace":
        if new is None:
            return f"{key} was removed"
        return f"{key} was changed (now {new_label or 'empty'})"
    if category == "threads":
        return f"a thread started by the notebook runs during the tests ({new_label})"
    if category == "ipython" and (key.startswith(("shell.input_transformers", "shell.ast_",
                                                  "input_transformer_manager.", "events.",
                                                  "shell.custom_exceptions"))):
        what = {"events.": "IPython event callbacks"}.get(key[:7], "IPython input transformers")
        if key.startswith("shell.ast_"):
            what = "IPython AST transformers"
        elif key.startswith("shell.custom_exceptions"):
            what = "IPython's exception handlers"
        if not new:
            return f"{key} was removed"
        return f"{what} changed ({key}: {_list_change(old[1] if old else '', new_label)})"
    where = {"ipython": "IPython's ", "builtins": "", "course": "", "deps": ""}[category]
    if old is None:
        return f"{where}{key} was added by the notebook ({new_label})"
    if new is None:
        return f"{where}{key} was removed"
    return f"{where}{key} {_changed_part(old[0], new[0])}"


def rebinding(name: str, ident: str, now: list, label: str, where: str) -> str:
    """A notebook name that an instructor cell bound to a function, class or module, and
    that now holds something else (or the same function with other code)."""
    if now[0] in ("missing", "data"):
        return f"`{name}` was deleted or rebound to a {now[1]} ({where} bound it to {label})"
    if now[0].split(":")[0] == ident.split(":")[0]:
        return f"`{name}` ({label}) {_changed_part(ident, now[0])}"
    return f"`{name}` was rebound to {now[1]} ({where} bound it to {label})"


def compare(category: str, base: dict[str, list], now: dict[str, list]) -> list[str]:
    findings = []
    for key in sorted(base.keys() | now.keys()):
        old, new = base.get(key), now.get(key)
        if old is not None and new is not None and old[0] == new[0]:
            continue
        if category in LENIENT and (new is None or "!" not in new[0]):
            continue
        if old is None and category in GROWING and "!" not in new[0]:
            continue  # a module imported later, or a new attribute of a real file's code
        if new is None and category == "threads":
            continue  # a thread that ended
        findings.append(describe(category, key, old, new))
    return findings


@dataclasses.dataclass
class Answer:
    """A verified answer of the probe."""

    digests: dict[str, str]
    details: dict[str, dict[str, list]]
    names: dict[str, list]
    seals: list[list]


class Forged(Exception):
    """The kernel's answer is not the probe's (bad tag, stale challenge, not JSON)."""


def verify(result: Any, key: str, challenge: str) -> Answer:
    """Check one user_expressions result; raise Forged unless it is authentic."""
    if not isinstance(result, dict) or result.get("status") != "ok":
        ename = result.get("ename", "?") if isinstance(result, dict) else "?"
        raise Forged(f"the grader's check failed in the kernel ({ename})")
    try:
        text = ast.literal_eval(result["data"]["text/plain"])
        tag, body = text.split(":", 1)
    except (KeyError, TypeError, ValueError, SyntaxError, AttributeError) as err:
        raise Forged(f"the kernel's answer to the grader's check is garbled ({err!r:.60})") \
            from None
    expected = hmac.new(bytes.fromhex(key), challenge.encode() + b"\0" + body.encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(tag, expected):
        raise Forged("the kernel's answer to the grader's check is not authentic")
    try:
        data = ast.literal_eval(body)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as err:
        raise Forged(f"the kernel's answer to the grader's check is garbled ({err!r:.60})") \
            from None
    if not isinstance(data, dict) or data.get("challenge") != challenge:
        raise Forged("the kernel's answer to the grader's check is a replay")
    return Answer(data["digests"], data["details"], data["names"], data["seals"])


# -- one notebook run -----------------------------------------------------------------------------


@dataclasses.dataclass
class Pending:
    """A test cell on its way to the kernel: its real source and what was seen before it."""

    source: str
    nonce: str | None  # None: not sealed (a cell magic)
    findings: list[str]  # changed machinery seen before the test
    problems: list[str] = dataclasses.field(default_factory=list)  # why it cannot be trusted

    def restore(self, cell: NotebookNode) -> None:
        cell.source = self.source


class Guard:
    """The fail-closed check for one notebook: call ``before`` and ``after`` around every
    code cell that is sent to the kernel. ``send`` runs one user expression in the kernel
    (a silent request with empty code) and returns its result dict, or None."""

    def __init__(self, cells: list[NotebookNode], send: Send, log: Any = None) -> None:
        self.send = send
        self.log = log
        self.name = "_autograder_probe_" + secrets.token_hex(12)
        self.key = secrets.token_hex(32)
        self.booted = False
        self.broken: str | None = None  # why the probe cannot be trusted at all
        self.clean = True  # no student code has run yet: answers become the baseline
        self.baseline: dict[str, dict[str, list]] = {}
        self.digests: dict[str, str] = {}
        self.expected: dict[str, tuple[str, str, str]] = {}  # name -> (ident, label, cell)
        self.issued: set[str] = set()  # every seal nonce sent in this run
        self.probes, self.seconds = 0, 0.0  # what the checks cost (logged by GuardedExecute)
        self.trees = {i: python_source(c.source) for i, c in enumerate(cells)
                      if is_instructor(c)}
        self.bound = {i: bound_names(t) for i, t in self.trees.items()}
        helpers: dict[str, set[str]] = {}
        for tree in self.trees.values():
            for name, refs in definitions(tree).items():
                helpers.setdefault(name, set()).update(refs)
        everything = set().union(*self.bound.values()) if self.bound else set()
        self.module_names = sorted(everything)
        self.watched = {i: watched_names(self.trees[i], helpers, everything)
                        for i, c in enumerate(cells) if is_test(c)}

    # -- talking to the kernel ------------------------------------------------------------

    def _probe(self, names: list[str] = ()) -> Answer:
        challenge = secrets.token_hex(16)
        request = {"digests": dict(self.digests), "names": sorted(names),
                   "modules": self.module_names}
        start = time.perf_counter()
        expression = f"{finder(self.name)}.probe({challenge!r}, {request!r})"
        try:
            result = self.send(expression)
            if isinstance(result, dict) and result.get("ename") == "KeyboardInterrupt":
                result = self.send(expression)  # a late interrupt of a timed-out cell
            if result is None:
                raise TimeoutError("the kernel did not answer the grader's check")
            return verify(result, self.key, challenge)
        finally:
            self.probes += 1
            self.seconds += time.perf_counter() - start

    def boot(self) -> None:
        self.booted = True
        result = self.send(boot_expression(self.name, self.key))
        if not isinstance(result, dict) or result.get("status") != "ok":
            self.broken = "the grader could not install its check in the kernel"
            return
        try:
            self.accept(self._probe())
        except (Forged, TimeoutError) as err:
            self.broken = str(err)

    def accept(self, answer: Answer) -> None:
        for category, entries in answer.details.items():
            self.baseline[category] = entries
        self.digests.update(answer.digests)

    def check(self, names: list[str] = ()) -> tuple[list[str], Answer | None]:
        """Probe the kernel: (findings, answer). A forged answer is a finding; no answer
        (or no probe) gives no findings and no answer."""
        if self.broken:
            return [], None
        try:
            answer = self._probe(names)
        except Forged as err:
            return [str(err)], None
        except TimeoutError:
            return [], None
        findings = []
        # a nonce the grader never sent; an earlier cell's (its check timed out) is no sign
        if any(nonce not in self.issued for nonce, _ in answer.seals):
            findings.append("the grader's seal was called by the notebook")
        if self.clean:
            self.accept(answer)
            return findings, answer
        for category in CATEGORIES:
            if category not in answer.details:
                continue
            found = compare(category, self.baseline.get(category, {}),
                            answer.details[category])
            if found:
                findings += found
            else:  # honest growth (modules imported since): the new normal
                self.baseline[category] = answer.details[category]
                self.digests[category] = answer.digests[category]
        return findings, answer

    # -- around each cell -------------------------------------------------------------------

    def before(self, cell: NotebookNode, index: int) -> Pending | None:
        if not self.booted:
            self.boot()
        if index not in self.trees:
            self.clean = False  # student code runs next: the baseline is final
            return None
        if not is_test(cell):
            return None
        names = sorted(self.watched.get(index, set()) & self.expected.keys())
        findings, answer = self.check(names)
        problems = []
        if answer is not None:
            for name in names:
                ident, label, where = self.expected[name]
                now = answer.names.get(name, ["missing", "nothing"])
                if now[0] != ident:
                    findings.append(rebinding(name, ident, now, label, where))
        elif not findings:
            problems.append(self.broken or "the kernel did not answer the grader's check"
                            " before it")
        pending = Pending(cell.source, None, findings, problems)
        if self.broken:
            return pending  # no probe class to seal with: the test cannot earn its points
        if cell.source.lstrip().startswith("%%"):
            if self.log:
                self.log.warning("test cell %s starts with a cell magic: not sealed", index)
            return pending
        pending.nonce = secrets.token_hex(16)
        self.issued.add(pending.nonce)
        sent = sealed_source(cell.source, pending.nonce, PLACEHOLDER)
        digest = hashlib.sha256(sent.encode()).hexdigest()
        cell.source = sent.replace(PLACEHOLDER, digest)
        return pending

    def after(self, cell: NotebookNode, index: int, pending: Pending | None,
              reply: dict | None, label: str) -> None:
        """After an instructor cell ran: record its bindings; for a test, the verdict."""
        if index not in self.trees:
            return
        bound = sorted(self.bound.get(index, set()))
        findings, answer = self.check(bound)
        if answer is not None:
            for name in bound:
                ident, what = answer.names.get(name, ["missing", ""])
                if ident in ("missing", "data"):
                    self.expected.pop(name, None)
                else:
                    self.expected[name] = (ident, what, label)
        if pending is None:
            if findings and self.log:
                self.log.warning("after %s: %s", label, summarize(findings))
            return
        verdict = self.verdict(cell, pending, findings, answer, reply)
        if verdict is not None:
            cell.outputs = [tampered_output(verdict)]
        elif pending.nonce:
            hide_marker(cell, MARKER + pending.nonce)

    def verdict(self, cell: NotebookNode, pending: Pending, findings: list[str],
                answer: Answer | None, reply: dict | None) -> str | None:
        """The TestTampered text for a test cell, or None when it may keep its outputs."""
        seals = answer.seals if answer is not None else []
        own = [problems for nonce, problems in seals if nonce == pending.nonce]
        changed = pending.findings + findings
        changed += [SEAL_FINDINGS[p] for problems in own for p in problems if p in SEAL_FINDINGS]
        if changed:
            return CHANGED + summarize(changed)
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return None  # the test ran and failed (or timed out): its own error is the reason
        if pending.problems:
            return NOT_RUN + summarize(pending.problems)
        if pending.nonce is None:
            return None
        status = (reply or {}).get("content", {}).get("status")
        if answer is None:
            return NOT_RUN + (self.broken or "the kernel did not answer the grader's check"
                              " after it")
        if not own:
            why = " (the kernel reported an error that no output shows)" if status == "error" \
                else ""
            return NOT_RUN + f"its last line never ran{why}"
        problems = [p.split(":", 1)[1] for p in own[0] if p.startswith("frame:")]
        if problems:
            return NOT_RUN + "its last line was reached from other code (" + \
                ", ".join(problems) + ")"
        if status not in (None, "ok"):
            return NOT_RUN + f"the kernel reported status {status!r}"
        return None
