"""course.nade_tools: parameters into the reference, untying, enumeration, the sharing plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course.checks import (  # noqa: E402
    CheckFailure,  # noqa: E402
    all_states,
    check_distribution,
    check_log_prob,
)
from course.checks import nade as cnade  # noqa: E402
from course.models import NADE  # noqa: E402
from course.train import logit_of_means  # noqa: E402
from course.viz.nade import plot_weight_sharing  # noqa: E402


def _params(n: int, d: int, k: int | None = None, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    if k is None:
        shapes = [(d, n), (d,), (n, d), (n,)]
    else:
        shapes = [(d, n, k), (d,), (n, k, d), (n, k)]
    return [rng.standard_normal(shape) for shape in shapes]


def test_nade_from_numpy_holds_the_arrays_binary_and_categorical() -> None:
    W, c, V, b = _params(4, 3)
    model = cnade.nade_from_numpy(W, c, V, b)
    assert isinstance(model, NADE) and model.W.dtype == torch.float64
    np.testing.assert_array_equal(model.W.detach().numpy(), W)
    np.testing.assert_array_equal(model.b.detach().numpy(), b)
    categorical = cnade.nade_from_numpy(*_params(4, 3, k=3), dtype=torch.float32)
    assert categorical.num_values == 3 and categorical.W.dtype == torch.float32


def test_nade_from_numpy_names_a_wrong_shape() -> None:
    W, c, V, b = _params(4, 3)
    with pytest.raises(CheckFailure, match="V has shape"):
        cnade.nade_from_numpy(W, c, V.T, b)


def test_to_reference_copies_a_student_module_and_reports_missing_attributes() -> None:
    source = NADE(5, 2).double()
    copy = cnade.to_reference(source)
    x = torch.tensor(all_states(5, 2), dtype=torch.float64)
    torch.testing.assert_close(copy.log_prob(x), source.log_prob(x))

    class Wrong(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(2, 5))

    with pytest.raises(CheckFailure, match="no tensor attribute"):
        cnade.to_reference(Wrong())


def test_untie_gives_the_same_distribution() -> None:
    model = cnade.nade_from_numpy(*_params(6, 4, seed=1))
    untied = model.untied()
    x = torch.tensor(all_states(6, 2), dtype=torch.float64)
    torch.testing.assert_close(untied.log_prob(x), model.log_prob(x), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="binary"):
        NADE(3, 2, num_values=3).untied()


def test_logit_of_means_is_finite_and_inverts_the_sigmoid() -> None:
    x = np.array([[0, 1, 1], [0, 0, 1], [0, 1, 1], [0, 0, 1]], dtype=np.float32)
    logits = logit_of_means(x)
    assert np.isfinite(logits).all()
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), [1e-3, 0.5, 1 - 1e-3])


def test_all_states_order_and_range() -> None:
    states = all_states(2, 3)
    assert states.dtype == np.int64 and states.shape == (9, 2)
    assert states[:4].tolist() == [[0, 0], [0, 1], [0, 2], [1, 0]]
    with pytest.raises(ValueError):
        all_states(30, 4)


def test_check_distribution_of_a_categorical_nade_names_mistakes() -> None:
    model = cnade.nade_from_numpy(*_params(3, 2, k=4, seed=2))

    def log_prob(states: np.ndarray) -> torch.Tensor:
        return model.log_prob(torch.from_numpy(states))

    probs = check_distribution(log_prob, 3, num_values=4, expected_log_prob=log_prob)
    assert probs.shape == (64,) and probs.sum() == pytest.approx(1.0)

    def wrong_axis(states: np.ndarray) -> torch.Tensor:
        logits = model.logits(torch.from_numpy(states))
        log_p = torch.log_softmax(logits, dim=1)  # over the pixels: a classic mistake
        x = torch.from_numpy(states).unsqueeze(-1)
        return log_p.gather(-1, x).squeeze(-1).sum(-1)

    with pytest.raises(CheckFailure, match="wrong axis"):
        check_distribution(wrong_axis, 3, num_values=4)
    with pytest.raises(CheckFailure, match="reference gives"):
        check_distribution(
            log_prob, 3, num_values=4, expected_log_prob=lambda s: log_prob(s) + 1e-3
        )
    with pytest.raises(CheckFailure, match="not finite"):
        check_distribution(lambda s: np.full(len(s), -np.inf), 2, num_values=3)


def test_plot_weight_sharing_shows_repeated_slices() -> None:
    fig = plot_weight_sharing(n=4, d=2)
    untied, tied, stored = (ax.get_images()[0].get_array() for ax in fig.axes)
    assert untied.shape == tied.shape == (4 * 2 + 3, 4, 3) and stored.shape == (2, 4, 3)
    # tied: block 3 starts with block 2's columns; untied: the blocks differ
    block = lambda image, i: np.asarray(image[i * 3 : i * 3 + 2, :i])  # noqa: E731
    np.testing.assert_array_equal(block(tied, 3)[:, :2], block(tied, 2))
    assert not np.allclose(block(untied, 3)[:, :2], block(untied, 2))
    plt.close(fig)


def test_random_nade_params_shapes_and_float32_exactness() -> None:
    W, c, V, b = cnade.random_nade_params(5, 3, seed=0)
    assert [a.shape for a in (W, c, V, b)] == [(3, 5), (3,), (5, 3), (5,)]
    np.testing.assert_array_equal(W.astype(np.float32).astype(np.float64), W)
    shapes = [a.shape for a in cnade.random_nade_params(5, 3, seed=0, num_values=4)]
    assert shapes == [(3, 5, 4), (3,), (5, 4, 3), (5, 4)]


def test_load_params_copies_and_names_a_wrong_shape() -> None:
    params = cnade.random_nade_params(4, 2, seed=1)
    model = cnade.load_params(NADE(4, 2).double(), *params)
    np.testing.assert_array_equal(model.V.detach().numpy(), params[2])
    with pytest.raises(CheckFailure, match="module.W has shape"):
        cnade.load_params(NADE(4, 3), *params)
    with pytest.raises(CheckFailure, match="no tensor attribute"):
        cnade.load_params(nn.Linear(2, 2), *params)


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (lambda lp: lp / 6, "MEAN over the dimensions"),
        (lambda lp: -lp, "wrong sign"),
        (lambda lp: lp / np.log(2.0), "in bits"),
        (lambda lp: np.where(np.arange(len(lp)) == 1, -np.inf, lp), "log\\(sigmoid"),
        (lambda lp: lp + 0.1, "differs from the reference"),
        (lambda lp: np.repeat(lp[:, None] / 6, 6, axis=1), "one value per dimension"),
    ],
)
def test_check_log_prob_names_the_mistake(transform, message: str) -> None:
    model = cnade.nade_from_numpy(*cnade.random_nade_params(6, 3, seed=2))
    x = torch.tensor(all_states(6, 2)[:10], dtype=torch.float64)
    expected = model.log_prob(x).detach().numpy()
    check_log_prob(expected.copy(), expected, "lp", num_dims=6)
    with pytest.raises(CheckFailure, match=message):
        check_log_prob(transform(expected), expected, "lp", num_dims=6)


# --- the visible tests' stored cases (course/expected/03-nade.json) ------------------


def _stored_nade_cases() -> dict:
    """The cases as a released notebook reads them: through the JSON text."""
    import json

    from course.expected import decode, dumps

    return decode(json.loads(dumps(cnade.visible_cases())))


def _numpy_logits(x, W, c, V, b, sees_x_i: bool = False) -> np.ndarray:
    """A student's nade_logits, right or with the update before z_i (h_i sees x_i)."""
    a = np.tile(c, (len(x), 1))
    z = np.empty(x.shape)
    for i in range(x.shape[1]):
        if sees_x_i:
            a = a + np.outer(x[:, i], W[:, i])
        z[:, i] = 1 / (1 + np.exp(-a)) @ V[i] + b[i]
        if not sees_x_i:
            a = a + np.outer(x[:, i], W[:, i])
    return z


