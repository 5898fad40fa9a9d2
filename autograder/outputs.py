"""Cap what a cell's outputs may store, before nbgrader saves and renders them.

nbgrader's ``LimitOutput`` counts lines of stream output only: one line of 100 MB, a
thousand images or a huge ``repr`` pass untouched, and the executor holds all of it in
memory first (100 MB of printed text became a 105 MB autograded notebook and a 100 MB
feedback page). ``cap_outputs`` keeps at most ``limit`` bytes of a cell's outputs and puts
a note where it cut. It never changes a grade: error outputs and the ``execute_result``
(what nbgrader scores) are always kept, only shortened, and a cell that wrote to stderr
keeps a piece of it, since nbgrader gives 0 for any stderr output.

``GuardedExecute`` (nbgrader_ext.py) applies it while the cell runs, so that memory stays
bounded, and once more when the cell has finished; each notebook also has a total.
"""

from __future__ import annotations

import json
from typing import Any

from nbformat.notebooknode import NotebookNode

NOTE_KEY = "output_cut"  # metadata.autograder.output_cut on the note the cap inserts
ESSENTIAL_LIMIT = 10_000  # characters kept of each field of an error or execute_result


def format_size(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def output_size(out: dict[str, Any]) -> int:
    """Characters an output stores (text, data, traceback)."""
    kind = out.get("output_type")
    if kind == "stream":
        return len(_text(out.get("text", "")))
    if kind == "error":
        return len(str(out.get("evalue", ""))) + sum(len(str(t)) for t in out.get("traceback", []))
    data = out.get("data") or {}
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def is_note(out: dict[str, Any]) -> bool:
    return bool(((out.get("metadata") or {}).get("autograder") or {}).get(NOTE_KEY))


def note(limit: int, what: str) -> NotebookNode:
    """The note where output was cut: display data, not a stream, because nbgrader's
    LimitOutput drops every stream output after its 1000 lines (and would drop it)."""
    text = (f"[output cut by the grader: {what} went past its limit of"
            f" {format_size(limit)}; the rest was not kept]")
    return NotebookNode(output_type="display_data", data={"text/plain": text},
                        metadata={"autograder": {NOTE_KEY: True}})


def _shorten(value: str, limit: int = ESSENTIAL_LIMIT) -> str:
    return value if len(value) <= limit else value[:limit] + " [...]"


def _shrink_essential(out: NotebookNode) -> bool:
    """Shorten an error or execute_result in place; True when something was cut."""
    if output_size(out) <= ESSENTIAL_LIMIT:
        return False
    if out.get("output_type") == "error":
        out["evalue"] = _shorten(str(out.get("evalue", "")))
        tb = [_shorten(str(t), 2000) for t in out.get("traceback", [])]
        out["traceback"] = tb[:20] + ["..."] + tb[-20:] if len(tb) > 41 else tb
        return True
    data = out.get("data") or {}
    out["data"] = {k: _shorten(v) for k, v in data.items()
                   if isinstance(v, str) and k.startswith("text/")} or {"text/plain": "[...]"}
    return True


def cap_outputs(outputs: list[NotebookNode], limit: int,
                what: str = "this cell's output") -> tuple[list[NotebookNode], bool]:
    """At most ``limit`` characters of ``outputs``, with a note where they were cut.

    Returns the kept outputs and whether anything was cut. Idempotent: a note inserted
    by an earlier call is kept, and no second one is added.
    """
    kept: list[NotebookNode] = []
    used, cut, has_note, stderr_kept = 0, False, False, False
    for out in outputs:
        if is_note(out):
            if not has_note:
                kept.append(out)
                has_note = True
            continue
        kind = out.get("output_type")
        if kind in ("error", "execute_result"):
            cut = _shrink_essential(out) or cut
            kept.append(out)
            used += output_size(out)
            continue
        size = output_size(out)
        room = max(0, limit - used)
        is_stderr = kind == "stream" and out.get("name") == "stderr"
        if size <= room:
            kept.append(out)
            used += size
            stderr_kept = stderr_kept or is_stderr
            continue
        if not has_note:
            if kind == "stream" and room > 0:
                out["text"] = _text(out.get("text", ""))[:room]
                kept.append(out)
                stderr_kept = stderr_kept or is_stderr
            kept.append(note(limit, what))
            has_note = True
        if is_stderr and not stderr_kept:
            # nbgrader scores any stderr output 0: keep the evidence that there was some
            kept.append(NotebookNode(output_type="stream", name="stderr",
                                     text=_text(out.get("text", ""))[:200] + " [...]\n"))
            stderr_kept = True
        cut = True
        used = max(used, limit)
    return kept, cut or has_note
