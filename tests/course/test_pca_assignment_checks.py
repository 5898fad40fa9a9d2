"""Assignment 07's stored visible cases and hidden checks, proved both ways.

The visible tests of ``solutions/07-pca-autoencoders`` compare with cases stored at release
time (``course/expected/07-pca-autoencoders.json``, from ``course.checks.pca.visible_cases``);
the hidden tests call the ``check_*`` functions of ``course.checks.pca``. Here each one is run
the way the notebook runs it: a right answer (written as a student would) passes, and each
planted mistake fails with its explanation first.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from course.checks import CheckFailure, assert_close, check_log_prob
from course.checks import pca as cp
from course.expected import EXPECTED_DIR, dumps, load_expected, same_values
from course.models.autoencoder import LinearAutoencoder, MLPAutoencoder, train_autoencoder
from course.models.pca import fit_ppca, pca_svd

ASSIGNMENT = "07-pca-autoencoders"


def _fixed_signs(v: np.ndarray) -> np.ndarray:
    """The notebook's fixed_signs."""
    v = np.array(v, dtype=np.float64)
    largest = v[np.abs(v).argmax(axis=0), np.arange(v.shape[1])]
    return v * np.where(largest < 0, -1.0, 1.0)


# --- students' PCA, right and with the planted mistakes -----------------------------------


def pca_by_svd(x, k, mistake=None):
    x = np.asarray(x, dtype=np.float64)
    n, d = x.shape
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x if mistake == "uncentred" else x - mean, full_matrices=False)
    eigenvalues = np.zeros(d)
    eigenvalues[: len(s)] = s**2 / n
    return mean, (vt[:k] if mistake == "rows" else vt[:k].T), eigenvalues


def pca_by_eig(x, k, mistake=None):
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    centred = x if mistake == "uncentred" else x - mean
    count = len(x) - 1 if mistake == "n-1" else len(x)
    values, vectors = np.linalg.eigh(centred.T @ centred / count)
    if mistake != "ascending":
        values, vectors = values[::-1], vectors[:, ::-1]
    return mean, -vectors[:, :k], np.clip(values, 0.0, None)  # the sign is arbitrary


PCA_MISTAKES = [("uncentred", "not centred"), ("n-1", "N - 1"), ("ascending", "ascending"),
                ("rows", "rows of the array")]


def test_the_stored_cases_are_current_and_small() -> None:
    fresh = json.loads(dumps(cp.visible_cases()))
    stored = json.loads((EXPECTED_DIR / f"{ASSIGNMENT}.json").read_text(encoding="utf-8"))
    assert same_values(fresh, stored), (
        f"course/expected/{ASSIGNMENT}.json is stale: run python -m autograder release")
    assert len(json.dumps(stored)) < 25_000, "keep the stored cases small"


@pytest.mark.parametrize("route", [pca_by_svd, pca_by_eig])
def test_visible_pca_case_passes_a_right_pca_and_names_each_mistake(route) -> None:
    case = load_expected(ASSIGNMENT)["pca"]
    mean, v, eigenvalues = route(case["x"], case["k"])
    assert_close(_fixed_signs(v), case["components"], "components",
                 mistakes=case["component_mistakes"])
    assert_close(eigenvalues, case["eigenvalues"], "eigenvalues",
                 mistakes=case["eigenvalue_mistakes"])
    wide = load_expected(ASSIGNMENT)["pca_wide"]
    mean, v, eigenvalues = route(wide["x"], wide["k"])
    assert_close(eigenvalues, wide["eigenvalues"], "eigenvalues", atol=1e-12)
    assert_close(_fixed_signs(v), wide["components"], "components")
    for mistake, phrase in PCA_MISTAKES:
        if mistake == "rows" or (route is pca_by_svd and mistake in ("n-1", "ascending")):
            continue  # a shape the visible test reports itself; mistakes of eigh only
        mean, v, eigenvalues = route(case["x"], case["k"], mistake)
        with pytest.raises(CheckFailure, match=phrase):
            assert_close(_fixed_signs(v), case["components"], "components",
                         mistakes=case["component_mistakes"])
            assert_close(eigenvalues, case["eigenvalues"], "eigenvalues",
                         mistakes=case["eigenvalue_mistakes"])


