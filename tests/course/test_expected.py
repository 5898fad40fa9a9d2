"""course.expected: the visible tests' stored values read back exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from course import expected
from course.expected import ExpectedValuesMissing, decode, dumps, load_expected, same_values


def test_round_trip_is_exact() -> None:
    rng = np.random.default_rng(0)
    cases = {"logits": {"x": rng.standard_normal((3, 4)), "n": 4, "name": "a",
                        "mistakes": {"no mask": torch.tensor([1.5, 2.0])},
                        "masks": [np.eye(2), np.ones((3, 2))]}}
    back = decode(json.loads(dumps(cases)))
    assert np.array_equal(back["logits"]["x"], cases["logits"]["x"])  # bit for bit
    assert back["logits"]["x"].dtype == np.float64
    assert back["logits"]["n"] == 4 and back["logits"]["name"] == "a"
    assert np.array_equal(back["logits"]["mistakes"]["no mask"], [1.5, 2.0])
    assert [m.shape for m in back["logits"]["masks"]] == [(2, 2), (3, 2)]  # ragged stays a list


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        dumps({"case": {"x": np.array([1.0, np.nan])}})


def test_same_values_tolerates_last_bits_only() -> None:
    a = {"x": np.array([1.0, 2.0])}
    assert same_values(a, {"x": np.array([1.0, 2.0 + 1e-14])})
    assert not same_values(a, {"x": np.array([1.0, 2.001])})
    assert not same_values(a, {"x": np.array([1.0, 2.0, 3.0])})
    assert not same_values(a, {"y": np.array([1.0, 2.0])})


def test_missing_assignment_says_what_to_do(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(expected, "EXPECTED_DIR", tmp_path)
    (tmp_path / "02-fvsbn.json").write_text('{"a": 1}\n')
    assert load_expected("02-fvsbn") == {"a": 1}
    with pytest.raises(ExpectedValuesMissing, match="installed: 02-fvsbn.*kit"):
        load_expected("09-nothing")


def test_stored_files_are_what_dumps_writes() -> None:
    for path in sorted(expected.EXPECTED_DIR.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert dumps(json.loads(text)) == text, f"{path.name} was edited by hand"
