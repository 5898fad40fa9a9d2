"""nbgrader settings for this course (nbgrader 0.9.6).

How it is used: ``python -m autograder`` runs nbgrader as a subprocess (``python -m
nbgrader ...``) in a throwaway course directory. It copies this file there as
``nbgrader_config.py`` (nbgrader reads the file in its working directory) and passes the
per-run settings on the command line (``--CourseDirectory.root=...``, ``--Execute.timeout``
from ``--timeout``); command-line settings override this file. The programmatic
``NbGraderAPI`` would ignore this file, which is one reason we use the command line.

The facts below were verified with nbgrader 0.9.6 on tiny notebooks (see
``autograder/nbgrader_ext.py`` and ``tests/autograder``).
"""

c = get_config()  # noqa: F821  (traitlets defines get_config when it runs this file)

# Per-cell limit in seconds (nbgrader's default). Our notebooks keep every cell well under
# ~10 s on a laptop, so 30 s only trips on real hangs. On a timeout nbgrader interrupts
# the kernel, records a CellTimeoutError output (the cell scores 0) and goes on.
# Cells that train a model get their own, larger budget instead: in the *source* notebook
# (solutions/), cell metadata ``"autograder": {"timeout": SECONDS}`` next to "nbgrader".
# The grader reads it from solutions/ and passes it to GuardedExecute.cell_budgets on the
# command line, so a student cannot raise it by editing the submitted notebook. A budget
# never lowers the limit below this one.
#
# Not set here but by the grader (``Options.threads``, ``--threads``): every grading
# kernel runs 1 thread for OpenMP, MKL, OpenBLAS, numexpr and vecLib (torch follows
# OMP_NUM_THREADS), so that parallel jobs and other load do not oversubscribe the cores.
# Kernels inherit them from the environment of the nbgrader process; this file cannot.
c.Execute.timeout = 30

# Interrupt the kernel on a timeout instead of failing the notebook (nbgrader's default,
# stated here because everything below depends on it).
c.Execute.interrupt_on_timeout = True

# A cell that swallows KeyboardInterrupt never lets the kernel go idle. With True
# (nbgrader's default) nbgrader then raises, deletes the autograded notebook and records
# nothing for the student; with False it carries on and scores the remaining cells.
c.Execute.raise_on_iopub_timeout = False

# Always run our kernel, whatever kernelspec a student's notebook names (the grading
# pre-pass also rewrites the kernelspec; nbgrader copies the source's kernelspec too).
c.Execute.kernel_name = "python3"

# Autograde's second pass, as in nbgrader 0.9.6, with Execute replaced by GuardedExecute:
# once a kernel ignores an interrupt, the remaining cells score 0 at once instead of each
# waiting for the full timeout (see autograder/nbgrader_ext.py). IgnorePattern must stay
# right after the executor: it edits outputs before SaveAutoGrades scores them.
# GuardedExecute also makes graded test cells fail closed (autograder/failclosed.py): a
# test without evidence that it ran to its end, untampered, scores 0 (status "tampered").
# c.GuardedExecute.fail_closed = False turns that off (for measurements, never for grades).
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_ext.GuardedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Any stderr output zeroes a test cell (nbgrader.utils.determine_grade), so a torch
# warning or a progress bar would fail a correct answer. IgnorePattern (disabled by
# default) drops every stderr *stream output* that matches this regex, before grading.
# It matches: Python warnings ("file.py:12: UserWarning: ..."), the logging module's
# default "WARNING:name:..." lines, and tqdm bars ("50%|#####     | 5/10 [00:01<00:01,
# 4.2it/s]"). Exceptions are error outputs, not stderr, so failing tests still fail.
# Note: a match drops the whole stderr output it is in, which may hold other lines too.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(?m)(:\d+: \w*Warning: )"
    r"|(^(WARNING|INFO|DEBUG):[\w.]*:)"
    r"|(\d+%\|)"
    r"|(\d+(\.\d+)?(it/s|s/it)\])"
    r"|(\?it/s\])"
)

# A student who deletes a graded test cell gets it back from the gradebook (with its
# hidden tests) instead of an unscored hole. (The grading pre-pass already restores
# deleted cells from the release; this is the safety net.)
c.OverwriteCells.add_missing_cells = True

# The kernel may take a moment to start on a loaded machine (default 60 s).
c.Execute.startup_timeout = 120

# Stored outputs (autograder/outputs.py): a cell keeps at most this many characters of
# output (text, images, tracebacks), a notebook at most the second number; the rest is cut,
# with a note where it was cut. Errors and results, which decide the score, are kept.
# nbgrader's LimitOutput (above) then also limits stream outputs to 1000 lines.
c.GuardedExecute.output_limit = 1_000_000
c.GuardedExecute.notebook_output_limit = 10_000_000

# The sandbox around every grading kernel (autograder/sandbox.py): bubblewrap, no
# network, read-only system and virtual environment, only the `course` package of the
# checkout, a private /tmp for the kernel's home and working folder, nothing of the
# grader's folders, and these limits per kernel process (rlimits). A cell that hits one
# scores 0 with a reason that names it ("memory limit of 8 GiB exceeded"). `python -m
# autograder grade --no-sandbox` (or enabled = False) grades without it, with a warning.
# The correct example submissions peak at (03-nade the largest; measured in the sandbox,
# 2 cores): 2.9 GiB address space (1.8 GiB resident), 13 processes and threads, 15 CPU
# seconds, no file written, 165 kB of stored outputs per notebook.
c.Sandbox.enabled = True
c.Sandbox.memory_limit = 8 * 1024**3  # bytes of address space per process (RLIMIT_AS)
c.Sandbox.max_processes = 256  # processes and threads of the kernel (RLIMIT_NPROC)
c.Sandbox.cpu_time_limit = 900  # CPU seconds per process, then it is killed (RLIMIT_CPU)
c.Sandbox.file_size_limit = 256 * 1024**2  # bytes per file written (RLIMIT_FSIZE)
c.Sandbox.tmp_size = 1024**3  # bytes of the private /tmp: home and working folder (memory)

# The feedback returned to students shows the hidden tests' failure messages but not their
# source (autograder.nbgrader_ext.HideHiddenTests): the hidden block of every test cell
# becomes one comment line and tracebacks keep only their last line. Set
# c.HideHiddenTests.enabled = False to return nbgrader's full feedback instead.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.nbgrader_ext.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.HideHiddenTests.enabled = True
