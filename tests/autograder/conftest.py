"""Fixtures for the autograder tests (helpers live in ag_fixtures.py)."""

from __future__ import annotations

import pytest
from ag_fixtures import make_repo

from autograder.paths import Repo


@pytest.fixture
def repo(tmp_path) -> Repo:
    """A fresh fake course repository (no nbgrader run)."""
    return make_repo(tmp_path / "repo")
