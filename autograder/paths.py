"""Where things live in the repository, and which assignments exist."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from autograder import UsageError

PACKAGE_DIR = Path(__file__).resolve().parent
CONFIG_FILE = PACKAGE_DIR / "nbgrader_config.py"

# Names that are never assignments, notebooks or submissions.
IGNORED_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store", "Thumbs.db"}


def is_ignored(path: Path) -> bool:
    """Hidden files and editor/Jupyter clutter, skipped everywhere."""
    return path.name.startswith(".") or path.name in IGNORED_NAMES


@dataclasses.dataclass(frozen=True)
class Repo:
    """The course repository: ``solutions/``, ``assignments/``, ``lectures/``, ``autograder/``."""

    root: Path

    @classmethod
    def at(cls, root: Path | str | None = None) -> Repo:
        """The repository at ``root``, by default the one this package lives in."""
        path = Path(root).resolve() if root is not None else PACKAGE_DIR.parent
        if not (path / "solutions").is_dir():
            raise UsageError(
                f"{path} has no solutions/ folder; run this from the course repository or pass"
                " --repo PATH"
            )
        return cls(path)

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def assignments(self) -> Path:
        return self.root / "assignments"

    @property
    def lectures(self) -> Path:
        return self.root / "lectures"

    @property
    def examples(self) -> Path:
        return self.root / "autograder" / "examples"

    @property
    def recipes(self) -> Path:
        return self.root / "autograder" / "recipes"

    def assignment_ids(self) -> list[str]:
        """Every ``solutions/<assignment>/`` folder that holds at least one notebook."""
        if not self.solutions.is_dir():
            return []
        return sorted(
            p.name
            for p in self.solutions.iterdir()
            if p.is_dir() and not is_ignored(p) and self.source_notebooks(p.name)
        )

    def source_notebooks(self, assignment: str) -> list[Path]:
        """The nbgrader source notebooks of one assignment, sorted by name."""
        folder = self.solutions / assignment
        return sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not is_ignored(p))

    def lecture_notebooks(self) -> list[Path]:
        if not self.lectures.is_dir():
            return []
        return sorted(p for p in self.lectures.glob("*.ipynb") if not is_ignored(p))
