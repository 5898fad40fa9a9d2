"""Subprocess entry point: ``nbgrader autograde`` then ``nbgrader generate_feedback``.

    python -m autograder.nbgrader_job ASSIGNMENT STUDENT [--feedback] [nbgrader options]

Runs exactly what the two command lines ``nbgrader autograde ASSIGNMENT --student=STUDENT
--force [options]`` and ``nbgrader generate_feedback ASSIGNMENT --student=STUDENT --force``
run (the same ``NbGraderApp`` with the same arguments, reading ``nbgrader_config.py``
from the course directory), in one process: importing nbgrader takes about 3 s (2 s of it
jsonschema's rfc3987 grammar), which would otherwise be paid twice per submission.

Exit status: 0 when both succeed, 1 when autograde fails (no feedback is attempted),
3 when only generate_feedback fails. Callers still check the files nbgrader wrote.
"""

from __future__ import annotations

import sys

from jupyter_core.application import NoStart
from jupyter_core.utils import ensure_event_loop
from nbgrader.apps.nbgraderapp import NbGraderApp

AUTOGRADE_FAILED, FEEDBACK_FAILED = 1, 3


def run_app(argv: list[str]) -> int:
    """Run one nbgrader subcommand as ``nbgrader ARGV`` would; return its exit status.

    Mirrors ``NbGraderApp.launch_instance``: an event loop first, ``NoStart`` (raised by
    JupyterApp after a subcommand ran) means success, ``sys.exit`` gives the status.
    """
    ensure_event_loop()
    app = NbGraderApp()
    try:
        app.initialize(argv)
        app.start()
    except NoStart:
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        if app.subapp is not None:
            type(app.subapp).clear_instance()
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    assignment, student, *options = argv
    feedback = "--feedback" in options
    options = [o for o in options if o != "--feedback"]
    common = [assignment, f"--student={student}", "--force"]
    if run_app(["autograde", *common, *options]) != 0:
        return AUTOGRADE_FAILED
    if feedback and run_app(["generate_feedback", *common, *options]) != 0:
        return FEEDBACK_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