def test_stored_cases_are_small_and_decode_to_what_the_tests_unpack() -> None:
    from course.expected import dumps

    assert len(dumps(cnade.visible_cases())) < 32_000  # reviewed as a diff: keep it small
    cases = _stored_nade_cases()
    W, c, V, b = cases["naive"]["params"]
    assert W.shape == (4, 6) and c.shape == (4,) and V.shape == (6, 4) and b.shape == (6,)
    assert cases["naive_states"]["x"].tolist() == all_states(3, 2).tolist()
    for case in cases["num_params"]:
        assert isinstance(case["expected"], int) and isinstance(case["tied"], bool)
        assert all(isinstance(v, int) for v in case["mistakes"].values())


def test_a_right_student_passes_the_stored_cases_and_a_wrong_one_is_named() -> None:
    from course.checks import assert_close, check_autoregressive

    cases = _stored_nade_cases()
    case = cases["tied_conditionals"]
    probs = 1 / (1 + np.exp(-_numpy_logits(case["x"], *case["params"])))
    assert_close(probs, case["expected"], "p", rtol=1e-9, atol=1e-12, mistakes=case["mistakes"])
    wrong = 1 / (1 + np.exp(-_numpy_logits(case["x"], *case["params"], sees_x_i=True)))
    with pytest.raises(CheckFailure, match="^h_i sees x_i"):
        assert_close(wrong, case["expected"], "p", mistakes=case["mistakes"])
    case = cases["tied_autoregressive"]

    def stored(x: np.ndarray) -> dict:  # as the notebook's stored_mistakes
        return case["mistakes"] if np.array_equal(x, case["mistakes_x"]) else {}

    def sees(s: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-_numpy_logits(s, *case["params"], sees_x_i=True)))

    with pytest.raises(CheckFailure, match="^h_i sees x_i.* Not autoregressive"):
        check_autoregressive(sees, 6, mistakes=stored)
    case = cases["tied_log_prob"]
    np.testing.assert_allclose(_numpy_logits(case["x"], *case["params"]), case["logits"],
                               rtol=1e-9)


