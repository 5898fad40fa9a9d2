"""PCA and probabilistic PCA references, principal angles, and topic 07's named mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal, ortho_group

from course import checks
from course.checks import pca as pca_checks
from course.data import digits8x8, digits8x8_intensities
from course.models.pca import (
    PPCAFit,
    explained_variance_ratio,
    fit_ppca,
    pca_eig,
    pca_svd,
    ppca_log_likelihood,
    ppca_sample,
    principal_angles,
    reconstruct,
)


def _data(n: int = 200, d: int = 6, seed: int = 0) -> np.ndarray:
    """Correlated Gaussian data with distinct variances and a nonzero mean."""
    rng = np.random.default_rng(seed)
    scales = np.linspace(3.0, 0.3, d)
    mixing = ortho_group.rvs(d, random_state=seed) * scales
    return rng.standard_normal((n, d)) @ mixing.T + np.arange(1, d + 1)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return digits8x8_intensities("train")[0], digits8x8_intensities("test")[0]


# --- data --------------------------------------------------------------------------------


def test_intensities_are_the_binarized_digits_before_the_threshold() -> None:
    x, labels = digits8x8_intensities("train")
    assert x.shape == (1438, 64) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal((x > 0.5).astype(np.float32), digits8x8("train"))
    assert len(digits8x8_intensities("test")[0]) == 359 and labels.max() == 9


# --- PCA ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(200, 6), (5, 8)])
def test_svd_and_eigendecomposition_agree(shape: tuple[int, int]) -> None:
    x = _data(*shape)
    k = min(shape) - 1
    by_svd, by_eig = pca_svd(x, k), pca_eig(x, k)
    assert by_svd.components.shape == (shape[1], k)
    assert principal_angles(by_svd.components, by_eig.components).max() < 1e-3
    # with the same sign convention the directions agree one by one, not only the subspace
    np.testing.assert_allclose(by_svd.components, by_eig.components, atol=1e-7)
    np.testing.assert_allclose(by_svd.eigenvalues, by_eig.eigenvalues, atol=1e-10)
    np.testing.assert_allclose(by_svd.mean, x.mean(axis=0))


def test_components_are_orthonormal_columns_and_eigenvalues_descend() -> None:
    x = _data()
    fit = pca_svd(x, 4)
    np.testing.assert_allclose(fit.components.T @ fit.components, np.eye(4), atol=1e-12)
    assert (np.diff(fit.eigenvalues) <= 0).all() and fit.eigenvalues[-1] > 0
    centred = x - x.mean(axis=0)
    np.testing.assert_allclose(fit.eigenvalues.sum(), (centred**2).sum() / len(x))
    # each column is an eigenvector of the covariance divided by N
    covariance = centred.T @ centred / len(x)
    np.testing.assert_allclose(covariance @ fit.components,
                               fit.components * fit.eigenvalues[:4], atol=1e-10)
    ratio = explained_variance_ratio(fit.eigenvalues)
    assert ratio.sum() == pytest.approx(1.0) and ratio[0] > ratio[1]


@pytest.mark.parametrize("k", [1, 3, 5, 6])
def test_reconstruction_mse_is_the_sum_of_the_discarded_eigenvalues(k: int) -> None:
    x = _data()
    fit = pca_svd(x, k)
    expected = fit.eigenvalues[k:].sum() / x.shape[1]
    assert fit.mse(x) == pytest.approx(expected, rel=1e-10, abs=1e-14)
    np.testing.assert_allclose(fit.reconstruct(fit.project(x)),
                               reconstruct(fit.project(x), fit.mean, fit.components))


def test_eckart_young_no_other_rank_k_projection_does_better() -> None:
    x = _data()
    fit = pca_svd(x, 2)
    rng = np.random.default_rng(1)
    for _ in range(20):
        q, _ = np.linalg.qr(fit.components + 0.3 * rng.standard_normal(fit.components.shape))
        assert pca_svd(x, 2)._replace(components=q).mse(x) > fit.mse(x)


def test_the_measured_digits_numbers(digits) -> None:
    x_train, x_test = digits
    assert pca_svd(x_train, 2).mse(x_train) == pytest.approx(0.0521, abs=5e-5)
    assert pca_svd(x_train, 10).mse(x_test) == pytest.approx(0.0196, abs=5e-5)


# --- principal angles --------------------------------------------------------------------


def test_principal_angles_of_known_subspaces() -> None:
    e = np.eye(3)
    tilted = np.stack([e[0], np.cos(np.radians(30)) * e[1] + np.sin(np.radians(30)) * e[2]], 1)
    np.testing.assert_allclose(principal_angles(e[:, :2], tilted), [0.0, 30.0], atol=1e-6)
    np.testing.assert_allclose(principal_angles(e[:, :1], e[:, 1:]), [90.0])
    with pytest.raises(ValueError, match="different spaces"):
        principal_angles(e, np.eye(4))


def test_principal_angles_ignore_signs_rotations_and_scales() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((10, 3))
    b = rng.standard_normal((10, 3))
    angles = principal_angles(a, b)
    assert (np.diff(angles) >= 0).all() and angles.min() > 1.0
    rotation = ortho_group.rvs(3, random_state=1)
    changed = (a @ rotation) * np.array([-1.0, 2.0, 0.5])
    np.testing.assert_allclose(principal_angles(changed, b), angles, atol=1e-6)
    np.testing.assert_allclose(principal_angles(a, changed), [0, 0, 0], atol=1e-5)
    # the column-by-column angles of two bases of the same subspace are not zero
    per_column = pca_checks.principal_angle_mistakes(a, changed)
    assert max(v.max() for v in per_column.values()) > 10


# --- probabilistic PCA -------------------------------------------------------------------


def test_ppca_ml_fit_is_tipping_and_bishop_closed_form() -> None:
    x = _data()
    fit = fit_ppca(x, 2)
    eigenvalues = pca_svd(x, 2).eigenvalues
    assert fit.sigma2 == pytest.approx(eigenvalues[2:].mean())
    np.testing.assert_allclose(np.linalg.norm(fit.weight, axis=0) ** 2,
                               eigenvalues[:2] - fit.sigma2)
    # the model covariance keeps the first k variances and replaces the others by sigma2
    model_eigenvalues = np.linalg.eigvalsh(fit.covariance())[::-1]
    np.testing.assert_allclose(model_eigenvalues,
                               np.r_[eigenvalues[:2], np.full(4, fit.sigma2)], atol=1e-10)


def test_ppca_log_likelihood_matches_a_direct_multivariate_normal() -> None:
    x = _data(n=50, d=5)
    fit = fit_ppca(x, 2)
    direct = multivariate_normal(fit.mean, fit.covariance()).logpdf(x)
    np.testing.assert_allclose(ppca_log_likelihood(x, fit), direct, rtol=1e-10)


def test_ppca_ml_fit_beats_perturbed_parameters() -> None:
    x = _data()
    fit = fit_ppca(x, 2)
    best = ppca_log_likelihood(x, fit).mean()
    rotation = ortho_group.rvs(2, random_state=0)
    # W R for an orthogonal R is the same model (Tipping & Bishop's rotational freedom)
    same = fit._replace(weight=fit.weight @ rotation)
    assert ppca_log_likelihood(x, same).mean() == pytest.approx(best, rel=1e-12)
    rng = np.random.default_rng(0)
    perturbed = [
        fit._replace(sigma2=fit.sigma2 * 1.1),
        fit._replace(sigma2=fit.sigma2 * 0.9),
        fit._replace(weight=fit.weight * 1.05),
        fit._replace(weight=fit.weight + 0.05 * rng.standard_normal(fit.weight.shape)),
        fit._replace(mean=fit.mean + 0.05),
        PPCAFit(fit.mean, pca_svd(x, 2).components * np.sqrt(pca_svd(x, 2).eigenvalues[:2]),
                fit.sigma2),
    ]
    for other in perturbed:
        assert ppca_log_likelihood(x, other).mean() < best - 1e-6


def test_ppca_samples_follow_the_model_and_the_generator(digits) -> None:
    fit = fit_ppca(digits[0], 10)
    a = ppca_sample(fit, 20000, np.random.default_rng(0))
    b = ppca_sample(fit, 20000, np.random.default_rng(0))
    c = ppca_sample(fit, 20000, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (20000, 64) and not np.array_equal(a, c)
    np.testing.assert_allclose(a.mean(axis=0), fit.mean, atol=0.02)
    np.testing.assert_allclose(np.cov(a, rowvar=False), fit.covariance(), atol=0.01)


def test_ppca_on_digits_and_its_errors(digits) -> None:
    x_train, x_test = digits
    lls = [ppca_log_likelihood(x_test, fit_ppca(x_train, k)).mean() for k in (2, 10, 20)]
    assert lls[0] < lls[1] < lls[2]
    with pytest.raises(ValueError, match="1 <= k < D"):
        fit_ppca(x_train, 64)
    with pytest.raises(ValueError, match="subspace"):
        fit_ppca(np.outer(np.arange(10.0), np.ones(3)), 1)


# --- named mistakes ----------------------------------------------------------------------


def _student_pca(x: np.ndarray, k: int, mistake: str | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A student's PCA by eigh with one planted mistake: (components, eigenvalues)."""
    if mistake != "uncentred":
        x = x - x.mean(axis=0)
    count = len(x) - 1 if mistake == "n-1" else len(x)
    values, vectors = np.linalg.eigh(x.T @ x / count)
    if mistake != "ascending":
        values, vectors = values[::-1], vectors[:, ::-1]
    components = -vectors[:, :k]  # the sign is arbitrary
    return (components.T if mistake == "rows" else components), values


