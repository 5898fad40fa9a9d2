"""The stored cases of 06's visible tests: current, small, and naming mistakes.

Students receive the course without ``course.checks.pixelcnn``, so the visible tests of
``solutions/06-pixelcnn`` compare with ``course/expected/06-pixelcnn.json``. Each check here
uses the stored values the way the visible test cell does: the right answer passes, a
planted mistake fails with its explanation first.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from course.checks import CheckFailure, assert_close
from course.checks import pixelcnn as cp
from course.expected import EXPECTED_DIR, dumps, load_expected, same_values
from course.models.pixelcnn import conv_mask

ASSIGNMENT = "06-pixelcnn"


def test_the_stored_cases_are_what_visible_cases_gives_now() -> None:
    fresh = json.loads(dumps(cp.visible_cases()))
    stored = json.loads((EXPECTED_DIR / f"{ASSIGNMENT}.json").read_text(encoding="utf-8"))
    assert same_values(fresh, stored), (
        f"course/expected/{ASSIGNMENT}.json is stale: run python -m autograder release")
    assert len(json.dumps(stored)) < 25_000, "keep the stored cases small"


@pytest.mark.parametrize("key", ["3A", "3B", "5A", "5B"])
def test_stored_masks_pass_and_name_every_mistake(key: str) -> None:
    case = load_expected(ASSIGNMENT)["masks"][key]
    k, mask_type = int(key[:-1]), key[-1]
    assert_close(conv_mask(k, mask_type).astype(np.float64), case["expected"], "mask",
                 mistakes=case["mistakes"])
    for wrong in case["mistakes"].values():
        # for k = 3 the pixel right of the centre is the whole rest of the centre row: the
        # message names one of the mistakes that give this mask
        same = [why for why, value in case["mistakes"].items() if np.array_equal(value, wrong)]
        with pytest.raises(CheckFailure) as failure:
            assert_close(wrong, case["expected"], "mask", mistakes=case["mistakes"])
        assert any(str(failure.value).startswith(why) for why in same), str(failure.value)


def test_stored_blind_spot_is_the_issues_example() -> None:
    case = load_expected(ASSIGNMENT)["blind"]
    assert cp.pixels(case["expected"] != 0) == [(2, 7), (3, 6), (3, 7)]


@pytest.mark.parametrize("name", ["field", "blind"])
def test_stored_field_mistakes_are_named(name: str) -> None:
    case = load_expected(ASSIGNMENT)[name]
    named = 0
    for why, wrong in case["mistakes"].items():
        if np.array_equal(wrong, case["expected"]):
            continue  # type B first leaves the blind spot as it is: assert_close skips it
        with pytest.raises(CheckFailure, match="^" + why[:30]):
            assert_close(wrong, case["expected"], name, mistakes=case["mistakes"])
        named += 1
    assert named >= 2


def test_stored_gated_field_has_no_blind_and_no_future_pixel() -> None:
    case = load_expected(ASSIGNMENT)["gated"]
    field = case["expected"] != 0
    assert not cp.future_pixels(field, (4, 4)).any()
    assert not cp.blind_spot(5, 3, (4, 4), 8, gated=True, field=field).any()