def test_hidden_pca_check_passes_both_routes() -> None:
    cp.check_pca_function(pca_by_svd, "pca_svd")
    cp.check_pca_function(pca_by_eig, "pca_eig")


@pytest.mark.parametrize(("mistake", "phrase"), PCA_MISTAKES)
def test_hidden_pca_check_names_each_planted_mistake(mistake: str, phrase: str) -> None:
    route = pca_by_svd if mistake in ("uncentred", "rows") else pca_by_eig
    with pytest.raises(CheckFailure, match=phrase):
        cp.check_pca_function(lambda x, k: route(x, k, mistake), "pca")


def test_hidden_pca_check_refuses_changing_x_and_unsorted_directions() -> None:
    def in_place(x, k):
        x -= x.mean(axis=0)
        return pca_by_svd(x, k)

    with pytest.raises(CheckFailure, match="in place"):
        cp.check_pca_function(in_place, "pca_svd")

    def swapped(x, k):
        mean, v, eigenvalues = pca_by_svd(x, k)
        return mean, v[:, ::-1], eigenvalues

    with pytest.raises(CheckFailure, match="ascending order .* reverse order"):
        cp.check_pca_function(swapped, "pca_svd")


# --- explained variance, projection, Eckart-Young ------------------------------------------


def ratio(values):
    return np.asarray(values, dtype=np.float64) / np.sum(values)


def count(values, fraction):
    return int(np.argmax(np.cumsum(ratio(values)) >= fraction * (1 - 1e-12)) + 1)


def project(x, mean, v):
    return (np.asarray(x, dtype=np.float64) - mean) @ v


def reconstruct(z, mean, v):
    return np.asarray(z, dtype=np.float64) @ v.T + mean


def mse(x, mean, v):
    return float(np.mean((x - reconstruct(project(x, mean, v), mean, v)) ** 2))


def eckart_young(values, k):
    return float(np.sum(values[k:]) / len(values))


def test_explained_variance_checks_both_ways() -> None:
    case = load_expected(ASSIGNMENT)["explained"]
    assert count(case["eigenvalues"], case["fraction"]) == case["count"]
    with pytest.raises(CheckFailure, match="an index, not a count"):
        assert_close(case["count"] - 1, case["count"], "num_components", atol=0,
                     mistakes=case["count_mistakes"])
    with pytest.raises(CheckFailure, match="cumulative"):
        assert_close(np.cumsum(ratio(case["eigenvalues"])), case["ratios"], "ratios",
                     mistakes=case["ratio_mistakes"])
    cp.check_explained_variance_functions(ratio, count)
    with pytest.raises(CheckFailure, match="an index, not a count"):
        cp.check_explained_variance_functions(ratio, lambda v, f: count(v, f) - 1)
    with pytest.raises(CheckFailure, match="sum of all eigenvalues"):
        cp.check_explained_variance_functions(lambda v: v / v[0], count)


def test_projection_checks_both_ways() -> None:
    case = load_expected(ASSIGNMENT)["projection"]
    x, mean, v = case["x"], case["mean"], case["components"]
    assert_close(project(x, mean, v), case["codes"], "codes")
    assert_close(reconstruct(case["codes"], mean, v), case["reconstructions"], "images")
    with pytest.raises(CheckFailure, match="The mean is missing"):
        assert_close(case["codes"] @ v.T, case["reconstructions"], "images",
                     mistakes=case["mistakes"]["reconstructions"])
    cp.check_projection_functions(project, reconstruct)
    with pytest.raises(CheckFailure, match="uncentred"):
        cp.check_projection_functions(lambda x, m, v: x @ v, reconstruct)
    with pytest.raises(CheckFailure, match="The mean is missing"):
        cp.check_projection_functions(project, lambda z, m, v: z @ v.T)


