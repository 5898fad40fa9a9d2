"""MADE tools: masks with any comparison, paths, mistakes named, drawing, the explorer."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import itertools  # noqa: E402
import re  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402

from course import checks  # noqa: E402
from course.checks import autoregressive as ar  # noqa: E402
from course.checks import made as cmade  # noqa: E402
from course.models import (
    MADE,  # noqa: E402
    made,  # noqa: E402
)
from course.models.made import masks_from_degrees  # noqa: E402
from course.viz import made as vmade  # noqa: E402

CONFIGS = [(4, [5]), (5, [6, 6]), (6, [3, 8, 4]), (2, [3])]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _edge_count(ax, prefix: str) -> int:
    return sum(
        len(c.get_segments()) for c in ax.collections if str(c.get_label()).startswith(prefix)
    )


@pytest.mark.parametrize("ordering", ["natural", "random"])
@pytest.mark.parametrize(("n", "sizes"), CONFIGS)
def test_degrees_and_default_masks_match_the_reference(n, sizes, ordering) -> None:
    order, inputs, hidden = made.made_degrees(n, sizes, ordering, seed=3)
    assert sorted(order.tolist()) == list(range(n))
    assert inputs[order].tolist() == list(range(n)), "degree = position in the ordering"
    assert [len(h) for h in hidden] == sizes
    for got, expected in zip(
        made.masks_from_degrees(inputs, hidden), masks_from_degrees(inputs, hidden), strict=True
    ):
        np.testing.assert_array_equal(got, expected)
    paths = made.connectivity(made.masks_from_degrees(inputs, hidden))
    assert ar.first_violation(paths, order) is None
    if ordering == "natural":
        assert order.tolist() == list(range(n))
    reference = MADE(n, sizes, ordering=ordering, seed=3)  # one seeding for both
    ref_order, ref_degrees = reference.mask_set(0)
    assert ref_order.tolist() == order.tolist()
    assert all(np.array_equal(a, b) for a, b in zip(ref_degrees, [inputs, *hidden], strict=True))
    with pytest.raises(ValueError, match="ordering"):
        made.made_degrees(n, sizes, "shuffled")


def test_the_issue_example_orders_agree() -> None:
    """ordering "random", seed 0, n = 5: the figures and the model use the same order."""
    order, _, _ = made.made_degrees(5, [6], "random", seed=0)
    assert order.tolist() == MADE(5, [6], ordering="random", seed=0).ordering()


def test_connectivity_counts_paths() -> None:
    inputs, hidden = np.array([0, 1, 2]), [np.array([0, 1, 1, 0])]
    masks = made.masks_from_degrees(inputs, hidden)
    # output 1 sees the two units of degree 0, each sees input 0; output 2 sees all four
    np.testing.assert_array_equal(made.connectivity(masks), [[0, 0, 0], [2, 0, 0], [4, 2, 0]])
    wrong = made.masks_from_degrees(inputs, hidden, output_cmp=">=")
    assert ar.first_violation(made.connectivity(wrong))[0] == (0, 0)
    assert ar.first_violation(made.connectivity(wrong), order=[2, 1, 0]) is not None


@pytest.mark.parametrize("seed", range(4))
def test_path_edges_exist_iff_the_product_of_masks_is_nonzero(seed) -> None:
    _, inputs, hidden = made.made_degrees(5, [4, 3], "random", seed)
    for hidden_cmp, output_cmp in [(">=", ">"), (">=", ">="), (">", ">")]:
        masks = made.masks_from_degrees(
            inputs, hidden, hidden_cmp=hidden_cmp, output_cmp=output_cmp
        )
        paths = made.connectivity(masks)
        for i, j in itertools.product(range(5), range(5)):
            edges = made.path_edges(masks, j, i)
            assert [e.shape for e in edges] == [m.shape for m in masks]
            assert all((e <= (m != 0)).all() for e, m in zip(edges, masks, strict=True))
            on_path = [bool(e.any()) for e in edges]
            assert all(on_path) == (paths[i, j] > 0) == any(on_path)
            if paths[i, j]:  # each layer's path edges start where the previous ones end
                for k in range(1, len(edges)):
                    ends = edges[k - 1].any(axis=1)
                    starts = edges[k].any(axis=0)
                    np.testing.assert_array_equal(ends, starts)


@pytest.mark.parametrize(("n", "sizes"), CONFIGS)
def test_graph_draws_one_edge_per_mask_entry(n, sizes) -> None:
    order, inputs, hidden = made.made_degrees(n, sizes, "random", seed=1)
    masks = made.masks_from_degrees(inputs, hidden)
    ax = vmade.draw_made_graph(masks, [inputs, *hidden], source=order[0], target=order[-1])
    assert _edge_count(ax, "edges") == int(sum(m.sum() for m in masks))
    expected_path = sum(int(e.sum()) for e in made.path_edges(masks, order[0], order[-1]))
    assert _edge_count(ax, "path") == expected_path > 0
    assert _edge_count(ax, "violation") == 0
    units = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in units) == n + sum(sizes) + n


def test_graph_highlights_the_violation_of_a_wrong_output_mask() -> None:
    order, inputs, hidden = made.made_degrees(4, [6], "natural", seed=0)
    wrong = made.masks_from_degrees(inputs, hidden, output_cmp=">=")
    ax = vmade.draw_made_graph(wrong, [inputs, *hidden])
    (i, j), _ = ar.first_violation(made.connectivity(wrong), order)
    assert i == j, "with >= the first violation is an output seeing its own input"
    assert _edge_count(ax, "violation") == sum(
        int(e.sum()) for e in made.path_edges(wrong, j, i)
    )
    bare = vmade.draw_made_graph(wrong)  # no degrees: natural order, unlabelled units
    assert _edge_count(bare, "violation") > 0


def test_made_figure_verdicts() -> None:
    fig, verdict = vmade.made_figure(5, [6, 6], "random", seed=2, source=0, target=1)
    assert verdict.startswith("Autoregressive")
    assert len(fig.axes) == 3 + 1 + 1  # three masks, the product, the graph
    _, verdict = vmade.made_figure(5, [6, 6], "random", seed=2, wrong_output=True)
    assert "Not autoregressive" in verdict and "itself" in verdict


def test_explain_mask_difference_names_each_mistake() -> None:
    _, inputs, hidden = made.made_degrees(6, [8, 8], "random", seed=4)
    explain = cmade.explain_mask_difference
    right = masks_from_degrees(inputs, hidden)
    assert explain(right, inputs, hidden) is None
    assert explain([torch.as_tensor(m).bool() for m in right], inputs, hidden) is None

    def variant(h: str, o: str) -> list[np.ndarray]:
        return made.masks_from_degrees(inputs, hidden, hidden_cmp=h, output_cmp=o)

    assert "Use > in the output mask" in explain(variant(">=", ">="), inputs, hidden)
    message = explain(variant(">", ">"), inputs, hidden)
    assert "'>' instead of '>='" in message and "does not break" in message
    assert "connections are lost" in message
    assert "swapped" in explain(variant(">", ">="), inputs, hidden)
    assert "turned around" in explain(variant("<=", "<"), inputs, hidden)
    assert "transpose" in explain([m.T for m in right], inputs, hidden)
    assert "returned 2 masks" in explain(right[:2], inputs, hidden)
    assert "list of masks" in explain(right[0], inputs, hidden)
    assert "only 0 and 1" in explain([2 * m for m in right], inputs, hidden)
    broken = [m.copy() for m in right]
    broken[1][0, 0] = 1 - broken[1][0, 0]
    assert "Mask 1 differs from MADE's at [0, 0]" in explain(broken, inputs, hidden)


def test_explain_ensemble_difference_names_each_mistake() -> None:
    torch.manual_seed(0)
    model = MADE(4, [10], num_masks=3, ordering="agnostic", seed=5).double()
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.normal_()
    states = torch.as_tensor(checks.all_binary_states(4))
    per_mask = []
    for index in range(3):
        model.set_mask(index)
        per_mask.append(model.log_prob(states).detach())
    per_mask = torch.stack(per_mask)
    explain = cmade.explain_ensemble_difference
    assert explain(model.log_prob_ensemble(states, 3), per_mask) is None
    message = explain(per_mask.mean(0), per_mask, all_states=True)
    total = float(re.search(r"total probability (\d\.\d+)", message).group(1))
    assert "GEOMETRIC mean" in message and 0 < total < 0.99
    assert "without dividing" in explain(torch.logsumexp(per_mask, 0), per_mask)
    assert "maximum" in explain(per_mask.max(0).values, per_mask)
    assert "shape" in explain(per_mask, per_mask)
    deep = per_mask.float() - 200.0  # exp underflows in float32
    naive = deep.exp().mean(0).log()
    assert explain(torch.logsumexp(deep, 0) - np.log(3), deep) is None  # float32 round-off
    assert "logsumexp" in explain(naive, deep) and "underflows" in explain(naive, deep)
    assert "input" in explain(per_mask[0], per_mask)


def test_averaged_logits_is_not_the_mixture() -> None:
    torch.manual_seed(1)
    model = MADE(4, [10], num_masks=3, ordering="agnostic", seed=5).double()
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.normal_()
    model.set_mask(2)
    states = torch.as_tensor(checks.all_binary_states(4))
    with torch.no_grad():
        wrong = cmade.averaged_logits_log_prob(model, states, 3)
        right = model.log_prob_ensemble(states, 3)
    assert model.mask_index == 2
    assert abs(right.exp().sum().item() - 1) < 1e-12
    assert abs(wrong.exp().sum().item() - 1) > 1e-3, "different orderings: not normalized"
    model.set_mask(0)
    with torch.no_grad():
        single = cmade.averaged_logits_log_prob(model, states, 1)
    torch.testing.assert_close(single, model.log_prob(states).detach())


def test_to_reference_copies_weights_and_masks() -> None:
    torch.manual_seed(0)
    source = MADE(5, [7, 6], ordering="random", seed=3)
    copy = cmade.to_reference(source.layers, order=source.order)
    assert copy.layers[0].weight.dtype == torch.float64
    x = torch.as_tensor(checks.all_binary_states(5))
    torch.testing.assert_close(copy.log_prob(x), source.double().log_prob(x))
    assert copy.order.tolist() == source.order.tolist()
    with pytest.raises(ValueError, match="no tensor attribute 'mask'"):
        cmade.to_reference([torch.nn.Linear(3, 3)])
    with pytest.raises(ValueError, match="expected n = 3"):
        cmade.to_reference(MADE(3, [4]).layers[:1])
    with pytest.raises(ValueError, match="at least one layer"):
        cmade.to_reference([])


def test_parse_sizes() -> None:
    assert vmade.parse_sizes("6, 6") == [6, 6]
    assert vmade.parse_sizes("4") == [4]
    for bad in ("", "0", "1,2,3,4,5", "40", "six"):
        with pytest.raises(ValueError, match="hidden sizes"):
            vmade.parse_sizes(bad)


def test_mask_explorer_builds_reacts_and_skips_under_nbgrader(monkeypatch) -> None:
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    box = vmade.mask_explorer(n=4, hidden_sizes="5")
    assert box is not None and "Autoregressive" in box.verdict.value
    box.controls["wrong"].value = True
    assert "Not autoregressive" in box.verdict.value
    # the verdict's text reaches the browser escaped: "x_<i" is not swallowed as a tag
    assert "x_&lt;i" in box.verdict.value and "x_<i" not in box.verdict.value
    assert "'&gt;' rather than '&gt;=' in an output mask" in box.verdict.value.replace(
        "&#x27;", "'")
    assert all(c.layout.width == "420px" for c in box.controls.values())
    assert not box.controls["wrong"].indent  # the checkbox label is not cut
    box.controls["n"].value = 3  # the path sliders follow n
    assert box.controls["source"].max == 2 and box.controls["target"].value <= 2
    box.controls["sizes"].value = "nonsense"
    assert "hidden sizes" in box.verdict.value
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert vmade.mask_explorer() is None


# --- the visible tests' stored cases (course/expected/04-made.json) ------------------


def _stored_made_cases() -> dict:
    """The cases as a released notebook reads them: through the JSON text."""
    import json

    from course.expected import decode, dumps

    return decode(json.loads(dumps(cmade.visible_cases())))


def test_mask_mistakes_carry_explain_mask_difference_messages() -> None:
    _, inputs, hidden = made.made_degrees(6, [8, 8], "random", seed=4)
    mistakes = cmade.mask_mistakes(inputs, hidden)
    assert len(mistakes) == 6
    for explanation, masks in mistakes.items():  # (the second way round says which it is)
        assert explanation.startswith(cmade.explain_mask_difference(masks, inputs, hidden))
    kept = cmade.mask_mistakes(inputs, hidden, autoregressive_only=True)
    assert set(kept) < set(mistakes) and any("transpose" in k for k in kept)
    assert not any("'>' instead of '>='" in k or "swapped" in k for k in kept)
    for masks in kept.values():  # each breaks the property, or the shapes
        assert (masks[0].shape != (8, 6)
                or ar.first_violation(made.connectivity(masks), np.argsort(inputs)) is not None)


def test_stored_masks_name_the_mistake_of_a_student() -> None:
    case = _stored_made_cases()["masks"]
    right = [m.astype(np.float32) for m in masks_from_degrees(case["in_degrees"], case["hidden"])]
    assert all(np.array_equal(r, e) for r, e in zip(right, case["expected"], strict=True))
    wrong = masks_from_degrees(case["in_degrees"], case["hidden"], hidden_cmp=">")
    named = [text for text, masks in case["mistakes"].items()
             if all(np.array_equal(w, m) for w, m in zip(wrong, masks, strict=True))]
    assert len(named) == 1 and "'>' instead of '>='" in named[0]


def test_stored_made_state_loads_into_a_student_layout_and_gives_the_logits() -> None:
    cases = _stored_made_cases()
    case = cases["made"]
    model = checks.load_parameters(MADE(4, [8]).double(), case["state"])
    x = torch.as_tensor(case["x"])
    with torch.no_grad():
        torch.testing.assert_close(model.logits(x), torch.as_tensor(case["logits"]))
        relu_out = torch.relu(model.logits(x))
    with pytest.raises(checks.CheckFailure, match="^relu after the output layer"):
        checks.assert_close(relu_out, case["logits"], "logits", mistakes=case["mistakes"])
    case = cases["made_autoregressive"]
    model = checks.load_parameters(MADE(4, [12, 12]).double(), case["state"])
    model.order.copy_(torch.tensor([3, 1, 0, 2]))
    checks.check_autoregressive(model, 4, order=[3, 1, 0, 2])
    checks.check_distribution(lambda s: model.log_prob(torch.as_tensor(s)).detach(), 4,
                              expected_log_prob=lambda s: case["expected"], atol=1e-9)


def test_stored_n_passes_toy_is_autoregressive_and_names_the_position_mistake() -> None:
    case = _stored_made_cases()["n_passes"]
    A, b, order = case["A"], case["b"], case["order"]
    checks.check_autoregressive(lambda x: x @ A.T + b, 5, order=order.tolist())

    def n_passes(x: np.ndarray, by_position: bool) -> np.ndarray:  # as a student writes it
        known, total = np.zeros_like(x), np.zeros(len(x))
        for p, i in enumerate(order.tolist()):
            column = p if by_position else i
            z = ((x * known) @ A.T + b)[:, column]
            total += x[:, column] * z - np.logaddexp(0, z)
            known[:, i] = 1.0
        return total

    checks.assert_close(n_passes(case["x"], False), case["expected"], "n passes", rtol=1e-12)
    with pytest.raises(checks.CheckFailure, match="^You used the position p"):
        checks.assert_close(n_passes(case["x"], True), case["expected"], "n passes",
                            mistakes=case["mistakes"])


def test_stored_mask_sets_are_consistent_and_name_the_averaged_logits() -> None:
    cases = _stored_made_cases()
    case = cases["mask_ensemble"]
    x, logits = torch.as_tensor(case["x"]), torch.as_tensor(case["logits"])
    bernoulli = -torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x.expand_as(logits), reduction="none").sum(-1)
    torch.testing.assert_close(bernoulli, torch.as_tensor(case["log_probs"]))
    assert abs(np.exp(case["expected"]).sum() - 1) < 1e-12
    averaged = -torch.nn.functional.binary_cross_entropy_with_logits(
        logits.mean(0), x, reduction="none").sum(-1)
    with pytest.raises(checks.CheckFailure, match="^You averaged the logits"):
        checks.assert_close(averaged, case["expected"], "ensemble", mistakes=case["mistakes"])
    case = cases["ensemble"]
    with pytest.raises(checks.CheckFailure, match="^You averaged the log-probabilities"):
        checks.assert_close(torch.as_tensor(case["log_probs"]).mean(0), case["expected"], "e",
                            mistakes=case["mistakes"])


def test_reference_helpers_stand_in_and_restore() -> None:
    namespace = {"made_masks": "mine"}
    with cmade.reference_helpers(namespace):
        assert namespace["made_masks"].__wrapped__ is masks_from_degrees  # via standing_in
        assert namespace["input_degrees"]([2, 0, 1]).tolist() == [1, 2, 0]
        lp = torch.log(torch.tensor([[0.2, 0.5], [0.6, 0.1]], dtype=torch.float64))
        torch.testing.assert_close(namespace["ensemble_log_prob"](lp),
                                   torch.log(torch.tensor([0.4, 0.3], dtype=torch.float64)))
    assert namespace == {"made_masks": "mine"}


def test_stored_made_cases_are_small() -> None:
    from course.expected import dumps

    assert len(dumps(cmade.visible_cases())) < 32_000  # reviewed as a diff: keep it small
