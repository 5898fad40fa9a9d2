"""``python -m autograder grade``: autograde every submission, one student at a time.

Each student and assignment is graded in a private, throwaway nbgrader course directory
(its own copy of the gradebook, only that student's notebooks), with one
``nbgrader autograde --student`` call under a wall-clock limit, then
``nbgrader generate_feedback``. A broken, hanging or hostile notebook can therefore
only cost its own cells. Results are read back from that gradebook and the autograded
notebook (see ``outcome.py``), never assumed from exit codes: nbgrader 0.9.6 exits 0
after a cell timeout and writes 0 (not "missing") for cells it could not grade.

Every kernel runs in the bubblewrap sandbox of ``sandbox.py`` (settings ``c.Sandbox`` in
nbgrader_config.py), unless ``Options.sandbox`` is False (``--no-sandbox``): then every
run warns, and so does the summary. ``prepare_sandbox`` checks once per batch that the
sandbox starts, and stops the batch with a message that says how to install it if not.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from autograder import UsageError, catalog, prepass, sandbox
from autograder.catalog import Catalog
from autograder.nbgrader_job import FEEDBACK_FAILED
from autograder.outcome import notebook_rows, read_scores
from autograder.paths import Repo
from autograder.report import Row, Status, interrupted_notebooks, summary, write_csv
from autograder.runner import (
    configured_cell_timeout,
    log_problem,
    make_course_dir,
    run_nbgrader,
)

OUTPUTS = ("grades.csv", "autograded", "feedback", "logs")
# The student id inside a private course directory. Each directory holds one student, so a
# fixed id is safe, and folder names that nbgrader would glob ("[a]", "*") cannot misfire.
INTERNAL_ID = "student"
DEFAULT_LIMIT_S = 600
DEFAULT_THREADS = 1


@dataclasses.dataclass
class Options:
    jobs: int = 1
    timeout: float | None = None  # per cell; None: nbgrader_config.py's value (30 s)
    limit: float = DEFAULT_LIMIT_S  # wall clock for one student's assignment
    feedback: bool = True
    # Threads per grading kernel (OMP, MKL, OpenBLAS, numexpr, vecLib; torch follows OMP),
    # set whatever the grader's environment says; None leaves those variables alone.
    # Why 1: a kernel's BLAS starts one busy-waiting thread per core, so parallel grading
    # jobs or any other load oversubscribe the cores; small matrix products were measured
    # 60 times slower that way, and training cells then ran into their time limits. One
    # thread makes a cell's time depend on its own work, not on the machine's load.
    threads: int | None = DEFAULT_THREADS
    skip_root_files: frozenset[str] = frozenset()  # files at SUBMISSIONS/ level to ignore
    # Run every kernel in the sandbox (sandbox.py); False is --no-sandbox.
    sandbox: bool = True
    # Sandbox settings on top of c.Sandbox in nbgrader_config.py, e.g. {"max_processes": 64}
    sandbox_config: dict = dataclasses.field(default_factory=dict)


NO_SANDBOX_WARNING = (
    "grading WITHOUT the sandbox (--no-sandbox or c.Sandbox.enabled = False): student code"
    " runs as you, with your files, network and environment, and without limits")


@dataclasses.dataclass
class SandboxRun:
    """The sandbox of one grading batch: its settings and nbgrader's extra arguments."""

    settings: sandbox.Sandbox
    args: list[str]


def prepare_sandbox(options: Options, tmp: Path) -> SandboxRun | None:
    """Check that the sandbox starts, build what its kernels share; None: no sandbox.

    UsageError when it is wanted but bwrap is missing or does not start.
    """
    settings = sandbox.load_settings(options.sandbox_config)
    if not (options.sandbox and settings.enabled):
        return None
    bwrap = sandbox.find_bwrap()
    if bwrap is None:
        raise UsageError(sandbox.INSTALL_HINT)
    problem = sandbox.preflight(bwrap, settings)
    if problem:
        raise UsageError(f"the grading sandbox (bubblewrap, {bwrap}) does not start:"
                         f" {problem}. Fix that, or pass --no-sandbox to grade without it")
    seed = sandbox.build_home_seed(tmp / "sandbox-home")
    args = ["--GuardedExecute.sandbox=True", f"--Sandbox.home_seed={seed}",
            *sandbox.command_line_settings(options.sandbox_config)]
    return SandboxRun(settings, args)


@dataclasses.dataclass
class UnitResult:
    rows: list[Row]
    warnings: list[str]
    seconds: float


