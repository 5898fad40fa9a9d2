"""Generate the student release ``assignments/`` from the nbgrader sources ``solutions/``.

``nbgrader generate_assignment`` runs once for all assignments in a throwaway course
directory (its own gradebook), with ``solutions/`` copied in as the source folder; the
result is mirrored into ``assignments/``. Its output is byte-for-byte deterministic
(verified: two runs give identical files, ending with a newline; cell ids come from the
source notebooks, checksums are md5 sums of the sources).
"""

from __future__ import annotations

import dataclasses
import filecmp
import importlib
import json
import shutil
import tempfile
from pathlib import Path

from autograder import UsageError, nbtools
from autograder.paths import Repo, is_ignored
from autograder.runner import log_problem, make_course_dir, run_nbgrader

FIX_COMMAND = "python -m autograder release   (or: make release)"
RELEASE_LIMIT_S = 900


def dirty_cells(path: Path) -> list[int]:
    """1-based positions of code cells that carry outputs or an execution count."""
    try:
        nb = nbtools.load(path)
    except (ValueError, UnicodeDecodeError) as err:
        raise UsageError(f"{path} is not a valid notebook ({err}); fix it in Jupyter") from err
    return [i + 1 for i, cell in enumerate(nb.get("cells", [])) if nbtools.has_outputs(cell)]


def check_clean(repo: Repo) -> None:
    """Refuse solutions notebooks that were committed with outputs or execution counts."""
    problems = []
    for assignment in repo.assignment_ids():
        for path in repo.source_notebooks(assignment):
            cells = dirty_cells(path)
            if cells:
                rel = path.relative_to(repo.root)
                listed = ", ".join(map(str, cells[:8])) + (" ..." if len(cells) > 8 else "")
                problems.append(
                    f"  {rel}: code cells {listed} have outputs or execution counts\n"
                    f"    fix: jupyter nbconvert --clear-output --inplace {rel}"
                )
    if problems:
        raise UsageError(
            "solutions/ notebooks are committed without outputs (they would leak into the"
            " release and into diffs):\n" + "\n".join(problems)
        )


def check_budgets(repo: Repo) -> None:
    """Refuse malformed cell time budgets (``metadata.autograder``) in solutions/."""
    problems = []
    for assignment in repo.assignment_ids():
        for path in repo.source_notebooks(assignment):
            try:
                nbtools.cell_budgets(nbtools.load(path))
            except ValueError as err:
                problems.append(f"  {path.relative_to(repo.root)}: {err}")
    if problems:
        raise UsageError("solutions/ notebooks with invalid cell time budgets:\n"
                         + "\n".join(problems))


def visible_cases_modules(repo: Repo) -> dict[str, str]:
    """Assignment -> the module whose ``visible_cases()`` gives its visible tests' expected
    values (``metadata.autograder.visible_cases`` of its solutions notebook)."""
    modules = {}
    for assignment in repo.assignment_ids():
        for path in repo.source_notebooks(assignment):
            meta = nbtools.load(path).get("metadata", {}).get("autograder", {})
            name = meta.get("visible_cases")
            if name is None:
                continue
            if not isinstance(name, str) or not name.startswith("course."):
                raise UsageError(
                    f"{path.relative_to(repo.root)}: metadata.autograder.visible_cases must "
                    f"name a module of the course package (course.checks.<topic>), got {name!r}"
                )
            modules[assignment] = name
    return modules


def expected_values(repo: Repo) -> dict[str, str]:
    """``course/expected/<assignment>.json`` texts, computed from the references.

    One thread: the same reductions in the same order every time.
    """
    import torch

    from course.expected import dumps

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        texts = {}
        for assignment, name in visible_cases_modules(repo).items():
            try:
                cases = importlib.import_module(name).visible_cases()
            except Exception as err:
                raise UsageError(
                    f"{name}.visible_cases() (expected values of {assignment}'s visible tests)"
                    f" failed: {type(err).__name__}: {err}"
                ) from err
            texts[f"{assignment}.json"] = dumps(cases)
        return texts
    finally:
        torch.set_num_threads(threads)


def expected_dir(repo: Repo) -> Path:
    return repo.root / "course" / "expected"


def compare_expected(repo: Repo, texts: dict[str, str]) -> Diff:
    """Stored expected values against fresh ones, numerically (:func:`same_values`)."""
    from course.expected import same_values

    folder = expected_dir(repo)
    old = {p.name: p for p in folder.glob("*.json")}
    stale = [name for name, text in texts.items() if name in old and not same_values(
        json.loads(text), json.loads(old[name].read_text(encoding="utf-8")))]
    return Diff(stale=stale, missing=[n for n in texts if n not in old],
                extra=[n for n in old if n not in texts])


def write_expected(repo: Repo, texts: dict[str, str], out=print) -> None:
    """Write what changed (numerically) and remove files of assignments that are gone."""
    diff = compare_expected(repo, texts)
    folder = expected_dir(repo)
    for name in diff.stale + diff.missing:
        (folder / name).write_text(texts[name], encoding="utf-8")
    for name in diff.extra:
        (folder / name).unlink()
    for label, items in (("updated", diff.stale), ("added", diff.missing),
                         ("removed", diff.extra)):
        for name in items:
            out(f"{label:>7}: course/expected/{name}")


