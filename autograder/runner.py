"""Run nbgrader as a subprocess in a throwaway course directory, under a wall-clock limit.

Why a subprocess (``python -m nbgrader ...``) and not ``NbGraderAPI``: the API ignores
``nbgrader_config.py``; a subprocess reads it from its working directory, can be killed
with everything it started, and a crash or hang in it cannot take the grader down.

nbgrader facts this module relies on (verified with nbgrader 0.9.6):

- nbgrader runs the ``alembic`` executable from ``PATH`` when it creates a gradebook, so
  the virtualenv's ``bin/`` must be on ``PATH`` even when nobody activated it.
- jupyter_client starts the kernel in its own session (``start_new_session=True``), so
  killing nbgrader's process group does not kill the kernel: we kill every descendant,
  then sweep any process that still carries this run's marker in its environment (a
  student's background process, for instance). The sweep misses a process started
  with an empty environment; the sandbox (``sandbox.py``) is what stops those: every
  process of a kernel dies with the kernel's PID namespace.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil

from autograder.paths import CONFIG_FILE

MARKER_VAR = "AUTOGRADER_RUN_ID"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclasses.dataclass
class RunResult:
    """What one nbgrader call did."""

    command: list[str]
    returncode: int | None  # None when it was killed
    timed_out: bool
    seconds: float
    log: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def configured_cell_timeout() -> int:
    """``Execute.timeout`` as set in autograder/nbgrader_config.py."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG_FILE.name, str(CONFIG_FILE.parent)).load_config()
    return int(config.Execute.timeout)


def make_course_dir(path: Path) -> Path:
    """Create an nbgrader course directory at ``path`` that uses our nbgrader_config.py."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CONFIG_FILE, path / "nbgrader_config.py")
    for sub in (".jupyter", ".runtime", ".ipython"):
        (path / sub).mkdir(exist_ok=True)
    return path


# Thread pools a grading kernel could start, one variable per library: OpenMP (torch's
# intra-op pool and most BLAS builds), MKL (torch and conda's NumPy), OpenBLAS (pip's
# NumPy and SciPy), numexpr, and Apple's Accelerate. torch reads OMP_NUM_THREADS (and
# MKL_NUM_THREADS) for ``torch.get_num_threads()``; its inter-op pool has no variable and
# eager code does not use it.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def nbgrader_env(course: Path, marker: str, threads: int | None = None) -> dict[str, str]:
    """The environment of an nbgrader subprocess (and of the kernels it starts).

    ``threads``: the size of every thread pool in the kernels (``THREAD_VARS``), set
    whatever the grader's own environment says; ``None`` leaves those variables alone.
    """
    env = dict(os.environ)
    env.pop("NBGRADER_EXECUTION", None)  # nbgrader sets it itself while autograding
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")  # nbgrader runs `alembic`
    # Isolation from the instructor's personal setup: no ~/.jupyter/nbgrader_config.py,
    # no IPython startup scripts, and the virtualenv's python3 kernelspec wins over one
    # in ~/.local/share/jupyter.
    env["JUPYTER_CONFIG_DIR"] = str(course / ".jupyter")
    env["JUPYTER_RUNTIME_DIR"] = str(course / ".runtime")
    env["IPYTHONDIR"] = str(course / ".ipython")
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    env[MARKER_VAR] = marker
    if threads is not None:
        for var in THREAD_VARS:
            env[var] = str(threads)
    return env


def kill_tree(pid: int) -> None:
    """Kill a process, its process group and all its descendants (kernels included)."""
    try:
        parent = psutil.Process(pid)
        procs = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        procs = []
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=10)


def sweep(marker: str) -> int:
    """Kill leftover processes started by one run (found by the marker in their env)."""
    killed = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get(MARKER_VAR) == marker:
                proc.kill()
                killed.append(proc)
        except psutil.Error:
            continue
    psutil.wait_procs(killed, timeout=10)
    return len(killed)


def run_nbgrader(
    course: Path,
    args: list[str],
    limit: float,
    log_path: Path,
    threads: int | None = None,
    module: str = "nbgrader",
) -> RunResult:
    """Run ``python -m MODULE ARGS`` in ``course``; kill it all after ``limit`` seconds.

    MODULE is ``nbgrader`` or ``autograder.nbgrader_job`` (autograde + feedback).
    """
    command = [sys.executable, "-m", module, *args, f"--CourseDirectory.root={course}"]
    marker = uuid.uuid4().hex
    start = time.monotonic()
    timed_out = False
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=course,
            env=nbgrader_env(course, marker, threads),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            returncode: int | None = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_tree(proc.pid)
            proc.wait()
            returncode = None
        finally:
            sweep(marker)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return RunResult(command, returncode, timed_out, time.monotonic() - start, text)


_BOILERPLATE = (
    "Please see the",
    "There was an error processing assignment",
    "Traceback (most recent call last)",
    "If you suspect this is a nbgrader bug",
)
_EXCEPTION_LINE = re.compile(
    r"^\s*([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|NoStart))(:.*)?$"
)


def log_problem(log: str, course: Path | None = None, limit: int = 400) -> str:
    """The gist of a failed nbgrader run: its ERROR lines and the last exception.

    Paths inside the throwaway ``course`` directory are shortened to ``<course>`` so that
    the text is the same from run to run.
    """
    if course is not None:
        log = log.replace(str(course), "<course>")
    lines = [ANSI.sub("", line).rstrip() for line in log.splitlines()]
    found: list[str] = []
    for line in lines:
        if "| ERROR]" in line:
            message = line.split("| ERROR]", 1)[1].strip()
            if message and not message.startswith(_BOILERPLATE) and message not in found:
                found.append(message)
    exceptions = [m.group(0).strip() for line in lines if (m := _EXCEPTION_LINE.match(line))]
    if exceptions and exceptions[-1] not in found:
        found.append(exceptions[-1])
    if not found:
        tail = [line.strip() for line in lines if line.strip()][-1:]
        found = [f"last log line: {tail[0]}" if tail else "nbgrader wrote no log"]
    text = "; ".join(found)
    return text if len(text) <= limit else text[: limit - 3] + "..."
