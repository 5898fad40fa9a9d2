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
