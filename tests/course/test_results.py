"""course.results: the model table and the lectures' claims."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from course.results import ASSIGNMENT_NLL, PAPER_NLL, ClaimFailed, claim, model_table


def test_claim_prints_when_it_holds_and_raises_when_not(capsys) -> None:
    claim("NADE (90.1) is below FVSBN (92.9)", 90.1 < 92.9)
    assert "claim holds: NADE (90.1) is below FVSBN (92.9)" in capsys.readouterr().out
    with pytest.raises(ClaimFailed, match="do not support the claim: NADE"):
        claim("NADE (97.2) is below FVSBN (92.9)", 97.2 < 92.9)


def test_model_table_shows_nats_bits_and_paper_values() -> None:
    table = model_table({"FVSBN": 92.9, "NADE (d = 100)": 90.1, "independent pixels": 205.3},
                        paper_names={"NADE (d = 100)": "NADE"})
    lines = table.splitlines()
    assert lines[0].split("  ")[0] == "model" and len(lines) == 5
    fvsbn = lines[2].split()
    assert fvsbn == ["FVSBN", "92.9", f"{92.9 / (784 * math.log(2)):.4f}",
                     f"{PAPER_NLL['FVSBN'].nats:.2f}"]
    assert lines[3].split()[-1] == f"{PAPER_NLL['NADE'].nats:.2f}"
    assert lines[4].rstrip().endswith("-"), "no paper value for a baseline"


def test_measured_baselines_are_documented_and_claimed_by_their_lecture() -> None:
    import json
    from pathlib import Path

    from course.results import MEASURED_NLL

    assert {"independent pixels", "FVSBN, Assignment 2's recipe",
            "FVSBN, NADE's tricks"} <= set(MEASURED_NLL)
    for label, measured in MEASURED_NLL.items():
        assert 50 < measured.nats < 300, label
        assert measured.recipe and "(" in measured.command, label
    assert "independent pixels" in model_table({"independent pixels": 205.3})
    lecture = Path(__file__).resolve().parents[2] / "lectures" / "03-nade.ipynb"
    sources = ["".join(c["source"]) for c in json.loads(lecture.read_text())["cells"]]
    assert any("claim(" in s and "MEASURED_NLL[label]" in s for s in sources), (
        "lecture 03 must retrain the baselines and claim they agree with MEASURED_NLL")


def test_assignment_nll_is_what_the_readme_model_table_says() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines()
            if line.startswith("| ") and "| assignment 0" in line]
    for name, result in ASSIGNMENT_NLL.items():
        number = re.search(r"assignment (\d\d)", result.source).group(1)
        assert any(f"| assignment {number}" in row and f"| {result.nats:.1f} |" in row
                   for row in rows), f"README's model table has no row {result.nats} for {name}"