def test_mse_checks_both_ways() -> None:
    case = load_expected(ASSIGNMENT)["mse"]
    assert_close(mse(case["x"], case["mean"], case["components"]), case["expected"], "MSE")
    assert_close(eckart_young(case["eigenvalues"], 2), case["eckart_young"], "predicted")
    with pytest.raises(CheckFailure, match="summed over the D pixels"):
        assert_close(mse(case["x"], case["mean"], case["components"]) * 5, case["expected"],
                     "MSE", mistakes=case["mistakes"])
    cp.check_mse_functions(mse, eckart_young)
    with pytest.raises(CheckFailure, match="root of the MSE"):
        cp.check_mse_functions(lambda *a: np.sqrt(mse(*a)), eckart_young)
    with pytest.raises(CheckFailure, match="KEPT eigenvalues"):
        cp.check_mse_functions(mse, lambda v, k: float(np.sum(v[:k]) / len(v)))
    with pytest.raises(CheckFailure, match="Off by one"):
        cp.check_mse_functions(mse, lambda v, k: float(np.sum(v[k + 1:]) / len(v)))


# --- principal angles ------------------------------------------------------------------------


def angles(a, b):
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    return np.degrees(np.arccos(np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1, 1)))


def column_by_column(a, b):
    m = min(a.shape[1], b.shape[1])
    cos = np.sum(a[:, :m] * b[:, :m], axis=0) / (
        np.linalg.norm(a[:, :m], axis=0) * np.linalg.norm(b[:, :m], axis=0))
    return np.degrees(np.arccos(np.clip(np.abs(cos), 0.0, 1.0)))


def test_principal_angle_checks_both_ways() -> None:
    case = load_expected(ASSIGNMENT)["angles"]
    assert_close(angles(case["a"], case["b"]), case["expected"], "angles", atol=1e-5)
    for student in (column_by_column, lambda a, b: np.sort(column_by_column(a, b))):
        with pytest.raises(CheckFailure, match="compares the bases, not the subspaces"):
            assert_close(student(case["a"], case["b"]), case["expected"], "angles", atol=1e-5,
                         mistakes=case["mistakes"])
        with pytest.raises(CheckFailure, match="compares the bases, not the subspaces"):
            cp.check_principal_angles_function(student)
    cp.check_principal_angles_function(angles)
    with pytest.raises(CheckFailure, match="radians"):
        cp.check_principal_angles_function(lambda a, b: np.radians(angles(a, b)))


# --- the autoencoders --------------------------------------------------------------------------


class StudentLinear(nn.Module):
    def __init__(self, num_inputs, code_size):
        super().__init__()
        self.encoder = nn.Linear(num_inputs, code_size)
        self.decoder = nn.Linear(code_size, num_inputs)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))

    def decoder_basis(self):
        return self.decoder.weight.detach().numpy().astype(np.float64)


class StudentMLP(nn.Module):
    def __init__(self, num_inputs, code_size, hidden_sizes=(256, 128), *, sigmoid=True,
                 relu_on_code=False):
        super().__init__()
        sizes = [num_inputs, *hidden_sizes, code_size]
        down = [m for a, b in zip(sizes[:-1], sizes[1:], strict=True)
                for m in (nn.Linear(a, b), nn.ReLU())]
        up = [m for a, b in zip(sizes[::-1][:-1], sizes[::-1][1:], strict=True)
              for m in (nn.Linear(a, b), nn.ReLU())]
        self.encoder = nn.Sequential(*(down if relu_on_code else down[:-1]))
        self.decoder = nn.Sequential(*up[:-1])
        self.sigmoid = sigmoid

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        out = self.decoder(z)
        return torch.sigmoid(out) if self.sigmoid else out

    def forward(self, x):
        return self.decode(self.encode(x))


def test_autoencoder_class_checks_both_ways() -> None:
    cp.check_linear_autoencoder_class(StudentLinear)
    cp.check_mlp_autoencoder_class(StudentMLP)
    with pytest.raises(CheckFailure, match="activations"):
        cp.check_mlp_autoencoder_class(lambda *a, **kw: StudentMLP(*a, **kw, sigmoid=False))
    with pytest.raises(CheckFailure, match="activations"):
        cp.check_mlp_autoencoder_class(lambda *a, **kw: StudentMLP(*a, **kw, relu_on_code=True))
    with pytest.raises(CheckFailure, match="linear layers"):
        cp.check_mlp_autoencoder_class(lambda d, k, hidden_sizes=(256, 128):
                                       StudentMLP(d, k, (128, 256)))

    class EncoderBasis(StudentLinear):
        def decoder_basis(self):
            return self.encoder.weight.detach().numpy().T.astype(np.float64)

    with pytest.raises(CheckFailure, match="encoder's weight"):
        cp.check_linear_autoencoder_class(EncoderBasis)


