"""Autoencoders of topic 07: shapes, seeding, the reconstruction trainer, PCA's subspace,
and lecture 07's figures and widget."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course import checks  # noqa: E402
from course.checks import pca as pca_checks  # noqa: E402
from course.data import digits8x8_intensities  # noqa: E402
from course.models.autoencoder import (  # noqa: E402
    RECIPES,
    ConvAutoencoder,
    LinearAutoencoder,
    MLPAutoencoder,
    Recipe,
    compare_with_pca,
    decode_numpy,
    encode_numpy,
    format_comparison,
    gaussian_codes,
    interpolate_codes,
    make_autoencoder,
    nearest_neighbour_mse,
    train_autoencoder,
)
from course.models.pca import pca_svd, principal_angles  # noqa: E402
from course.train import evaluate_mse, fit_reconstruction  # noqa: E402
from course.viz import pca as pca_viz  # noqa: E402


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x_train, _ = digits8x8_intensities("train")
    x_test, labels = digits8x8_intensities("test")
    return x_train, x_test, labels


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("kind", ["linear", "mlp", "conv"])
def test_shapes_and_seeded_initialization(kind: str) -> None:
    x = torch.rand(5, 64)
    state = torch.random.get_rng_state()
    model = make_autoencoder(kind, 64, 3, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is untouched
    assert model.encode(x).shape == (5, 3) and model(x).shape == (5, 64)
    same, other = make_autoencoder(kind, 64, 3, seed=1), make_autoencoder(kind, 64, 3, seed=2)
    assert torch.equal(model(x), same(x)) and not torch.equal(model(x), other(x))
    if kind != "linear":  # intensities in [0, 1]
        assert 0 <= model(x).min() and model(x).max() <= 1


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match="divisible by 4"):
        ConvAutoencoder(6, 2)
    with pytest.raises(ValueError, match="code_size"):
        MLPAutoencoder(4, 5)
    with pytest.raises(ValueError, match="kind"):
        make_autoencoder("vae", 64, 2)
    with pytest.raises(ValueError, match="square"):
        make_autoencoder("conv", 60, 2)


def test_evaluate_mse_and_a_seeded_trainer() -> None:
    x = np.random.default_rng(0).random((64, 16)).astype(np.float32)
    model = LinearAutoencoder(16, 2)
    with torch.no_grad():
        expected = ((model(torch.as_tensor(x)) - torch.as_tensor(x)) ** 2).mean().item()
    assert evaluate_mse(model, x, batch_size=10) == pytest.approx(expected, rel=1e-6)
    runs = []
    for _ in range(2):
        model = make_autoencoder("linear", 16, 2, seed=0)
        history = fit_reconstruction(model, x, x, epochs=5, batch_size=16, lr=1e-2, seed=3,
                                     lr_decay=True, progress=False)
        runs.append((history, model.decoder.weight.detach().clone()))
    assert runs[0][0].train_mse == runs[1][0].train_mse
    assert torch.equal(runs[0][1], runs[1][1])
    history = runs[0][0]
    assert len(history.train_mse) == len(history.test_mse) == len(history.seconds) == 5
    assert history.test_mse[-1] < history.test_mse[0]
    assert "test MSE" in history.summary()


def test_linear_autoencoder_spans_pca_subspace_without_being_orthonormal(digits) -> None:
    x_train, x_test, _ = digits
    model, _ = train_autoencoder("linear", 2, x_train, seed=0, progress=False)
    pca = pca_svd(x_train, 2)
    basis = model.decoder_basis()
    assert principal_angles(basis, pca.components).max() < 2.0
    pca_checks.check_linear_autoencoder(basis, x_train, 2, max_degrees=2.0)
    assert evaluate_mse(model, x_test) < 1.02 * pca.mse(x_test)
    # Baldi & Hornik: the same subspace, but not PCA's orthonormal basis
    assert pca_checks.orthonormality_gap(basis) > 0.1
    assert pca_checks.orthonormality_gap(pca.components) < 1e-12
    # a decoder that is not trained long enough is caught
    short, _ = train_autoencoder("linear", 2, x_train, seed=0, progress=False,
                                 recipe=Recipe(epochs=2, batch_size=100, lr=1e-3))
    with pytest.raises(checks.CheckFailure, match="principal angle"):
        pca_checks.check_linear_autoencoder(short.decoder_basis(), x_train, 2, max_degrees=2.0)


def test_deep_autoencoder_beats_pca_at_k_2(digits) -> None:
    x_train, x_test, _ = digits
    model, history = train_autoencoder("mlp", 2, x_train, x_test, seed=0, progress=False)
    assert len(history.train_mse) == RECIPES["mlp"].epochs
    pca_mse = pca_svd(x_train, 2).mse(x_test)
    assert history.test_mse[-1] < 0.7 * pca_mse
    assert evaluate_mse(model, x_test) == pytest.approx(history.test_mse[-1])


def test_compare_with_pca_rows_and_table(digits) -> None:
    x_train, x_test, _ = digits
    small = x_train[:200]
    rows = compare_with_pca([2], small, x_test, kinds=("linear",))
    assert set(rows[0]) == {"k", "PCA train", "PCA test", "linear train", "linear test",
                            "linear seconds", "linear angle"}
    assert rows[0]["PCA train"] == pytest.approx(pca_svd(small, 2).mse(small))
    assert rows[0]["linear train"] >= rows[0]["PCA train"] - 1e-7  # PCA is optimal
    table = format_comparison(rows)
    assert table.splitlines()[0].split()[:3] == ["k", "PCA", "train"]


def test_codes_random_codes_and_interpolation(digits) -> None:
    x_train = digits[0]
    model = make_autoencoder("mlp", 64, 3, seed=0)
    codes = encode_numpy(model, x_train)
    assert codes.shape == (len(x_train), 3) and codes.dtype == np.float64
    assert decode_numpy(model, codes[:4]).shape == (4, 64)
    drawn = gaussian_codes(codes, 20000, np.random.default_rng(0))
    np.testing.assert_allclose(drawn.mean(axis=0), codes.mean(axis=0), atol=0.02)
    np.testing.assert_allclose(np.cov(drawn, rowvar=False), np.cov(codes, rowvar=False),
                               atol=0.02)
    np.testing.assert_array_equal(drawn[:5], gaussian_codes(codes, 20000,
                                                            np.random.default_rng(0))[:5])
    path = interpolate_codes(codes[0], codes[1], 5)
    assert path.shape == (5, 3)
    np.testing.assert_allclose(path[[0, -1]], codes[:2])
    np.testing.assert_allclose(path[2], codes[:2].mean(axis=0))


def test_figures_draw_what_they_are_given(digits) -> None:
    x_train, x_test, labels = digits
    pca = pca_svd(x_train, 2)
    ax = pca_viz.plot_spectrum(pca.eigenvalues, {2: pca.mse(x_train)})
    line, points = ax.get_lines()
    assert line.get_ydata()[2] == pytest.approx(pca.eigenvalues[2:].sum() / 64)
    assert points.get_ydata()[0] == pytest.approx(pca.mse(x_train))
    fig = pca_viz.plot_components(pca.components)
    assert len(fig.axes) == 2
    fig = pca_viz.plot_reconstructions(x_test[:6], {"PCA": x_test[:6]}, {"PCA": 0.05})
    assert [a.get_ylabel() for a in fig.axes] == ["original", "PCA\nMSE 0.0500"]
    codes = pca.project(x_test)
    fig = pca_viz.plot_codes_2d({"PCA": codes, "again": codes}, labels)
    scatter = fig.axes[0].collections
    assert len(scatter) == 10 and sum(len(c.get_offsets()) for c in scatter) == len(x_test)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        pca_viz.plot_codes_2d({"3-D": np.zeros((4, 3))}, np.zeros(4))
    plt.close("all")


def test_reconstruction_explorer(monkeypatch, digits) -> None:
    x_test = digits[1][:4]
    recon = {k: {"PCA": x_test * 0.5, "AE": x_test} for k in (2, 10)}
    errors = {k: {"PCA": 0.1 * k, "AE": 0.01} for k in (2, 10)}
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert pca_viz.reconstruction_explorer(x_test, recon, errors) is None
    monkeypatch.delenv("NBGRADER_EXECUTION")
    drawn = []
    monkeypatch.setattr(pca_viz, "plot_reconstructions",
                        lambda *args, **kwargs: drawn.append(kwargs["title"]) or plt.figure())
    box = pca_viz.reconstruction_explorer(x_test, recon, errors)
    assert box.slider.options == (2, 10) and drawn == ["k = 2"]
    box.slider.value = 10
    assert drawn == ["k = 2", "k = 10"]
    plt.close("all")


def test_nearest_neighbour_mse() -> None:
    data = np.array([[0.0, 0.0], [1.0, 1.0]])
    images = np.array([[0.0, 0.0], [0.9, 1.0], [3.0, 1.0]])
    np.testing.assert_allclose(nearest_neighbour_mse(images, data, batch_size=2),
                               [0.0, 0.005, 2.0])