def check_paths(submissions: Path, out: Path) -> None:
    if not submissions.exists():
        raise UsageError(
            f"the submissions folder {submissions} does not exist; expected"
            f" {prepass.LAYOUT}"
        )
    if not submissions.is_dir():
        raise UsageError(f"{submissions} is a file; pass the folder that holds one folder per"
                         f" student ({prepass.LAYOUT})")
    sub, dest = submissions.resolve(), out.resolve()
    if dest == sub or sub in dest.parents:
        raise UsageError(f"--out {out} is inside the submissions folder; submissions are never"
                         " written to, choose another output folder")
    for name in OUTPUTS:
        managed = dest / name
        if managed == sub or managed in sub.parents:
            raise UsageError(f"the submissions folder is inside {managed}, which grading"
                             " overwrites; move the submissions or choose another --out")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")


def _copy_tree(src: Path, dest: Path) -> None:
    """Copy the regular files under ``src`` (never what a link points to)."""
    if not src.is_dir() or src.is_symlink():
        return
    for path in sorted(src.rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            continue
        target = dest / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def grade_unit(unit: prepass.Unit, cat: Catalog, work: Path, out: Path,
               options: Options, sandboxed: SandboxRun | None = None) -> UnitResult:
    """Grade one student's folder for one assignment in a private course directory.

    ``sandboxed``: the batch's sandbox (``prepare_sandbox``), or None to run kernels
    without one.
    """
    start = time.monotonic()
    rows: list[Row] = []
    warnings: list[str] = []
    prepared: dict[str, prepass.Prepared] = {}
    notebooks = cat.notebooks[unit.assignment]
    for name, path in sorted(unit.files.items()):
        result = prepass.prepare(path, notebooks[name])
        if isinstance(result, prepass.Rejected):
            rows += prepass.zero_rows(unit.student, notebooks[name], Status.INVALID_NOTEBOOK,
                                      f"invalid notebook, not graded: {result.reason}")
        else:
            prepared[name] = result
    if not prepared:
        return UnitResult(rows, warnings, time.monotonic() - start)

    course = make_course_dir(work)
    shutil.copyfile(cat.gradebook, course / "gradebook.db")
    # autograde copies the assignment's non-notebook files (data) next to the notebook;
    # the source notebooks themselves are not needed (the gradebook has the cells).
    shutil.copytree(cat.source_folder(unit.assignment), course / "source" / unit.assignment,
                    ignore=shutil.ignore_patterns("*.ipynb"))
    submitted = course / "submitted" / INTERNAL_ID / unit.assignment
    submitted.mkdir(parents=True)
    for name, prep in prepared.items():
        (submitted / f"{name}.ipynb").write_text(prep.text, encoding="utf-8")

    logs = out / "logs" / unit.student / unit.assignment
    args = [unit.assignment, INTERNAL_ID]
    if options.feedback:
        args.append("--feedback")
    timeout = max(1, round(options.timeout)) if options.timeout else configured_cell_timeout()
    if options.timeout is not None:
        args.append(f"--Execute.timeout={timeout}")
    # Budgets go on nbgrader's command line: they come from solutions/ (the catalog), and
    # nothing the student's code does in the kernel can change them.
    budgets = {name: notebooks[name].budgets for name in prepared if notebooks[name].budgets}
    if budgets:
        args.append(f"--GuardedExecute.cell_budgets={json.dumps(budgets, sort_keys=True)}")
    reports = course / "sandbox-reports"
    if sandboxed is not None:
        args += [*sandboxed.args, f"--SandboxKernelManager.report_dir={reports}"]
    run = run_nbgrader(course, args, options.limit, logs / "nbgrader.log", options.threads,
                       module="autograder.nbgrader_job")
    autograded = course / "autograded" / INTERNAL_ID / unit.assignment
    log_ref = f"see logs/{unit.student}/{unit.assignment}/nbgrader.log"
    graded = not run.timed_out and run.returncode in (0, FEEDBACK_FAILED)
    for name, prep in prepared.items():
        info = notebooks[name]
        nb_path = autograded / info.filename
        if run.timed_out:
            rows += prepass.zero_rows(
                unit.student, info, Status.GRADING_TIMEOUT,
                f"grading stopped after the {options.limit:g} s limit for one notebook"
                f" (--limit); nothing was recorded; {log_ref}",
            )
        elif not graded or not nb_path.is_file():
            limit = None
            if sandboxed is not None:
                limit = sandbox.kernel_limit_hit(
                    sandbox.read_report(reports / f"{info.name}.json"), sandboxed.settings)
            rows += prepass.zero_rows(
                unit.student, info, Status.GRADING_FAILED,
                (f"{limit}; " if limit else "") + f"nbgrader autograde failed (exit"
                f" {run.returncode}): {log_problem(run.log, course)}; {log_ref}",
            )
        else:
            scores = read_scores(course / "gradebook.db", info, INTERNAL_ID)
            rows += notebook_rows(unit.student, info, nb_path, scores, timeout, prep.notes,
                                  prep.general,
                                  sandboxed.settings if sandboxed is not None else None)
    _copy_tree(autograded, out / "autograded" / unit.student / unit.assignment)
    feedback = course / "feedback" / INTERNAL_ID / unit.assignment
    if options.feedback and graded:
        if run.returncode != 0 or not feedback.is_dir():
            warnings.append(f"feedback for {unit.student}/{unit.assignment} failed:"
                            f" {log_problem(run.log, course)}")
        _copy_tree(feedback, out / "feedback" / unit.student / unit.assignment)
    return UnitResult(rows, warnings, time.monotonic() - start)


def _safe_grade_unit(unit, cat, work, out, options, sandboxed) -> UnitResult:
    """grade_unit, but a bug or an OS error costs only this unit's rows."""
    try:
        return grade_unit(unit, cat, work, out, options, sandboxed)
    except Exception as err:  # noqa: BLE001 - never lose the batch
        traceback.print_exc()
        rows = []
        for name, info in cat.notebooks[unit.assignment].items():
            if name in unit.files:
                rows += prepass.zero_rows(unit.student, info, Status.GRADING_FAILED,
                                          f"internal error in the grader: {err!r}")
        return UnitResult(rows, [f"{unit.student}/{unit.assignment}: internal error {err!r}"], 0)


def budget_warnings(cat: Catalog, limit: float) -> list[str]:
    """Cell budgets that the wall-clock limit for one student's assignment would cut short."""
    out = []
    for assignment, notebooks in sorted(cat.notebooks.items()):
        total = sum(sum(info.budgets.values()) for info in notebooks.values())
        if total >= limit:
            out.append(f"the cell time budgets of {assignment} add up to {total:g} s, not"
                       f" below the {limit:g} s --limit for one student's assignment: a slow"
                       " submission is stopped before its budgets run out")
    return out


def sort_rows(rows: list[Row], cat: Catalog) -> list[Row]:
    order = {
        (a, info.filename, gc.grade_id): i
        for a, notebooks in cat.notebooks.items()
        for info in notebooks.values()
        for i, gc in enumerate(info.grade_cells)
    }
    return sorted(rows, key=lambda r: r.sort_key(
        order.get((r.assignment, r.notebook, r.grade_id), -1)))


def prepare_out(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def grade(repo: Repo, submissions: Path, out: Path, options: Options, echo=print,
          show_summary: bool = True, cat: Catalog | None = None) -> list[Row]:
    """Grade SUBMISSIONS into OUT (grades.csv, autograded/, feedback/, logs/); return rows.

    ``cat``: a catalog already built from solutions/ (the demo builds one for its
    release too); by default one is built here.
    """
    check_paths(submissions, out)
    if options.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    # ignore_cleanup_errors: a hostile notebook may leave unremovable files in its folder
    with tempfile.TemporaryDirectory(prefix="autograder-grade-",
                                     ignore_cleanup_errors=True) as tmp:
        sandboxed = prepare_sandbox(options, Path(tmp))
        if sandboxed is None:
            echo(f"warning: {NO_SANDBOX_WARNING}")
        if cat is None:
            echo("generating the release and the gradebook from solutions/ ...")
            cat = catalog.build(repo, Path(tmp) / "template")
        for warning in budget_warnings(cat, options.limit):
            echo(f"warning: {warning}")
        scanned = prepass.scan(submissions, cat, options.skip_root_files)
        if not scanned.units and not scanned.rows:
            raise UsageError(f"no submissions in {submissions}; expected {prepass.LAYOUT}")
        prepare_out(out)
        echo(f"grading {len(scanned.units)} submission(s) with {options.jobs} job(s)"
             + (f", each kernel in a sandbox ({sandboxed.settings.describe()})"
                if sandboxed else ", WITHOUT a sandbox") + " ...")

        def work(index_unit):
            index, unit = index_unit
            result = _safe_grade_unit(unit, cat, Path(tmp) / "work" / str(index), out, options,
                                      sandboxed)
            if unit.files:
                echo(f"  graded {unit.student}/{unit.assignment} in {result.seconds:.1f} s")
            return result

        with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
            results = list(pool.map(work, enumerate(scanned.units)))
    rows = sort_rows(scanned.rows + [r for res in results for r in res.rows], cat)
    write_csv(rows, out / "grades.csv")
    if show_summary:
        echo("")
        echo(summary(rows))
    for res in results:
        for warning in res.warnings:
            echo(f"warning: {warning}")
    interrupted = interrupted_notebooks(rows)
    if interrupted:
        echo(f"note: {len(interrupted)} notebook(s) had a cell interrupted at its time limit;"
             " later cells ran on what it left (see the reasons in grades.csv). If the"
             " machine was busy, regrade them with fewer --jobs or a larger budget:")
        for student, assignment, notebook in interrupted:
            echo(f"  {student}/{assignment}/{notebook}")
    if sandboxed is None:
        echo(f"warning: {NO_SANDBOX_WARNING}")
    echo(f"\nwrote {out / 'grades.csv'} ({len(rows)} rows), feedback/ and autograded/ in {out}")
    return rows