def copy_sources(repo: Repo, course: Path) -> None:
    """Copy every assignment of solutions/ into the course's source/ folder."""
    ignore = shutil.ignore_patterns(".*", "__pycache__", "*.pyc")
    for assignment in repo.assignment_ids():
        shutil.copytree(repo.solutions / assignment, course / "source" / assignment, ignore=ignore)


def generate(repo: Repo, course: Path) -> Path:
    """Run ``nbgrader generate_assignment`` for all assignments; return the release folder.

    ``course`` becomes an nbgrader course directory with ``gradebook.db`` (holding the
    assignments, notebooks and grade cells, hidden tests included) and ``release/``.
    """
    assignments = repo.assignment_ids()
    if not assignments:
        raise UsageError(f"no assignments: {repo.solutions} has no <assignment>/*.ipynb")
    check_clean(repo)
    check_budgets(repo)
    make_course_dir(course)
    copy_sources(repo, course)
    result = run_nbgrader(
        course, ["generate_assignment", "*", "--force"], RELEASE_LIMIT_S, course / "release.log"
    )
    release = course / "release"
    missing = [
        f"{a}/{nb.name}"
        for a in assignments
        for nb in repo.source_notebooks(a)
        if not (release / a / nb.name).is_file()
    ]
    if not result.ok or missing:
        raise UsageError(
            "nbgrader generate_assignment failed"
            + (f" (no release for {', '.join(missing)})" if missing else "")
            + f": {log_problem(result.log)}\n(full log: {course / 'release.log'})"
        )
    for path in release.rglob("*.ipynb"):  # normalise: exactly one trailing newline
        text = path.read_text(encoding="utf-8")
        if not text.endswith("\n") or text.endswith("\n\n"):
            path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return release


def tree(root: Path) -> dict[str, Path]:
    """Files under ``root/<assignment>/`` keyed by their relative path (clutter skipped)."""
    if not root.is_dir():
        return {}
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if len(rel.parts) < 2 or any(is_ignored(Path(p)) for p in rel.parts):
            continue  # files directly in assignments/ (a README) are not part of it
        if path.is_file():
            files[rel.as_posix()] = path
    return files


@dataclasses.dataclass
class Diff:
    stale: list[str]
    missing: list[str]
    extra: list[str]

    def __bool__(self) -> bool:
        return bool(self.stale or self.missing or self.extra)


def compare(generated: Path, committed: Path) -> Diff:
    new, old = tree(generated), tree(committed)
    return Diff(
        stale=[k for k in new if k in old and not filecmp.cmp(new[k], old[k], shallow=False)],
        missing=[k for k in new if k not in old],
        extra=[k for k in old if k not in new],
    )


def sync(generated: Path, committed: Path) -> Diff:
    """Make ``committed`` an exact mirror of ``generated``; return what changed."""
    diff = compare(generated, committed)
    for rel in diff.stale + diff.missing:
        dest = committed / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(generated / rel, dest)
    for rel in diff.extra:
        (committed / rel).unlink()
    for folder in sorted(committed.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return diff


def release(repo: Repo, check: bool = False, out=print) -> int:
    """``python -m autograder release [--check]``; returns the exit status."""
    with tempfile.TemporaryDirectory(prefix="autograder-release-") as tmp:
        generated = generate(repo, Path(tmp) / "course")
        texts = expected_values(repo)
        if check:
            diff = compare(generated, repo.assignments)
            values = compare_expected(repo, texts)
            if not diff and not values:
                out(f"assignments/ is up to date with solutions/ ({len(tree(generated))} files;"
                    f" expected values of {len(texts)} assignment(s))")
                return 0
            for label, items in (("stale", diff.stale), ("missing", diff.missing),
                                 ("extra", diff.extra)):
                for rel in items:
                    out(f"{label:>7}: assignments/{rel}")
            for label, items in (("stale", values.stale), ("missing", values.missing),
                                 ("extra", values.extra)):
                for name in items:
                    out(f"{label:>7}: course/expected/{name}")
            out(
                "assignments/ or course/expected/ does not match what solutions/ generates.\n"
                f"Fix: {FIX_COMMAND}, then commit assignments/ and course/expected/."
            )
            return 1
        publish(generated, repo, out)
        write_expected(repo, texts, out)
        return 0


def publish(generated: Path, repo: Repo, out=print) -> None:
    """Mirror a generated release into assignments/ and say what changed."""
    diff = sync(generated, repo.assignments)
    for label, items in (("updated", diff.stale), ("added", diff.missing),
                         ("removed", diff.extra)):
        for rel in items:
            out(f"{label:>7}: assignments/{rel}")
    changed = len(diff.stale) + len(diff.missing) + len(diff.extra)
    out(f"assignments/ generated from solutions/ ({changed} file(s) changed)")