@pytest.mark.parametrize(
    ("mistake", "phrase"),
    [("uncentred", "not centred"), ("n-1", "N - 1"), ("ascending", "ascending"),
     ("rows", "rows of the array")],
)
def test_each_pca_mistake_is_named(mistake: str, phrase: str) -> None:
    x = _data()
    reference = pca_svd(x, 2)
    components, values = _student_pca(x, 2, mistake)
    component_mistakes = pca_checks.component_mistakes(x, 2)
    if mistake != "n-1":  # the count changes the eigenvalues only
        with pytest.raises(checks.CheckFailure, match=phrase):
            checks.assert_close(pca_checks.align_signs(components, reference.components),
                                reference.components, "components", rtol=1e-6, atol=1e-8,
                                mistakes=component_mistakes)
        with pytest.raises(checks.CheckFailure, match=phrase):
            pca_checks.check_same_subspace(components, reference.components,
                                           mistakes=component_mistakes)
    if mistake != "rows":
        with pytest.raises(checks.CheckFailure, match=phrase):
            checks.assert_close(np.clip(values, 0, None), reference.eigenvalues, "eigenvalues",
                                rtol=1e-6, atol=1e-10,
                                mistakes=pca_checks.eigenvalue_mistakes(x))
        with pytest.raises(checks.CheckFailure, match=phrase):
            pca_checks.check_eigenvalue_identities(values, x)
        mse = values[2:].sum() / x.shape[1]
        if mistake == "uncentred":
            v = components
            mse = np.mean((x - x @ v @ v.T) ** 2)
        with pytest.raises(checks.CheckFailure, match=phrase):
            checks.assert_close(mse, reference.mse(x), "MSE", rtol=1e-6,
                                mistakes=pca_checks.mse_mistakes(x, 2))


