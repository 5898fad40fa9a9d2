"""What can be graded: assignments, notebooks and graded cells, read back from nbgrader.

Built once per grading run: the release is generated into a template course directory
whose ``gradebook.db`` every student's private course directory starts from. Cell time
budgets (``metadata.autograder.timeout``, see ``nbtools.cell_budget``) are read from the
source notebooks, not from the release or a submission: what a student can edit never
sets a time limit.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from nbgrader.api import Gradebook

from autograder import UsageError, nbtools
from autograder.paths import Repo
from autograder.release import generate


@dataclasses.dataclass(frozen=True)
class GradeCell:
    grade_id: str
    max_score: float


@dataclasses.dataclass(frozen=True)
class NotebookInfo:
    """One notebook of an assignment, as nbgrader recorded it."""

    assignment: str
    name: str  # nbgrader's notebook id: the file name without .ipynb
    grade_cells: tuple[GradeCell, ...]  # in notebook order
    source_cell_ids: frozenset[str]  # every grade_id nbgrader tracks (grade/solution/locked)
    release_path: Path
    # grade_id -> time budget in seconds, from the source notebook (solutions/)
    budgets: dict[str, float] = dataclasses.field(default_factory=dict, hash=False)

    @property
    def filename(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.grade_cells)


@dataclasses.dataclass
class Catalog:
    course: Path  # template course directory: gradebook.db, source/, release/
    notebooks: dict[str, dict[str, NotebookInfo]]  # assignment -> notebook name -> info

    @property
    def gradebook(self) -> Path:
        return self.course / "gradebook.db"

    def source_folder(self, assignment: str) -> Path:
        return self.course / "source" / assignment


def read_budgets(source: Path) -> dict[str, float]:
    """The cell time budgets of one source notebook (grade_id -> seconds)."""
    try:
        return nbtools.cell_budgets(nbtools.load(source))
    except ValueError as err:
        raise UsageError(f"{source}: {err}") from None


def build(repo: Repo, course: Path) -> Catalog:
    """Generate the release into ``course`` and read back what nbgrader will grade."""
    release = generate(repo, course)
    notebooks: dict[str, dict[str, NotebookInfo]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment in repo.assignment_ids():
            notebooks[assignment] = {}
            for nb in gb.find_assignment(assignment).notebooks:
                path = release / assignment / f"{nb.name}.ipynb"
                source = course / "source" / assignment / f"{nb.name}.ipynb"
                max_scores = {c.name: float(c.max_score) for c in nb.grade_cells}
                order = [nbtools.grade_id(c) for c in nbtools.load(path)["cells"]]
                ordered = [g for g in order if g in max_scores]
                if sorted(ordered) != sorted(max_scores):
                    raise UsageError(f"{path}: grade cells differ from nbgrader's gradebook")
                notebooks[assignment][nb.name] = NotebookInfo(
                    assignment=assignment,
                    name=nb.name,
                    grade_cells=tuple(GradeCell(g, max_scores[g]) for g in ordered),
                    source_cell_ids=frozenset(c.name for c in nb.source_cells),
                    release_path=path,
                    budgets=read_budgets(source),
                )
    return Catalog(course, notebooks)