def _optimal_linear(x_train: np.ndarray, k: int, orthonormal: bool) -> LinearAutoencoder:
    """A linear autoencoder at a global minimum without training: decoder V A, encoder
    A^-1 V^T (Baldi & Hornik), A = I for PCA's own basis."""
    fit = pca_svd(x_train, k)
    rng = np.random.default_rng(0)
    mixing = np.eye(k) if orthonormal else rng.normal(0, 1, (k, k)) + 2 * np.eye(k)
    model = LinearAutoencoder(64, k)
    with torch.no_grad():
        model.decoder.weight.copy_(torch.as_tensor(fit.components @ mixing))
        model.decoder.bias.copy_(torch.as_tensor(fit.mean))
        encoder = np.linalg.inv(mixing) @ fit.components.T
        model.encoder.weight.copy_(torch.as_tensor(encoder))
        model.encoder.bias.copy_(torch.as_tensor(-encoder @ fit.mean))
    return model


def test_trained_linear_autoencoder_check_both_ways() -> None:
    x_train = cp._digits()[0]
    cp.check_trained_linear_autoencoders({k: _optimal_linear(x_train, k, False) for k in (2, 10)})
    with pytest.raises(CheckFailure, match="orthonormal"):
        cp.check_trained_linear_autoencoders({k: _optimal_linear(x_train, k, True)
                                              for k in (2, 10)})
    with pytest.raises(CheckFailure, match="times PCA's"):
        cp.check_trained_linear_autoencoders({k: LinearAutoencoder(64, k) for k in (2, 10)})
    with pytest.raises(CheckFailure, match="must map each code size"):
        cp.check_trained_linear_autoencoders({2: _optimal_linear(x_train, 2, False)})


def test_trained_deep_autoencoder_check_both_ways() -> None:
    x_train = cp._digits()[0]
    with pytest.raises(CheckFailure, match="below 0.9 times PCA's"):
        cp.check_trained_deep_autoencoders({k: MLPAutoencoder(64, k) for k in (2, 10)})
    trained = {k: train_autoencoder("mlp", k, x_train, seed=0, progress=False)[0]
               for k in (2, 10)}
    cp.check_trained_deep_autoencoders(trained)
    with pytest.raises(CheckFailure, match="bottleneck must have k = 10"):
        cp.check_trained_deep_autoencoders({2: trained[2], 10: MLPAutoencoder(64, 12)})


# --- random codes and probabilistic PCA -------------------------------------------------------


def gaussian_codes(codes, n, rng):
    return rng.multivariate_normal(codes.mean(axis=0), np.cov(codes, rowvar=False), size=n)


def test_code_sampler_check_both_ways() -> None:
    cp.check_code_sampler(gaussian_codes)
    with pytest.raises(CheckFailure, match="covariance of the codes is missing"):
        cp.check_code_sampler(lambda c, n, rng: c.mean(axis=0)
                              + rng.standard_normal((n, c.shape[1])))
    with pytest.raises(CheckFailure, match="Only the variances"):
        cp.check_code_sampler(lambda c, n, rng: c.mean(axis=0)
                              + c.std(axis=0) * rng.standard_normal((n, c.shape[1])))
    with pytest.raises(CheckFailure, match="mean is missing"):
        cp.check_code_sampler(lambda c, n, rng: gaussian_codes(c - c.mean(axis=0), n, rng))
    with pytest.raises(CheckFailure, match="ignores the random generator"):
        cp.check_code_sampler(lambda c, n, rng: gaussian_codes(c, n, np.random.default_rng()))


def ppca_fit(x, k, mistake=None):
    mean, v, eigenvalues = pca_by_svd(x, k)
    sigma2 = float(eigenvalues.mean() if mistake == "all" else eigenvalues[k:].mean())
    scales = eigenvalues[:k] - (0.0 if mistake == "no-subtraction" else sigma2)
    return mean, v * np.sqrt(np.clip(scales, 0.0, None)), sigma2