def test_a_correct_pca_passes_every_check() -> None:
    x = _data()
    reference = pca_svd(x, 2)
    components, values = _student_pca(x, 2)
    checks.assert_close(pca_checks.align_signs(components, reference.components),
                        reference.components, "components",
                        mistakes=pca_checks.component_mistakes(x, 2))
    pca_checks.check_same_subspace(components @ ortho_group.rvs(2, random_state=0),
                                   reference.components,
                                   mistakes=pca_checks.component_mistakes(x, 2))
    pca_checks.check_eigenvalue_identities(np.clip(values, 0, None), x)
    checks.assert_close(values[2:].sum() / 6, reference.mse(x), "MSE",
                        mistakes=pca_checks.mse_mistakes(x, 2))


def test_subspace_check_messages_without_a_known_mistake() -> None:
    x = _data()
    reference = pca_svd(x, 2).components
    rng = np.random.default_rng(0)
    with pytest.raises(checks.CheckFailure, match="different subspace: the largest principal"):
        pca_checks.check_same_subspace(rng.standard_normal((6, 2)), reference)
    with pytest.raises(checks.CheckFailure, match=r"shape \(6, 3\)"):
        pca_checks.check_same_subspace(np.ones((6, 3)), reference)
    with pytest.raises(checks.CheckFailure, match="linearly dependent"):
        pca_checks.check_same_subspace(np.ones((6, 2)), reference)
    with pytest.raises(checks.CheckFailure, match="negative"):
        pca_checks.check_eigenvalue_identities(-np.ones(6), x)
    with pytest.raises(checks.CheckFailure, match="total variance"):
        pca_checks.check_eigenvalue_identities(np.linspace(2, 1, 6), x)


def _angles_column_by_column(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = (a * b).sum(axis=0) / (np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0))
    return np.degrees(np.arccos(np.clip(np.abs(cos), 0, 1)))


def _angles_without_qr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(np.linalg.svd(a.T @ b, compute_uv=False), -1, 1)))


@pytest.mark.parametrize(
    ("student", "phrase"),
    [(_angles_column_by_column, "column by column"), (_angles_without_qr, "without orthonorm"),
     (lambda a, b: np.radians(principal_angles(a, b)), "radians"),
     (lambda a, b: principal_angles(a, b)[::-1], "descending")],
)
def test_comparing_bases_instead_of_subspaces_is_named(student, phrase: str) -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((8, 3))
    b = a @ rng.standard_normal((3, 3)) + 0.3 * rng.standard_normal((8, 3))
    expected = principal_angles(a, b)
    mistakes = pca_checks.principal_angle_mistakes(a, b)
    with pytest.raises(checks.CheckFailure, match=phrase):
        checks.assert_close(student(a, b), expected, "angles", rtol=1e-6, atol=1e-6,
                            mistakes=mistakes)
    checks.assert_close(principal_angles(a @ np.diag([-1.0, 1, 2]), b), expected, "angles",
                        rtol=1e-6, atol=1e-5, mistakes=mistakes)


def test_ppca_mistakes_are_named_by_check_log_prob(digits) -> None:
    x_train, x_test = digits
    expected = ppca_log_likelihood(x_test, fit_ppca(x_train, 5))
    mistakes = pca_checks.ppca_mistakes(x_train, 5, x_test)
    checks.check_log_prob(expected.copy(), expected, "log p(x)", num_dims=64, rtol=1e-9,
                          mistakes=mistakes)
    for explanation, wrong in mistakes.items():
        with pytest.raises(checks.CheckFailure) as failure:
            checks.check_log_prob(wrong, expected, "log p(x)", num_dims=64, rtol=1e-9,
                                  mistakes=mistakes)
        assert str(failure.value).startswith(explanation)
