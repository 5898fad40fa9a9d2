"""Command line: ``python -m autograder {release,grade,demo,examples,bench}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder import UsageError
from autograder.paths import Repo

DESCRIPTION = """\
Grading tools for the course, built on nbgrader 0.9.6.

  release   generate the student notebooks in assignments/ from solutions/
            (--check: only verify that assignments/ is up to date)
  grade     autograde a folder of submissions: grades.csv, HTML feedback, autograded notebooks
  demo      release, then grade the example submissions and compare with expected scores
  examples  rebuild the example submissions in autograder/examples/
  kit       write the student kit: released notebooks, the student runtime, a README
  bench     time the solution notebooks, the lectures and the grading of the examples

Run 'python -m autograder COMMAND --help' for the options of one command.
"""

GRADE_HELP = """\
Autograde every submission in SUBMISSIONS, laid out as

  SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb
  (for example SUBMISSIONS/alice/02-fvsbn/fvsbn.ipynb)

Writes OUT/grades.csv (one row per student, assignment and graded cell, with a status
and the reason a cell lost points), OUT/feedback/<student>/<assignment>/<notebook>.html
to hand back, OUT/autograded/ (the executed notebooks) and OUT/logs/ (nbgrader's logs).
SUBMISSIONS is only read. Each student is graded separately, so a broken or hanging
notebook only costs that student's cells; see the status list in autograder/report.py.

Every kernel runs in a bubblewrap sandbox: no network, no view of solutions/, gradebooks,
other students, SUBMISSIONS or OUT, and limits on memory, processes, CPU time and file
size (c.Sandbox in autograder/nbgrader_config.py). Without bubblewrap, grade stops and
says how to install it; --no-sandbox grades without it.
"""


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repo", type=Path, default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("release", help="generate assignments/ from solutions/",
                       description="Generate the student release assignments/ from the"
                       " nbgrader sources in solutions/ (nbgrader generate_assignment).")
    p.add_argument("--check", action="store_true",
                   help="do not write; exit 1 and list stale, missing or extra notebooks if"
                   " assignments/ differs from what solutions/ generates")

    p = sub.add_parser("grade", help="autograde a folder of submissions",
                       description=GRADE_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                   help="folder with one folder per student")
    p.add_argument("--out", type=Path, required=True, metavar="OUT",
                   help="output folder (its grades.csv, autograded/, feedback/, logs/ are"
                   " replaced)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="grade N students in parallel (default 1)")
    p.add_argument("--timeout", type=_positive, default=None, metavar="SECONDS",
                   help="time limit per notebook cell (default 30, from"
                   " autograder/nbgrader_config.py); a cell with a time budget in"
                   " solutions/ (metadata.autograder.timeout) gets the larger of the two")
    p.add_argument("--limit", type=_positive, default=600, metavar="SECONDS",
                   help="wall-clock limit for grading one student's assignment (default 600)")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="threads per grading kernel for BLAS, OpenMP and torch (default 1, so"
                   " that grades do not depend on the machine's load; 0: leave"
                   " OMP_NUM_THREADS etc. as they are in the environment)")
    p.add_argument("--no-feedback", action="store_true", help="skip the HTML feedback")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code without the bubblewrap sandbox: as you, with your"
                   " files, network and environment, and without limits (every run warns)")

    p = sub.add_parser("demo", help="release, grade the examples, compare with expected.csv",
                       description="Run the release, grade autograder/examples/ into"
                       " demo-out/ and compare each total with"
                       " autograder/examples/expected.csv; exit 1 on any difference.")
    p.add_argument("--out", type=Path, default=None, help="output folder (default demo-out/)")
    p.add_argument("--jobs", type=int, default=2, metavar="N",
                   help="students graded in parallel (default 2)")

    sub.add_parser("examples", help="rebuild autograder/examples/ from the release",
                   description="Rebuild the example submissions autograder/examples/"
                   "<student>/<assignment>/<notebook>.ipynb from the release and the"
                   " solutions, using autograder/recipes/<assignment>.toml. expected.csv is"
                   " written by hand and left alone.")

    p = sub.add_parser("kit", help="write the student kit (no answers in it)",
                       description="Write what students receive into OUT: the released"
                       " notebooks, the student runtime (the course package without its"
                       " reference implementations and hidden-test helpers) as a wheel,"
                       " requirements.txt and a student README. Refuses to write a kit that"
                       " would hold a solution or import a reference.")
    p.add_argument("out", type=Path, metavar="OUT", help="an empty or new folder")
    p.add_argument("--wheelhouse", action="store_true",
                   help="also download every pinned package into OUT/packages/ (needs the"
                   " package registry) so that students install offline")
    p.add_argument("--force", action="store_true", help="replace what OUT holds")

    p = sub.add_parser("bench", help="time notebooks and grading",
                       description="Execute every solution notebook (hidden tests included)"
                       " and every lecture, grade the `correct` example submission of every"
                       " assignment (--all-examples: every example) with and without the"
                       " sandbox, and time the reference"
                       " models (NADE naive vs tied, MADE vs NADE); print the median seconds"
                       " of --repeat runs against the 60 s budget.")
    p.add_argument("--repeat", type=int, default=3, metavar="N", help="runs per job (default 3)")
    p.add_argument("--no-grading", action="store_true",
                   help="only execute notebooks, do not time grading")
    p.add_argument("--all-examples", action="store_true",
                   help="time the grading of every example submission, not only `correct`")
    p.add_argument("--no-models", action="store_true",
                   help="skip the reference-model micro-benchmarks")
    p.add_argument("--no-notebooks", action="store_true",
                   help="do not execute the solution notebooks and lectures (only grading"
                   " and the models)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        repo = Repo.at(args.repo)
        if args.command == "release":
            from autograder.release import release

            return release(repo, check=args.check)
        if args.command == "grade":
            from autograder.grading import Options, grade

            if args.threads < 0:
                raise UsageError("--threads must be 0 or more")
            grade(repo, args.submissions, args.out, Options(
                jobs=args.jobs, timeout=args.timeout, limit=args.limit,
                feedback=not args.no_feedback, threads=args.threads or None,
                sandbox=not args.no_sandbox))
            return 0
        if args.command == "demo":
            from autograder.demo import demo

            return demo(repo, args.out or repo.root / "demo-out", jobs=args.jobs)
        if args.command == "examples":
            from autograder.examples_builder import build_examples

            return build_examples(repo)
        if args.command == "kit":
            from autograder.kit import write_kit

            write_kit(repo, args.out, wheelhouse=args.wheelhouse, force=args.force)
            return 0
        if args.command == "bench":
            from autograder.bench import bench

            return bench(repo, repeat=args.repeat, grading=not args.no_grading,
                         all_examples=args.all_examples, models=not args.no_models,
                         notebooks=not args.no_notebooks)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