def test_ppca_fit_checks_both_ways() -> None:
    case = load_expected(ASSIGNMENT)["ppca_fit"]
    mean, w, sigma2 = ppca_fit(case["x"], case["k"])
    assert_close(w @ w.T + sigma2 * np.eye(4), case["covariance"], "C")
    mean, w, sigma2 = ppca_fit(case["x"], case["k"], "all")
    with pytest.raises(CheckFailure, match="mean of all D eigenvalues"):
        assert_close(sigma2, case["sigma2"], "sigma2", mistakes=case["sigma2_mistakes"])
    cp.check_ppca_fit_function(ppca_fit)
    cp.check_ppca_fit_function(lambda x, k: (lambda m, w, s: (m, -w[:, ::-1], s))(
        *ppca_fit(x, k)))  # W R for a rotation R is the same model
    with pytest.raises(CheckFailure, match="mean of all D eigenvalues"):
        cp.check_ppca_fit_function(lambda x, k: ppca_fit(x, k, "all"))
    with pytest.raises(CheckFailure, match="subtracted from the eigenvalues first"):
        cp.check_ppca_fit_function(lambda x, k: ppca_fit(x, k, "no-subtraction"))


def ppca_log_likelihood(x, mean, w, sigma2, constant=True):
    d = x.shape[1]
    c = w @ w.T + sigma2 * np.eye(d)
    diff = x - mean
    quadratic = np.sum(diff * np.linalg.solve(c, diff.T).T, axis=1)
    return -0.5 * (constant * d * np.log(2 * np.pi) + np.linalg.slogdet(c)[1] + quadratic)


def test_ppca_log_likelihood_checks_both_ways() -> None:
    case = load_expected(ASSIGNMENT)["ppca_log_likelihood"]
    args = case["x"], case["mean"], case["W"], case["sigma2"]
    check_log_prob(ppca_log_likelihood(*args), case["expected"], "ll", num_dims=4, rtol=1e-8,
                   atol=1e-8, mistakes=case["mistakes"])
    with pytest.raises(CheckFailure, match="constant"):
        check_log_prob(ppca_log_likelihood(*args, constant=False), case["expected"], "ll",
                       num_dims=4, rtol=1e-8, atol=1e-8, mistakes=case["mistakes"])
    x_train, x_test = cp._digits()
    digits = load_expected(ASSIGNMENT)["ppca_digits"]
    mean_ll = ppca_log_likelihood(x_test, *ppca_fit(x_train, 10)).mean()
    assert mean_ll == pytest.approx(digits["test_mean_log_likelihood"], rel=1e-9)
    cp.check_ppca_log_likelihood_function(ppca_log_likelihood)
    with pytest.raises(CheckFailure, match="constant"):
        cp.check_ppca_log_likelihood_function(
            lambda *a: ppca_log_likelihood(*a, constant=False))
    with pytest.raises(CheckFailure, match="sigma2 is already a variance"):
        cp.check_ppca_log_likelihood_function(
            lambda x, m, w, s: ppca_log_likelihood(x, m, w, s**2))


def ppca_sample(mean, w, sigma2, n, rng, noise=True, scale=None):
    z = rng.standard_normal((n, w.shape[1]))
    eps = rng.standard_normal((n, len(mean)))
    return mean + z @ w.T + (np.sqrt(sigma2) if scale is None else scale) * eps * noise


def test_ppca_sampler_check_both_ways() -> None:
    cp.check_ppca_sampler(ppca_sample)
    with pytest.raises(CheckFailure, match="noise is missing"):
        cp.check_ppca_sampler(lambda *a: ppca_sample(*a, noise=False))
    with pytest.raises(CheckFailure, match="noise VARIANCE"):
        cp.check_ppca_sampler(lambda m, w, s, n, rng: ppca_sample(m, w, s, n, rng, scale=s))
    with pytest.raises(CheckFailure, match="mean is missing"):
        cp.check_ppca_sampler(lambda m, w, s, n, rng: ppca_sample(0 * m, w, s, n, rng))
    fit = fit_ppca(cp._digits()[0], 10)
    samples = ppca_sample(fit.mean, fit.weight, fit.sigma2, 20000, np.random.default_rng(0))
    assert samples.shape == (20000, 64)