def test_stored_counts_name_the_mistakes() -> None:
    from course.checks import check_count

    tied, untied = _stored_nade_cases()["num_params"]
    assert tied["tied"] and not untied["tied"]
    by_value = {count: text for text, count in tied["mistakes"].items()}
    check_count(784 * 1001, tied["expected"], "tied", mistakes=by_value)
    with pytest.raises(CheckFailure, match="^The n output biases b are missing"):
        check_count(2 * 784 * 500, tied["expected"], "tied", mistakes=by_value)
    with pytest.raises(CheckFailure, match="its own c_i"):
        check_count(500 * 784 * 783 // 2 + 500 * 784 + 500 + 784, untied["expected"], "untied",
                    mistakes=by_value)


def test_rounded_mistakes_are_still_recognized() -> None:
    from course.checks import assert_close
    from course.expected import rounded

    wrong = np.array([1 / 3, -2 / 7, 1e-5 / 3])
    stored = rounded({"a mistake": wrong, "label": "text", "count": 3})
    assert stored["label"] == "text" and stored["count"] == 3
    assert repr(float(stored["a mistake"][0])) == "0.3333333333"
    with pytest.raises(CheckFailure, match="^a mistake"):
        assert_close(wrong, np.zeros(3), "v", rtol=1e-9, atol=1e-12,
                     mistakes={"a mistake": stored["a mistake"]})


def test_reference_helpers_agree_with_the_reference_model() -> None:
    params = cnade.random_nade_params(5, 3, seed=4)
    x = all_states(5, 2).astype(np.float64)
    model = cnade.nade_from_numpy(*params)
    with torch.no_grad():
        np.testing.assert_allclose(cnade.reference_logits(x, *params),
                                   model.logits(torch.as_tensor(x)).numpy())
        np.testing.assert_allclose(cnade.reference_probs(x, *params),
                                   torch.sigmoid(model.logits(torch.as_tensor(x))).numpy())
    assert np.exp(cnade.reference_log_prob(x, *params)).sum() == pytest.approx(1.0)


def test_load_parameters_copies_dotted_names_and_names_what_is_missing() -> None:
    from course.checks import load_parameters

    model = nn.Sequential(nn.Linear(2, 3)).double()
    load_parameters(model, {"0.weight": np.ones((3, 2)), "0.bias": np.arange(3.0)})
    assert model[0].weight.dtype == torch.float64 and model[0].bias.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(CheckFailure, match=r"module.0.weight has shape \(3, 2\), expected "
                       r"\(2, 3\)\. see the layout"):
        load_parameters(model, {"0.weight": np.ones((2, 3))}, hint="see the layout")
    with pytest.raises(CheckFailure, match="no tensor attribute 0.mask"):
        load_parameters(model, {"0.mask": np.ones((3, 2))})
