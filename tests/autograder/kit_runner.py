"""Run inside the student kit's virtual environment: execute one notebook, report its cells.

    python kit_runner.py NOTEBOOK KERNEL

Prints a JSON list with one entry per code cell: ``grade_id`` (or null), whether it is a
graded test, and the ``ename``/``evalue`` of its error (null when it ran cleanly). Errors
do not stop the run, as in nbgrader's autograde.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbclient
import nbformat


def main(path: str, kernel: str) -> None:
    notebook = Path(path)
    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=kernel, timeout=900, allow_errors=True,
                                     resources={"metadata": {"path": str(notebook.parent)}})
    client.execute()
    report = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"),
                     None)
        report.append({
            "grade_id": meta.get("grade_id"),
            "test": bool(meta.get("grade")) and not meta.get("solution"),
            "ename": error and error.get("ename"),
            "evalue": error and error.get("evalue", "")[:300],
        })
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
