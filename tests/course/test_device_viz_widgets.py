"""course.device(), plotting helpers and widgets."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import course  # noqa: E402
from course import viz  # noqa: E402
from course.viz import chain_rule  # noqa: E402


def test_device_defaults_to_cuda_when_available(monkeypatch) -> None:
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert course.device().type == expected


def test_device_override(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert course.device() == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "tpu-please")
    with pytest.raises(ValueError, match="COURSE_DEVICE"):
        course.device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
def test_device_cuda_override_without_gpu_says_what_to_do(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="Unset COURSE_DEVICE"):
        course.device()


def test_in_autograder(monkeypatch) -> None:
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not course.in_autograder()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert course.in_autograder()


def test_image_grid_places_each_image() -> None:
    images = np.stack([np.full((2, 2), v) for v in (0.0, 1.0, 0.25)])
    grid = viz.image_grid(images, nrow=2, pad=1)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1)
    assert (grid[1:3, 1:3] == 0.0).all() and (grid[1:3, 4:6] == 1.0).all()
    assert (grid[4:6, 1:3] == 0.25).all() and (grid[4:6, 4:6] == 0.5).all()
    flat = viz.image_grid(images.reshape(3, 4), nrow=3)
    assert flat.shape == (2 + 1 + 1, 3 * 3 + 1)
    with pytest.raises(ValueError, match="squares"):
        viz.image_grid(np.zeros((2, 5)))


def test_plots_draw_what_they_are_given() -> None:
    ax = chain_rule.plot_param_counts({"a": 10, "b": 256**784 - 1})
    widths = [bar.get_width() for bar in ax.patches]
    assert widths[0] == pytest.approx(1.0) and widths[1] == pytest.approx(784 * np.log10(256))
    ticks = ax.get_xticks()
    assert all(float(t).is_integer() for t in ticks) and max(ticks) <= max(widths)
    assert ax.get_xlim()[1] <= 1.3 * max(widths) + 1e-9
    ax = chain_rule.plot_param_counts({"n = 1": 1, "two": 2})  # tiny counts: whole powers
    assert [float(t) for t in ax.get_xticks()] == [0.0, 1.0]
    ax = viz.plot_curves({"train": [3.0, 2.0], "test": [3.5, 2.5]})
    assert [line.get_label() for line in ax.get_lines()] == ["train", "test"]
    fig = viz.plot_conditionals(np.zeros(16), np.full(16, 0.3))
    assert len(fig.axes) == 3
    viz.plot_mask(np.tril(np.ones((4, 4)), -1))
    viz.show_images(torch.zeros(4, 16), title="x")


def test_factorization_counts_and_widget(monkeypatch) -> None:
    counts = chain_rule.factorization_counts(n=10, k=2, m=2, d=5, latent=3)
    assert counts["full joint table"] == 2**10 - 1
    assert counts["FVSBN (logistic)"] == 55
    assert "FVSBN (logistic)" not in chain_rule.factorization_counts(10, 3, 1, 5, 3)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    drawn = []
    real_plot = chain_rule.plot_param_counts
    monkeypatch.setattr(chain_rule, "plot_param_counts",
                        lambda counts, **kw: drawn.append(counts) or real_plot(counts, **kw))
    box = chain_rule.param_count_explorer(n=20)
    sliders = box.children[0].children[0].children
    assert [s.description for s in sliders] == [
        "n variables", "k values", "Markov order m", "NADE hidden d", "latent |h|"]
    # projector-sized: a slider over 1..1000 is hundreds of pixels wide, labels not cut
    assert all(s.layout.width == "640px" for s in sliders)
    assert all(s.style.description_width == "150px" for s in sliders)
    assert len(drawn) == 1 and drawn[0]["full joint table"] == 2**20 - 1
    assert "FVSBN (logistic)" in drawn[0]
    sliders[1].value = 3  # k = 3: FVSBN and NADE are defined for binary variables only
    assert len(drawn) == 2 and drawn[1]["full joint table"] == 3**20 - 1
    assert "FVSBN (logistic)" not in drawn[1]
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert chain_rule.param_count_explorer() is None


def test_plot_weight_rows_shows_only_the_visible_past() -> None:
    matrix = np.arange(256, dtype=float).reshape(16, 16)
    fig = viz.plot_weight_rows(matrix, [0, 5, 15])
    assert len(fig.axes) == 4  # three panels and a colour bar
    first, second = (ax.images[0].get_array() for ax in fig.axes[:2])
    assert np.ma.getmaskarray(first).all(), "pixel 0 sees nothing"
    visible = ~np.ma.getmaskarray(second).reshape(-1)
    assert visible.tolist() == [True] * 5 + [False] * 11
    np.testing.assert_array_equal(np.ma.getdata(second).reshape(-1)[:5], matrix[5, :5])
    with pytest.raises(ValueError, match="square"):
        viz.plot_weight_rows(np.zeros((3, 5)), [1])


def test_gradient_norm_plot_and_temperature_explorer(monkeypatch) -> None:
    from course.viz.rnn import plot_gradient_norms, temperature_explorer

    ax = plot_gradient_norms({"a": [0.01, 0.1, 1.0], "b": np.array([4.0, 2.0, 1.0])})
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert list(lines[0].get_xdata()) == [2, 1, 0] and ax.get_yscale() == "log"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert temperature_explorer(lambda t: "x") is None
    monkeypatch.delenv("NBGRADER_EXECUTION")
    seen = []
    box = temperature_explorer(lambda t: seen.append(t) or f"<{t:.2f}>", value=0.5)
    slider, text = box.children
    slider.value = 1.5
    assert seen == [0.5, 1.5] and "&lt;1.50&gt;" in text.value
