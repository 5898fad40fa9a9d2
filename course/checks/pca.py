"""PCA and autoencoders in the tests: subspaces, eigenvalue identities, named mistakes.

Conventions of :mod:`course.models.pca`: data (N, D), the covariance divided by N,
components as the columns of a (D, k) array, eigenvalues in descending order.

- :func:`check_same_subspace` compares the column spaces of two bases through their
  principal angles (Björck & Golub, 1973), so the signs and any rotation of a basis do
  not matter; it names components given as rows and the subspace of a known mistake;
- :func:`align_signs` flips a student's columns (or rows) to the reference's signs, so
  that :func:`course.checks.assert_close` can compare directions one by one;
- :func:`check_eigenvalue_identities`: non-negative, descending, summing to the total
  variance, and the discarded ones giving the reconstruction error (Eckart-Young);
- :func:`check_linear_autoencoder`: a decoder that spans PCA's subspace (Baldi & Hornik,
  1989); :func:`orthonormality_gap` says how far it is from an orthonormal basis;
- the mistake helpers give, for ``assert_close(..., mistakes=...)``, the values that the
  common mistakes produce on the same data: :func:`component_mistakes`,
  :func:`eigenvalue_mistakes`, :func:`mse_mistakes`, :func:`principal_angle_mistakes`
  (comparing bases instead of subspaces, among others) and :func:`ppca_mistakes`.

Assignment 07 (``solutions/07-pca-autoencoders``):

- the mistakes of each function students write: :func:`projection_mistakes`,
  :func:`mse_function_mistakes`, :func:`eckart_young_mistakes`,
  :func:`num_components_mistakes`, :func:`ppca_fit_mistakes`,
  :func:`ppca_log_likelihood_mistakes`;
- the hidden tests, one ``check_*`` per graded cell: :func:`check_pca_function` (by SVD or
  by eigendecomposition), :func:`check_explained_variance_functions`,
  :func:`check_projection_functions`, :func:`check_mse_functions`,
  :func:`check_principal_angles_function`, :func:`check_linear_autoencoder_class`,
  :func:`check_mlp_autoencoder_class`, :func:`check_trained_linear_autoencoders`,
  :func:`check_trained_deep_autoencoders`, :func:`check_code_sampler`,
  :func:`check_ppca_fit_function`, :func:`check_ppca_log_likelihood_function`,
  :func:`check_ppca_sampler`; each names the mistake a wrong answer matches;
- :func:`visible_cases`: the visible tests' inputs, the references' outputs and the
  mistakes' values, stored at release time in ``course/expected/07-pca-autoencoders.json``
  (``course.expected``), since this module does not ship to students.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from course.checks.core import CheckFailure, assert_close
from course.checks.distributions import check_log_prob
from course.models.pca import (
    PPCAFit,
    fix_signs,
    pca_svd,
    ppca_log_likelihood,
    principal_angles,
    reconstruction_mse,
)
from course.numeric import to_numpy

__all__ = [
    "ASCENDING",
    "BASES_NOT_SUBSPACES",
    "DIVIDED_BY_N_MINUS_1",
    "ROWS_NOT_COLUMNS",
    "UNCENTRED",
    "align_signs",
    "check_code_sampler",
    "check_eigenvalue_identities",
    "check_explained_variance_functions",
    "check_linear_autoencoder",
    "check_linear_autoencoder_class",
    "check_mlp_autoencoder_class",
    "check_mse_functions",
    "check_pca_function",
    "check_ppca_fit_function",
    "check_ppca_log_likelihood_function",
    "check_ppca_sampler",
    "check_principal_angles_function",
    "check_projection_functions",
    "check_same_subspace",
    "check_trained_deep_autoencoders",
    "check_trained_linear_autoencoders",
    "component_mistakes",
    "correlated_data",
    "digits_pca_test_mse",
    "eckart_young_mistakes",
    "eigenvalue_mistakes",
    "largest_angle",
    "model_covariance",
    "mse_function_mistakes",
    "mse_mistakes",
    "num_components_mistakes",
    "orthonormality_gap",
    "ppca_fit_mistakes",
    "ppca_log_likelihood_mistakes",
    "ppca_mistakes",
    "principal_angle_mistakes",
    "projection_mistakes",
    "visible_cases",
]

UNCENTRED = ("The data were not centred: subtract the mean of every pixel (x - x.mean(axis=0)) "
             "before the SVD or the covariance; otherwise the first direction points at the "
             "mean image.")
DIVIDED_BY_N_MINUS_1 = ("The covariance is divided by N - 1; this course divides by N (the "
                        "maximum-likelihood covariance), so that the reconstruction MSE is "
                        "exactly the sum of the discarded eigenvalues / D.")
ROWS_NOT_COLUMNS = ("The components are the rows of the array, not its columns: return V "
                    "(D, k) with one direction per column, e.g. Vt[:k].T from the SVD.")
ASCENDING = ("The eigenvalues are in ascending order (numpy.linalg.eigh returns them so): sort "
             "them in descending order, and the eigenvectors with them, before keeping the "
             "first k.")
BASES_NOT_SUBSPACES = ("This compares the bases, not the subspaces they span: two bases of one "
                       "subspace can differ by any rotation or sign. Orthonormalize both "
                       "(np.linalg.qr) and take the singular values of Qa^T Qb: they are the "
                       "cosines of the principal angles.")


def _float(value: Any) -> np.ndarray:
    return np.asarray(to_numpy(value), dtype=np.float64)


def largest_angle(a: Any, b: Any) -> float:
    """The largest principal angle in degrees between the column spaces of ``a`` and ``b``."""
    return float(principal_angles(a, b).max())


def align_signs(got: Any, reference: Any) -> np.ndarray:
    """``got`` with each direction's sign set to agree with ``reference`` (D, k).

    ``got`` may be (D, k) (directions as columns) or (k, D) (as rows; kept as rows).
    Direction i is negated when its dot product with reference column i is negative; when
    the two are nearly orthogonal (|cos| < 1e-3) the convention of
    :func:`course.models.pca.fix_signs` decides instead, so that the same vectors always
    get the same signs. Any other shape is returned unchanged.
    """
    got_arr, ref = _float(got), _float(reference)
    if ref.ndim != 2:
        return got_arr
    if got_arr.shape == ref.shape:
        columns, transposed = got_arr, False
    elif got_arr.shape == ref.T.shape:
        columns, transposed = got_arr.T, True
    else:
        return got_arr
    dots = (columns * ref).sum(axis=0)
    norms = np.linalg.norm(columns, axis=0) * np.linalg.norm(ref, axis=0)
    signs = np.where(dots < 0, -1.0, 1.0)
    unclear = np.abs(dots) < 1e-3 * np.maximum(norms, 1e-300)
    fixed = fix_signs(columns)
    aligned = np.where(unclear, fixed, columns * signs)
    return aligned.T if transposed else aligned


def check_same_subspace(
    got: Any,
    expected: Any,
    name: str = "components",
    *,
    max_degrees: float = 0.01,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Assert that the columns of ``got`` span the subspace of ``expected``'s (D, k).

    The largest principal angle must be at most ``max_degrees``. A (k, D) ``got`` is named
    as components given as rows; when the angle is too large and ``got`` spans the
    subspace of one of ``mistakes`` ({explanation: a basis that mistake gives}), the
    message starts with that explanation. Raises :class:`CheckFailure`.
    """
    got_arr, ref = _float(got), _float(expected)
    if got_arr.shape != ref.shape:
        if got_arr.shape == ref.T.shape and ref.shape[0] != ref.shape[1]:
            raise CheckFailure(f"{ROWS_NOT_COLUMNS} ({name} has shape {got_arr.shape}, "
                               f"expected {ref.shape})")
        raise CheckFailure(f"{name} has shape {got_arr.shape}, expected (D, k) = {ref.shape}.")
    if not np.isfinite(got_arr).all():
        raise CheckFailure(f"{name} contains NaN or infinite values.")
    if np.linalg.matrix_rank(got_arr) < ref.shape[1]:
        raise CheckFailure(f"The columns of {name} are linearly dependent: they span fewer "
                           f"than k = {ref.shape[1]} dimensions.")
    angle = largest_angle(got_arr, ref)
    if angle <= max_degrees:
        return
    for explanation, basis in (mistakes or {}).items():
        basis = None if basis is None else _float(basis)
        if basis is None or basis.shape != ref.shape or largest_angle(basis, ref) <= max_degrees:
            continue
        if largest_angle(got_arr, basis) <= max_degrees:
            raise CheckFailure(f"{explanation} (the largest principal angle between the "
                               f"subspace of {name} and the expected one is {angle:.3g} degrees)")
    raise CheckFailure(
        f"{name} spans a different subspace: the largest principal angle to the expected "
        f"one is {angle:.3g} degrees (at most {max_degrees:g} allowed). Signs and rotations "
        "of the basis do not matter here; the directions themselves are off.")


def component_mistakes(x: Any, k: int) -> dict[str, np.ndarray]:
    """{explanation: the components (D, k) or (k, D) a mistake gives} on data ``x``,
    each with the signs of the reference (:func:`align_signs`), for
    ``assert_close(align_signs(got, ref), ref, mistakes=...)`` or
    :func:`check_same_subspace`."""
    x = _float(x)
    reference = pca_svd(x, k).components
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    full = pca_svd(x, x.shape[1]).components
    return {
        UNCENTRED: align_signs(vt[:k].T, reference),
        ROWS_NOT_COLUMNS: reference.T,
        ASCENDING + " (here the k directions of the smallest eigenvalues were kept)":
            align_signs(full[:, ::-1][:, :k], reference),
        ASCENDING + " (here the right directions, in reverse order)":
            align_signs(reference[:, ::-1], reference),
    }


def eigenvalue_mistakes(x: Any) -> dict[str, np.ndarray]:
    """{explanation: the eigenvalues (D,) a mistake gives} on data ``x`` (N, D)."""
    x = _float(x)
    n, d = x.shape
    eigenvalues = pca_svd(x, 1).eigenvalues
    uncentred = np.zeros(d)
    s = np.linalg.svd(x, compute_uv=False)
    uncentred[: len(s)] = s**2 / n
    singular = np.sqrt(eigenvalues * n)
    return {
        UNCENTRED: uncentred,
        DIVIDED_BY_N_MINUS_1: eigenvalues * n / (n - 1),
        ASCENDING: eigenvalues[::-1],
        "These are the singular values s of the centred data, not the eigenvalues of the "
        "covariance: lambda = s**2 / N.": singular,
        "These are the squared singular values s**2, not divided by N: lambda = s**2 / N.":
            singular**2,
    }


def mse_mistakes(x: Any, k: int) -> dict[str, float]:
    """{explanation: the reconstruction MSE a mistake gives} at rank ``k`` on ``x``."""
    x = _float(x)
    n, d = x.shape
    eigenvalues = pca_svd(x, 1).eigenvalues
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    uncentred_basis = vt[:k].T
    residual = x - x @ uncentred_basis @ uncentred_basis.T
    return {
        UNCENTRED: float(np.mean(residual**2)),
        DIVIDED_BY_N_MINUS_1: float(eigenvalues[k:].sum() / d * n / (n - 1)),
        ASCENDING + " (the largest eigenvalues were discarded)":
            float(eigenvalues[::-1][k:].sum() / d),
        "The MSE is summed over the D pixels instead of averaged: divide by D as well.":
            float(eigenvalues[k:].sum()),
    }


def principal_angle_mistakes(a: Any, b: Any) -> dict[str, np.ndarray]:
    """{explanation: the angles (min(p, q),) a mistake gives} for bases ``a``, ``b``."""
    a, b = _float(a), _float(b)
    angles = principal_angles(a, b)
    m = min(a.shape[1], b.shape[1])
    cos_columns = (a[:, :m] * b[:, :m]).sum(axis=0) / (
        np.linalg.norm(a[:, :m], axis=0) * np.linalg.norm(b[:, :m], axis=0))
    raw = np.linalg.svd(a.T @ b, compute_uv=False)
    per_column = np.degrees(np.arccos(np.clip(np.abs(cos_columns), 0.0, 1.0)))
    return {
        BASES_NOT_SUBSPACES + " (here: the angle between a_i and b_i, column by column)":
            per_column,
        BASES_NOT_SUBSPACES + " (here: the angles between a_i and b_i, column by column, "
        "sorted)": np.sort(per_column),
        BASES_NOT_SUBSPACES + " (here: the SVD of A^T B without orthonormalizing A and B)":
            np.degrees(np.arccos(np.clip(raw, -1.0, 1.0))),
        "The angles are in radians: return degrees (np.degrees).": np.radians(angles),
        "The angles are in descending order: return them ascending (the cosines, the "
        "singular values, come out descending).": angles[::-1],
    }


def _ppca_variant(x: np.ndarray, k: int, *, ddof: int = 0, subtract: bool = True,
                  all_eigenvalues: bool = False, summed: bool = False) -> PPCAFit:
    """PPCA's closed-form fit with one mistake: the N - 1 count (``ddof``), no
    subtraction of sigma2, sigma2 from all eigenvalues, or their sum instead of mean."""
    mean, components, eigenvalues = pca_svd(x, k, ddof=ddof)
    kept = eigenvalues if all_eigenvalues else eigenvalues[k:]
    sigma2 = float(kept.sum() if summed else kept.mean())
    scales = eigenvalues[:k] - (sigma2 if subtract else 0.0)
    return PPCAFit(mean, components * np.sqrt(np.clip(scales, 0.0, None)), sigma2)


def ppca_mistakes(x_train: Any, k: int, x_eval: Any) -> dict[str, np.ndarray]:
    """{explanation: the log-likelihoods (N,) of ``x_eval`` a mistaken PPCA fit gives}.

    The fit is on ``x_train`` at latent size ``k`` (:func:`ppca_fit_mistakes`). For
    :func:`course.checks.check_log_prob`'s ``mistakes``."""
    x_eval = _float(x_eval)
    return {explanation: ppca_log_likelihood(x_eval, fit)
            for explanation, fit in ppca_fit_mistakes(x_train, k).items()}


def check_eigenvalue_identities(eigenvalues: Any, x: Any, name: str = "eigenvalues") -> None:
    """Assert the identities of the covariance's eigenvalues (D,) of data ``x`` (N, D):
    all D of them, non-negative (up to rounding), descending, summing to the total
    variance trace(S) with S divided by N. Names the ascending order, the N - 1 count and
    uncentred data. Raises :class:`CheckFailure`."""
    values, x = _float(eigenvalues), _float(x)
    n, d = x.shape
    if values.shape != (d,):
        raise CheckFailure(f"{name} has shape {values.shape}, expected all D = {d} "
                           "eigenvalues of the covariance, shape (D,).")
    total = float(((x - x.mean(axis=0)) ** 2).sum() / n)
    tolerance = 1e-8 * max(total, 1e-300)
    if (values < -tolerance).any():
        raise CheckFailure(f"{name} has negative entries (smallest {values.min():.3g}): a "
                           "covariance's eigenvalues are >= 0. Clip rounding errors at 0.")
    if (np.diff(values) > tolerance).any():
        if (np.diff(values) >= -tolerance).all():
            raise CheckFailure(ASCENDING)
        raise CheckFailure(f"{name} is not sorted in descending order.")
    got_total = float(values.sum())
    if abs(got_total - total) <= 1e-6 * total:
        return
    uncentred = float((x**2).sum() / n)
    if abs(got_total - total * n / (n - 1)) <= 1e-6 * total:
        raise CheckFailure(f"{DIVIDED_BY_N_MINUS_1} (sum of {name} {got_total:.6g}, "
                           f"expected the total variance {total:.6g})")
    if abs(got_total - uncentred) <= 1e-6 * uncentred:
        raise CheckFailure(f"{UNCENTRED} (sum of {name} {got_total:.6g}, expected the total "
                           f"variance {total:.6g})")
    raise CheckFailure(f"The sum of {name} is {got_total:.6g}, but it must equal the total "
                       f"variance trace(S) = {total:.6g} (S divided by N).")


def orthonormality_gap(basis: Any) -> float:
    """max |B^T B - I| over the entries: 0 for orthonormal columns."""
    basis = _float(basis)
    return float(np.abs(basis.T @ basis - np.eye(basis.shape[1])).max())


def check_linear_autoencoder(decoder_basis: Any, x: Any, k: int, *,
                             max_degrees: float = 5.0) -> None:
    """Assert that a trained linear autoencoder's decoder columns (D, k) span PCA's
    rank-k subspace of ``x`` within ``max_degrees`` (Baldi & Hornik, 1989). An
    orthonormal basis is allowed but not required. Raises :class:`CheckFailure`."""
    reference = pca_svd(x, k).components
    mistakes = {
        "The decoder spans the subspace PCA finds on uncentred data: give the encoder and "
        "the decoder biases (or centre the data) so the mean is not spent on a direction.":
            component_mistakes(x, k)[UNCENTRED],
    }
    check_same_subspace(decoder_basis, reference, "the decoder's columns",
                        max_degrees=max_degrees, mistakes=mistakes)


# --- assignment 07: the mistakes of each function the students write ----------------------


def projection_mistakes(x: Any, mean: Any, components: Any) -> dict[str, dict[str, np.ndarray]]:
    """{"codes": {explanation: codes}, "reconstructions": {explanation: images}}: what the
    common mistakes of ``project`` and ``reconstruct`` give for ``x`` (N, D) and a PCA's
    ``mean`` (D,) and ``components`` (D, k); the reconstructions are of the right codes."""
    x, mean, v = _float(x), _float(mean), _float(components)
    codes = (x - mean) @ v
    return {
        "codes": {
            "The codes are of uncentred data: subtract the mean first, z = (x - mean) V.":
                x @ v,
            "The mean was added instead of subtracted: z = (x - mean) V.": (x + mean) @ v,
        },
        "reconstructions": {
            "The mean is missing: the reconstruction is mean + z V^T (the codes were "
            "computed from x - mean).": codes @ v.T,
            "The mean was subtracted instead of added back: x_hat = mean + z V^T.":
                codes @ v.T - mean,
        },
    }


def mse_function_mistakes(x: Any, mean: Any, components: Any) -> dict[str, float]:
    """{explanation: the value a mistaken ``reconstruction_mse`` gives} for ``x`` (N, D)
    reconstructed through ``mean`` and ``components`` (D, k)."""
    x, mean, v = _float(x), _float(mean), _float(components)
    squared = (x - (mean + (x - mean) @ v @ v.T)) ** 2
    return {
        "The squared error is summed over the D pixels instead of averaged: the course's MSE "
        "is the mean over examples AND pixels, np.mean((x - x_hat)**2).":
            float(squared.sum(axis=1).mean()),
        "The squared error is summed, not averaged: np.mean((x - x_hat)**2).":
            float(squared.sum()),
        "That is the root of the MSE: do not take the square root.": float(np.sqrt(squared.mean())),
        "The mean is missing from the reconstruction (x_hat = mean + z V^T).":
            float(np.mean((x - (x - mean) @ v @ v.T) ** 2)),
    }


def eckart_young_mistakes(eigenvalues: Any, k: int) -> dict[str, float]:
    """{explanation: the value a mistaken ``eckart_young_mse`` gives} for all D
    ``eigenvalues`` (descending) and rank ``k``."""
    values = _float(eigenvalues)
    d = len(values)
    return {
        "The discarded eigenvalues are summed but not divided by D: the MSE per pixel is "
        "(lambda_{k+1} + ... + lambda_D) / D.": float(values[k:].sum()),
        "These are the KEPT eigenvalues lambda_1..lambda_k: the error is what the discarded "
        "ones, lambda_{k+1}..lambda_D (values[k:]), held.": float(values[:k].sum() / d),
        "Off by one: values[k:] holds the D - k discarded eigenvalues (Python counts from 0).":
            float(values[k + 1:].sum() / d),
        "Off by one: values[k:] holds the D - k discarded eigenvalues, not values[k - 1:].":
            float(values[max(k - 1, 0):].sum() / d),
        "The discarded eigenvalues are averaged over the D - k of them, not divided by D.":
            float(values[k:].mean()) if k < d else None,
    }


def num_components_mistakes(eigenvalues: Any, fraction: float) -> dict[str, int]:
    """{explanation: the count a mistaken ``num_components`` gives}."""
    from course.models.pca import components_for_variance, explained_variance_ratio

    values = _float(eigenvalues)
    k = components_for_variance(values, fraction)
    return {
        "That is an index, not a count: the first k directions are indices 0..k-1, so the "
        "count is the index where the cumulative ratio reaches the fraction, plus 1.": k - 1,
        "The ratios were accumulated in ascending order: the first directions are the ones "
        "of the largest eigenvalues.":
            int(np.searchsorted(np.cumsum(explained_variance_ratio(values[::-1])),
                                fraction) + 1),
    }


def _gaussian_log_density(x: np.ndarray, mean: np.ndarray, covariance: np.ndarray, *,
                          constant: float = 1.0, log_det: float = 1.0,
                          quadratic: float = 1.0) -> np.ndarray:
    """log N(x; mean, covariance) per row, with each of its three terms scaled (for the
    mistakes: 0 leaves one out, 2 forgets its 1/2)."""
    d = len(mean)
    diff = x - mean
    _, logdet = np.linalg.slogdet(covariance)
    maha = np.einsum("nd,nd->n", diff, np.linalg.solve(covariance, diff.T).T)
    return -0.5 * (constant * d * np.log(2.0 * np.pi) + log_det * logdet + quadratic * maha)


def ppca_log_likelihood_mistakes(x: Any, fit: PPCAFit) -> dict[str, np.ndarray]:
    """{explanation: the log-likelihoods (N,) of ``x`` a mistaken ``ppca_log_likelihood``
    gives} for a PPCA ``fit`` (the right parameters, a wrong density)."""
    x = _float(x)
    mean, weight, sigma2 = fit
    d = len(mean)
    covariance = weight @ weight.T + sigma2 * np.eye(d)
    return {
        "The constant -D/2 log(2 pi) is missing.":
            _gaussian_log_density(x, mean, covariance, constant=0.0),
        "The log-determinant term is -1/2 log det C, not -log det C.":
            _gaussian_log_density(x, mean, covariance, log_det=2.0),
        "The log-determinant term -1/2 log det C is missing.":
            _gaussian_log_density(x, mean, covariance, log_det=0.0),
        "The quadratic term is -1/2 (x - mean)^T C^{-1} (x - mean): its 1/2 is missing.":
            _gaussian_log_density(x, mean, covariance, quadratic=2.0),
        "The covariance is W W^T + sigma2 I: sigma2 is already a variance, do not square it.":
            _gaussian_log_density(x, mean, weight @ weight.T + sigma2**2 * np.eye(d)),
        "W is missing from the covariance: C = W W^T + sigma2 I, not sigma2 I.":
            _gaussian_log_density(x, mean, sigma2 * np.eye(d)),
        "The quadratic form used C, not its inverse: (x - mean)^T C^{-1} (x - mean).":
            -0.5 * (d * np.log(2.0 * np.pi) + np.linalg.slogdet(covariance)[1]
                    + np.einsum("nd,de,ne->n", x - mean, covariance, x - mean)),
    }


def ppca_fit_mistakes(x: Any, k: int) -> dict[str, PPCAFit]:
    """{explanation: the PPCA fit a mistake gives} on ``x`` (N, D) at latent size ``k``:
    the parameters behind :func:`ppca_mistakes`."""
    x = _float(x)
    return {
        "W = V_k L_k^(1/2): sigma^2 must be subtracted from the eigenvalues first, W = V_k "
        "(L_k - sigma^2 I)^(1/2) (Tipping & Bishop, 1999, eq. 7); otherwise the model "
        "counts the noise twice along the first k directions.": _ppca_variant(x, k, subtract=False),
        "sigma^2 is the mean of all D eigenvalues; it is the mean of the D - k discarded "
        "ones (Tipping & Bishop, 1999, eq. 8).": _ppca_variant(x, k, all_eigenvalues=True),
        DIVIDED_BY_N_MINUS_1: _ppca_variant(x, k, ddof=1),
        "sigma^2 is the sum of the discarded eigenvalues; it is their mean (divide by D - k).":
            _ppca_variant(x, k, summed=True),
    }


def model_covariance(weight: Any, sigma2: float) -> np.ndarray:
    """PPCA's covariance C = W W^T + sigma2 I (D, D): invariant to W's rotation W R."""
    weight = _float(weight)
    return weight @ weight.T + float(sigma2) * np.eye(weight.shape[0])


# --- assignment 07: the hidden tests ------------------------------------------------------

#: The linear autoencoder's test MSE may exceed PCA's by this factor (a few percent), and
#: its decoder may be this many degrees from PCA's subspace (largest principal angle), at
#: each code size k: measured with the recipe, 1.0003 at most and 0.7 degrees over seeds 0-3.
LINEAR_MAX_RATIO = 1.03
LINEAR_MAX_DEGREES = {2: 3.0, 10: 5.0}
#: The deep autoencoder's test MSE must be below this fraction of PCA's (measured with the
#: recipe: 0.54 at k = 2 and 0.47 at k = 10 for seed 0, at most 0.59 over seeds 0-2).
DEEP_MAX_RATIO = 0.9
#: Decoder columns this close to orthonormal (max |B^T B - I|) are PCA's basis, not one
#: that gradient descent finds (measured: 4.9 to 16).
MIN_ORTHONORMALITY_GAP = 0.1


def correlated_data(n: int, d: int, seed: int) -> np.ndarray:
    """Gaussian data (n, d) with distinct variances (scales 3 down to 0.3) along a random
    rotation and a mean of (1, 2, ..., d): test inputs whose principal directions are
    well defined."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    scales = np.linspace(3.0, 0.3, d)
    return (rng.standard_normal((n, d)) * scales) @ rotation.T + np.arange(1.0, d + 1)


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from course.data import digits8x8_intensities

    train = digits8x8_intensities("train")[0].astype(np.float64)
    test = digits8x8_intensities("test")[0].astype(np.float64)
    train.flags.writeable = False
    test.flags.writeable = False
    return train, test


@functools.lru_cache(maxsize=1)
def _mnist_sample() -> np.ndarray:
    from course.data import mnist_digits

    x = mnist_digits("train")[0][:1000].reshape(1000, 784) / 255.0
    x.flags.writeable = False
    return x


def digits_pca_test_mse(ks: Sequence[int] = (2, 10, 32)) -> dict[str, float]:
    """{str(k): the test MSE per pixel of PCA fitted on the 8 x 8 training digits}."""
    x_train, x_test = _digits()
    return {str(k): pca_svd(x_train, k).mse(x_test) for k in ks}


def _call(fn: Callable[..., Any], name: str, *args: Any) -> Any:
    """``fn(*args)`` with copies of the array arguments, failing when ``fn`` changes one."""
    copies = [np.array(a) if isinstance(a, np.ndarray) else a for a in args]
    out = fn(*copies)
    for before, after in zip(args, copies, strict=True):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after):
            raise CheckFailure(f"{name} changed one of its input arrays in place (e.g. x -= "
                               "mean): work on a new array (x = x - mean).")
    return out


def _triple(out: Any, name: str, what: str) -> tuple[Any, Any, Any]:
    if not isinstance(out, tuple | list) or len(out) != 3:
        raise CheckFailure(f"{name} must return a tuple {what}, got {type(out).__name__}"
                           + (f" of length {len(out)}" if hasattr(out, "__len__") else ""))
    return out[0], out[1], out[2]


def _pca_cases() -> list[tuple[str, np.ndarray, int]]:
    return [("correlated data (200, 6)", correlated_data(200, 6, 11), 3),
            ("N = 5 < D = 8 rows", correlated_data(5, 8, 12), 4),
            ("the 8 x 8 training digits", _digits()[0], 10),
            ("1,000 MNIST digits (28 x 28)", _mnist_sample(), 20)]


def check_pca_function(pca_fn: Callable[..., Any], name: str) -> None:
    """Grade a student's ``pca_fn(x, k) -> (mean, components, eigenvalues)`` (by SVD or
    by eigendecomposition) against the reference on four data sets: the mean, the
    subspace (principal angles, naming the mistakes), orthonormal columns, each direction
    up to its sign, the eigenvalue identities and the eigenvalues themselves."""
    for label, x, k in _pca_cases():
        where = f"{name}(x, {k}) on {label}"
        reference = pca_svd(x, k)
        mean, components, eigenvalues = _triple(_call(pca_fn, name, np.array(x), k), name,
                                                "(mean, components, eigenvalues)")
        assert_close(mean, reference.mean, f"the mean of {where}", rtol=1e-6, atol=1e-9)
        mistakes = component_mistakes(x, k)
        check_same_subspace(components, reference.components, f"the components of {where}",
                            max_degrees=1e-3, mistakes=mistakes)
        gap = orthonormality_gap(components)
        if gap > 1e-6:
            raise CheckFailure(f"The components of {where} are not orthonormal (max |V^T V - "
                               f"I| = {gap:.2g}): return unit eigenvectors / singular vectors.")
        assert_close(align_signs(components, reference.components), reference.components,
                     f"the components of {where}, direction by direction (signs aside)",
                     rtol=1e-5, atol=1e-6, mistakes=mistakes,
                     hint="The subspace is right, but column i must be the direction of the "
                     "i-th largest eigenvalue.")
        check_eigenvalue_identities(eigenvalues, x, f"the eigenvalues of {where}")
        assert_close(eigenvalues, reference.eigenvalues, f"the eigenvalues of {where}",
                     rtol=1e-6, atol=1e-10 * reference.eigenvalues[0],
                     mistakes=eigenvalue_mistakes(x))


def check_explained_variance_functions(ratio_fn: Callable[..., Any],
                                       count_fn: Callable[..., Any]) -> None:
    """Grade ``explained_variance_ratio(eigenvalues)`` and ``num_components(eigenvalues,
    fraction)`` on the eigenvalues of the digits, of correlated data and of a short list
    with a zero."""
    from course.models.pca import components_for_variance, explained_variance_ratio

    for label, values in [("the 8 x 8 digits", pca_svd(_digits()[0], 1).eigenvalues),
                          ("correlated data", pca_svd(correlated_data(50, 7, 3), 1).eigenvalues),
                          ("[4, 3, 2, 1, 0]", np.array([4.0, 3.0, 2.0, 1.0, 0.0]))]:
        expected = explained_variance_ratio(values)
        assert_close(_call(ratio_fn, "explained_variance_ratio", values.copy()), expected,
                     f"explained_variance_ratio of the eigenvalues of {label}", rtol=1e-9,
                     atol=1e-12, mistakes={
                         "These are cumulative ratios: return each direction's own fraction "
                         "lambda_i / sum(lambda).": np.cumsum(expected),
                         "Divide by the sum of all eigenvalues, not by the largest one.":
                             values / values[0],
                         "These are the eigenvalues themselves: divide by their sum.": values},
                     hint="lambda_i / sum_j lambda_j, shape (D,).")
        for fraction in (0.5, 0.9, 0.95, 0.99):
            got = _call(count_fn, "num_components", values.copy(), fraction)
            assert_close(got, components_for_variance(values, fraction),
                         f"num_components(eigenvalues of {label}, {fraction})", rtol=0, atol=0,
                         mistakes=num_components_mistakes(values, fraction),
                         hint="the least k with sum(ratios[:k]) >= fraction.")


def check_projection_functions(project_fn: Callable[..., Any],
                               reconstruct_fn: Callable[..., Any]) -> None:
    """Grade ``project(x, mean, components)`` and ``reconstruct(codes, mean, components)``
    with the reference PCA's mean and components (k = 1, 2 and 10)."""
    cases = [("correlated data", correlated_data(50, 6, 5), 2),
             ("correlated data", correlated_data(9, 4, 6), 1),
             ("the 8 x 8 test digits", _digits()[1], 10)]
    for label, x, k in cases:
        fit = pca_svd(x, k)
        codes = fit.project(x)
        mistakes = projection_mistakes(x, fit.mean, fit.components)
        assert_close(_call(project_fn, "project", np.array(x), fit.mean, fit.components),
                     codes, f"project on {label}, k = {k}", rtol=1e-7, atol=1e-9,
                     mistakes=mistakes["codes"], hint="z = (x - mean) V, shape (N, k).")
        assert_close(_call(reconstruct_fn, "reconstruct", codes, fit.mean, fit.components),
                     fit.reconstruct(codes), f"reconstruct on {label}, k = {k}", rtol=1e-7,
                     atol=1e-9, mistakes=mistakes["reconstructions"],
                     hint="x_hat = mean + z V^T, shape (N, D).")


def check_mse_functions(mse_fn: Callable[..., Any], eckart_young_fn: Callable[..., Any]) -> None:
    """Grade ``reconstruction_mse(x, mean, components)`` and ``eckart_young_mse(eigenvalues,
    k)`` with the reference PCA of the digits and of MNIST, at several k; both must agree
    (Eckart-Young)."""
    from course.models.pca import eckart_young_mse

    for label, x, ks in [("the 8 x 8 training digits", _digits()[0], (1, 5, 20, 40, 64)),
                         ("1,000 MNIST digits", _mnist_sample(), (10, 100))]:
        full = pca_svd(x, x.shape[1])
        for k in ks:
            v = full.components[:, :k]
            assert_close(_call(mse_fn, "reconstruction_mse", np.array(x), full.mean, v),
                         reconstruction_mse(x, full.mean, v),
                         f"reconstruction_mse on {label} at k = {k}", rtol=1e-7, atol=1e-12,
                         mistakes=mse_function_mistakes(x, full.mean, v),
                         hint="np.mean((x - x_hat)**2) over examples and pixels, one float.")
            assert_close(_call(eckart_young_fn, "eckart_young_mse", full.eigenvalues.copy(), k),
                         eckart_young_mse(full.eigenvalues, k),
                         f"eckart_young_mse(eigenvalues of {label}, {k})", rtol=1e-9,
                         atol=1e-14, mistakes=eckart_young_mistakes(full.eigenvalues, k))


def check_principal_angles_function(angles_fn: Callable[..., Any]) -> None:
    """Grade ``principal_angles(a, b)`` (degrees, ascending) on bases that are not
    orthonormal, of unequal sizes, of one subspace and of orthogonal ones."""
    rng = np.random.default_rng(70)
    a = rng.standard_normal((8, 3))
    cases = [("two random bases (8, 3)", a, a @ rng.standard_normal((3, 3))
              + 0.4 * rng.standard_normal((8, 3))),
             ("(10, 2) and (10, 4)", rng.standard_normal((10, 2)) * [5.0, 0.2],
              rng.standard_normal((10, 4))),
             ("two bases of one subspace", a, a @ rng.standard_normal((3, 3))),
             ("orthogonal subspaces", np.eye(6)[:, :2] * 3.0,
              np.eye(6)[:, 2:5] + np.eye(6)[:, 3:6]),
             ("PCA's subspace and a tilted copy", pca_svd(_digits()[0], 4).components,
              pca_svd(_digits()[0], 4).components @ np.diag([1.0, -2.0, 0.5, 3.0])
              + 0.05 * rng.standard_normal((64, 4)))]
    for label, left, right in cases:
        got = _call(angles_fn, "principal_angles", left, right)
        assert_close(got, principal_angles(left, right), f"principal_angles of {label}",
                     rtol=1e-6, atol=1e-4, mistakes=principal_angle_mistakes(left, right),
                     hint="Orthonormalize both bases (np.linalg.qr), take the singular values "
                     "of Qa^T Qb (the cosines), np.degrees(np.arccos(...)) in ascending order.")


def _linear_layers(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def _into_reference(model: Any, reference: nn.Module, name: str) -> None:
    """Copy the student's nn.Linear weights, in order, into the reference of the same
    architecture; fail with the shapes when the layers differ."""
    if not isinstance(model, nn.Module):
        raise CheckFailure(f"{name} is not an nn.Module (got {type(model).__name__}).")
    got, ref = _linear_layers(model), _linear_layers(reference)
    shapes = [(layer.in_features, layer.out_features, layer.bias is not None) for layer in got]
    expected = [(layer.in_features, layer.out_features, True) for layer in ref]
    if shapes != expected:
        raise CheckFailure(f"{name} has the linear layers (in, out, bias?) {shapes}, in the "
                           f"order they are created; expected {expected} (the encoder's first).")
    with torch.no_grad():
        for mine, theirs in zip(got, ref, strict=True):
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)


def _compare_autoencoders(model: nn.Module, reference: nn.Module, name: str, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(7, reference.num_inputs, generator=gen)
    z = torch.randn(5, reference.code_size, generator=gen)
    with torch.no_grad():
        for what, got, expected in [("encode(x)", model.encode(x), reference.encode(x)),
                                    ("decode(z)", model.decode(z), reference.decode(z)),
                                    ("model(x)", model(x), reference(x))]:
            assert_close(got, expected, f"{name}.{what}", rtol=1e-5, atol=1e-6,
                         hint="with your weights copied into the course's model, the outputs "
                         "differ: check the activations (ReLU between layers, none after the "
                         "code, a sigmoid at the output of the deep one).")


def check_linear_autoencoder_class(cls: Callable[..., Any]) -> None:
    """Grade ``LinearAutoencoder(num_inputs, code_size)``: an encoder nn.Linear(D, k) and a
    decoder nn.Linear(k, D), encode/decode/forward as the reference's with the same
    weights, and ``decoder_basis()`` as a float64 (D, k) array."""
    from course.models.autoencoder import LinearAutoencoder

    for seed, (d, k) in enumerate([(6, 2), (64, 10), (5, 5)]):
        name = f"LinearAutoencoder({d}, {k})"
        model = cls(d, k)
        reference = LinearAutoencoder(d, k)
        _into_reference(model, reference, name)
        _compare_autoencoders(model, reference, name, seed)
        basis = model.decoder_basis()
        if not isinstance(basis, np.ndarray) or basis.dtype != np.float64:
            raise CheckFailure(f"{name}.decoder_basis() must return a float64 NumPy array, got "
                               f"{type(basis).__name__} {getattr(basis, 'dtype', '')}: "
                               "weight.detach().cpu().numpy().astype(np.float64).")
        assert_close(basis, reference.decoder_basis(), f"{name}.decoder_basis()", rtol=1e-6,
                     atol=1e-7, mistakes={"decoder_basis returns the encoder's weight: the "
                                          "decoder's (D, k) weight spans the reconstructions.":
                                          _float(reference.encoder.weight.detach().T)})


def check_mlp_autoencoder_class(cls: Callable[..., Any]) -> None:
    """Grade ``MLPAutoencoder(num_inputs, code_size, hidden_sizes=(256, 128))``: the
    reference's layers in the same order, the same outputs with the same weights."""
    from course.models.autoencoder import MLPAutoencoder

    for seed, (d, k, hidden) in enumerate([(64, 2, None), (10, 3, (8,)), (12, 4, (16, 8, 6))]):
        name = f"MLPAutoencoder({d}, {k}" + ("" if hidden is None else f", {hidden}") + ")"
        model = cls(d, k) if hidden is None else cls(d, k, hidden_sizes=hidden)
        reference = MLPAutoencoder(d, k) if hidden is None else MLPAutoencoder(d, k, hidden)
        _into_reference(model, reference, name)
        _compare_autoencoders(model, reference, name, seed)


def _trained(models: Any, k: int, name: str) -> nn.Module:
    if not isinstance(models, Mapping) or k not in models:
        keys = sorted(models) if isinstance(models, Mapping) else type(models).__name__
        raise CheckFailure(f"{name} must map each code size k in (2, 10) to its trained "
                           f"model, got {keys}.")
    model = models[k]
    x = torch.tensor(np.array(_digits()[1][:5]), dtype=torch.float32)
    with torch.no_grad():
        z = model.encode(x)
        through_code = model.decode(z)
        out = model(x)
    if tuple(z.shape) != (5, k):
        raise CheckFailure(f"{name}[{k}].encode gives codes of shape {tuple(z.shape)} for 5 "
                           f"digits, expected (5, {k}): the bottleneck must have k = {k} units.")
    assert_close(out, through_code, f"{name}[{k}](x) against decode(encode(x))", rtol=1e-5,
                 atol=1e-6, hint="the reconstruction must go through the code.")
    return model


def check_trained_linear_autoencoders(models: Any) -> None:
    """Grade the trained linear autoencoders {2: model, 10: model}: test MSE within
    :data:`LINEAR_MAX_RATIO` of the reference PCA's, decoder within
    :data:`LINEAR_MAX_DEGREES` of PCA's subspace, and not PCA's orthonormal basis."""
    from course.train import evaluate_mse

    x_train, x_test = _digits()
    for k in (2, 10):
        model = _trained(models, k, "linear_models")
        ratio = evaluate_mse(model, x_test) / pca_svd(x_train, k).mse(x_test)
        if not ratio < LINEAR_MAX_RATIO:
            raise CheckFailure(f"At k = {k} the linear autoencoder's test MSE is {ratio:.3f} "
                               f"times PCA's (at most {LINEAR_MAX_RATIO} allowed): train with "
                               "the recipe (150 epochs, lr 3e-2 decayed to 0, batches of 100).")
        decoder = _float(_linear_layers(model)[-1].weight.detach())
        check_linear_autoencoder(decoder, x_train, k, max_degrees=LINEAR_MAX_DEGREES[k])
        gap = orthonormality_gap(decoder)
        if gap < MIN_ORTHONORMALITY_GAP:
            raise CheckFailure(f"At k = {k} the decoder's columns are orthonormal (max |B^T B - "
                               f"I| = {gap:.2g}): that is PCA's basis, not one gradient descent "
                               "finds. Train the autoencoder; do not copy PCA into it.")


def check_trained_deep_autoencoders(models: Any) -> None:
    """Grade the trained deep autoencoders {2: model, 10: model, ...}: at k = 2 and 10 the
    test MSE is below :data:`DEEP_MAX_RATIO` times the reference PCA's."""
    from course.train import evaluate_mse

    x_train, x_test = _digits()
    for k in (2, 10):
        model = _trained(models, k, "deep_models")
        mse, pca_mse = evaluate_mse(model, x_test), pca_svd(x_train, k).mse(x_test)
        if not mse < DEEP_MAX_RATIO * pca_mse:
            raise CheckFailure(f"At k = {k} the deep autoencoder's test MSE is {mse:.4f}, PCA's "
                               f"{pca_mse:.4f}: it must be below {DEEP_MAX_RATIO} times PCA's. "
                               "Train with the recipe (100 epochs, lr 3e-3 decayed to 0, "
                               "batches of 100) and check the architecture (sigmoid output).")


def _check_moments(samples: np.ndarray, mean: np.ndarray, covariance: np.ndarray, name: str,
                   mean_mistakes: Mapping[str, np.ndarray],
                   covariance_mistakes: Mapping[str, np.ndarray]) -> None:
    """The sample mean within 5 standard errors of ``mean``, the sample covariance within
    5 % (Frobenius) of ``covariance``; otherwise the mistake whose moments they match."""
    n = len(samples)
    stderr = np.sqrt(np.diag(covariance) / n) + 1e-12
    got_mean = samples.mean(axis=0)
    if np.abs(got_mean - mean).max() > 5 * stderr.max():
        for explanation, value in mean_mistakes.items():
            if np.abs(got_mean - value).max() <= 5 * stderr.max():
                raise CheckFailure(f"{explanation} (the mean of {n} samples of {name})")
        raise CheckFailure(f"The mean of {n} samples of {name} is {np.round(got_mean, 3)}, "
                           f"expected about {np.round(mean, 3)}.")
    got_cov = np.atleast_2d(np.cov(samples, rowvar=False))

    def relative(c: np.ndarray) -> float:
        return float(np.linalg.norm(got_cov - c) / np.linalg.norm(c))

    if relative(covariance) <= 0.05:
        return
    for explanation, value in covariance_mistakes.items():
        if relative(value) <= 0.05:
            raise CheckFailure(f"{explanation} (the covariance of {n} samples of {name})")
    raise CheckFailure(f"The covariance of {n} samples of {name} is {relative(covariance):.0%} "
                       "away from the expected one (relative Frobenius norm; at most 5 %).")


def check_code_sampler(sampler: Callable[..., Any]) -> None:
    """Grade ``gaussian_codes(codes, num_samples, rng)``: it uses ``rng`` only, and its
    samples have the codes' mean and covariance (named mistakes: no covariance, only the
    variances, no mean)."""
    from course.checks.distributions import check_uses_generator

    rng = np.random.default_rng(71)
    for k in (2, 5):
        codes = rng.standard_normal((400, k)) @ rng.standard_normal((k, k)) + rng.normal(0, 3, k)
        check_uses_generator(lambda g, codes=codes: sampler(codes.copy(), 30, g),
                             np.random.default_rng, "gaussian_codes")
        samples = _float(_call(sampler, "gaussian_codes", codes, 40000, np.random.default_rng(0)))
        if samples.shape != (40000, k):
            raise CheckFailure(f"gaussian_codes(codes of shape {codes.shape}, 40000, rng) has "
                               f"shape {samples.shape}, expected (40000, {k}).")
        covariance = np.cov(codes, rowvar=False)
        _check_moments(samples, codes.mean(axis=0), covariance, "gaussian_codes", {
            "The codes' mean is missing: draw around codes.mean(axis=0).": np.zeros(k),
        }, {
            "The covariance of the codes is missing: these are standard normal draws (around "
            "the mean); use np.cov(codes, rowvar=False).": np.eye(k),
            "Only the variances were used: the codes are correlated, draw with the full "
            "covariance np.cov(codes, rowvar=False).": np.diag(np.diag(covariance)),
        })


def check_ppca_fit_function(fit_fn: Callable[..., Any]) -> None:
    """Grade ``fit_ppca(x, k) -> (mean, W, sigma2)`` against Tipping & Bishop's closed form:
    the mean, sigma2 and the model covariance W W^T + sigma2 I (W is defined up to a
    rotation), naming the mistakes of :func:`ppca_fit_mistakes`."""
    from course.models.pca import fit_ppca

    for label, x, k in [("correlated data (200, 6)", correlated_data(200, 6, 13), 2),
                        ("the 8 x 8 training digits", _digits()[0], 2),
                        ("the 8 x 8 training digits", _digits()[0], 10)]:
        where = f"fit_ppca(x, {k}) on {label}"
        mean, weight, sigma2 = _triple(_call(fit_fn, "fit_ppca", np.array(x), k), "fit_ppca",
                                       "(mean, W, sigma2)")
        reference = fit_ppca(x, k)
        variants = ppca_fit_mistakes(x, k)
        assert_close(mean, reference.mean, f"the mean of {where}", rtol=1e-6, atol=1e-9)
        weight = _float(weight)
        if weight.shape != reference.weight.shape:
            raise CheckFailure(f"W of {where} has shape {weight.shape}, expected (D, k) = "
                               f"{reference.weight.shape}.")
        assert_close(sigma2, reference.sigma2, f"sigma2 of {where}", rtol=1e-6, atol=1e-12,
                     mistakes={why: fit.sigma2 for why, fit in variants.items()})
        assert_close(model_covariance(weight, float(sigma2)), reference.covariance(),
                     f"the model covariance W W^T + sigma2 I of {where}", rtol=1e-6,
                     atol=1e-9, mistakes={why: fit.covariance() for why, fit in variants.items()},
                     hint="W = V_k (L_k - sigma2 I)^(1/2): scale each of the first k "
                     "directions by sqrt(lambda_i - sigma2).")


def check_ppca_log_likelihood_function(log_likelihood_fn: Callable[..., Any]) -> None:
    """Grade ``ppca_log_likelihood(x, mean, W, sigma2)`` (nats, one per row) against the
    reference on the digits (k = 2 and 10) and on small data with a W that is rotated or
    arbitrary, naming the mistakes of :func:`ppca_log_likelihood_mistakes`."""
    from course.models.pca import fit_ppca

    x_train, x_test = _digits()
    small = correlated_data(120, 5, 14)
    rng = np.random.default_rng(72)
    rotation, _ = np.linalg.qr(rng.standard_normal((2, 2)))
    fitted = fit_ppca(small[:100], 2)
    rotated = fitted._replace(weight=fitted.weight @ rotation)
    cases = [("the 8 x 8 test digits, k = 10", x_test, fit_ppca(x_train, 10)),
             ("the 8 x 8 test digits, k = 2", x_test, fit_ppca(x_train, 2)),
             ("small data, W rotated", small[100:], rotated),
             ("small data, any W", small[100:], PPCAFit(fitted.mean, rng.standard_normal((5, 3)),
                                                        0.7))]
    for label, x, fit in cases:
        got = _call(log_likelihood_fn, "ppca_log_likelihood", np.array(x), fit.mean.copy(),
                    fit.weight.copy(), fit.sigma2)
        check_log_prob(got, ppca_log_likelihood(x, fit), f"ppca_log_likelihood on {label}",
                       num_dims=x.shape[1], rtol=1e-8, atol=1e-7,
                       mistakes=ppca_log_likelihood_mistakes(x, fit),
                       hint="log N(x; mean, C) with C = W W^T + sigma2 I: -1/2 (D log 2 pi + "
                       "log det C + (x - mean)^T C^{-1} (x - mean)).")


def check_ppca_sampler(sampler: Callable[..., Any]) -> None:
    """Grade ``ppca_sample(mean, W, sigma2, num_samples, rng)``: it uses ``rng`` only, and
    its samples have the model's mean and covariance W W^T + sigma2 I (named mistakes: no
    noise, sigma2 taken for the standard deviation, no mean)."""
    from course.checks.distributions import check_uses_generator
    from course.models.pca import fit_ppca

    rng = np.random.default_rng(73)
    cases = [("a small model (D = 5, k = 2)", PPCAFit(rng.normal(0, 2, 5),
                                                     rng.standard_normal((5, 2)), 0.5)),
             ("PPCA of the 8 x 8 digits, k = 10", fit_ppca(_digits()[0], 10))]
    for label, fit in cases:
        mean, weight, sigma2 = fit
        check_uses_generator(lambda g, fit=fit: sampler(fit.mean.copy(), fit.weight.copy(),
                                                        fit.sigma2, 30, g),
                             np.random.default_rng, "ppca_sample")
        samples = _float(_call(sampler, "ppca_sample", mean, weight, sigma2, 40000,
                               np.random.default_rng(1)))
        if samples.shape != (40000, len(mean)):
            raise CheckFailure(f"ppca_sample(..., 40000, rng) for {label} has shape "
                               f"{samples.shape}, expected (40000, D = {len(mean)}).")
        d = len(mean)
        _check_moments(samples, mean, fit.covariance(), f"ppca_sample for {label}", {
            "The mean is missing: x = mean + W z + sigma eps.": np.zeros(d),
        }, {
            "The noise is missing: x = mean + W z + sqrt(sigma2) eps, eps ~ N(0, I_D).":
                weight @ weight.T,
            "sigma2 is the noise VARIANCE: scale eps by sqrt(sigma2), not by sigma2.":
                weight @ weight.T + sigma2**2 * np.eye(d),
            "The latent part is missing: x = mean + W z + sqrt(sigma2) eps, z ~ N(0, I_k).":
                sigma2 * np.eye(d),
        })
        noise = float(np.mean(np.diag(np.cov(samples, rowvar=False) - weight @ weight.T)))
        if abs(noise - sigma2) <= 0.1 * sigma2:
            continue
        found = (f"The samples of ppca_sample for {label} have a noise variance of about "
                 f"{noise:.3g} per pixel, expected sigma2 = {sigma2:.3g}")
        for explanation, variance in [
                ("The noise is missing: x = mean + W z + sqrt(sigma2) eps, eps ~ N(0, I_D).", 0.0),
                ("sigma2 is the noise VARIANCE: scale eps by sqrt(sigma2), not by sigma2.",
                 sigma2**2)]:
            if abs(noise - variance) <= 0.1 * sigma2:
                raise CheckFailure(f"{explanation} ({found})")
        raise CheckFailure(f"{found}: add sqrt(sigma2) * eps with eps ~ N(0, I_D).")


# --- assignment 07: the visible tests' stored cases ---------------------------------------


def _signs_fixed(values: Mapping[str, Any]) -> dict[str, Any]:
    """The (D, k) values of ``values`` with each column's sign fixed (:func:`fix_signs`),
    the convention the visible tests apply to a student's components."""
    return {why: fix_signs(v) if v is not None and np.ndim(v) == 2 else v
            for why, v in values.items()}


def _pca_case(x: np.ndarray, k: int, with_mistakes: bool = True) -> dict[str, Any]:
    fit = pca_svd(x, k)
    case = {"x": x, "k": k, "mean": fit.mean, "components": fit.components,
            "eigenvalues": fit.eigenvalues}
    if with_mistakes:
        rows = component_mistakes(x, k)
        rows.pop(ROWS_NOT_COLUMNS)  # the visible test checks the shape first, and says so
        case.update(component_mistakes=_signs_fixed(rows),
                    eigenvalue_mistakes=eigenvalue_mistakes(x))
    return case


def visible_cases() -> dict[str, Any]:
    """The cases of assignment 07's visible tests (``load_expected("07-pca-autoencoders")``):

    - ``pca``: x (24, 5) of :func:`correlated_data` (seed 1), k = 2: the mean, the
      components with their signs fixed (:func:`course.models.pca.fix_signs`), all D
      eigenvalues, and the mistakes' components (signs fixed) and eigenvalues;
    - ``pca_wide``: the same, without mistakes, for x (4, 6), k = 3 (N < D: three
      eigenvalues are 0);
    - ``explained``: the eigenvalues of ``pca``, their ratios, ``num_components`` at 0.9
      and the mistakes of both;
    - ``projection``: x (4, 5), ``pca``'s mean and components, the codes and
      reconstructions, :func:`projection_mistakes`;
    - ``mse``: ``pca``'s x, mean and components; the MSE and :func:`mse_function_mistakes`;
      the Eckart-Young MSE of the eigenvalues and :func:`eckart_young_mistakes`;
    - ``angles``: bases a (7, 3) and b (7, 3), not orthonormal; their principal angles and
      :func:`principal_angle_mistakes`;
    - ``digits_pca_test_mse``: PCA's test MSE per pixel on the 8 x 8 digits at k = 2, 10, 32;
    - ``ppca_fit``: x (16, 4), k = 2: the mean, sigma2 and W W^T + sigma2 I, with the
      mistakes' sigma2 and covariances (:func:`ppca_fit_mistakes`);
    - ``ppca_log_likelihood``: x (5, 4) and ``ppca_fit``'s fit; log p(x) per row and
      :func:`ppca_log_likelihood_mistakes`; ``ppca_digits``: the mean test log-likelihood
      of PPCA fitted on the 8 x 8 training digits at k = 10.
    """
    from course.models.pca import (
        components_for_variance,
        eckart_young_mse,
        explained_variance_ratio,
        fit_ppca,
    )

    pca_x = correlated_data(24, 5, 1)
    pca = _pca_case(pca_x, 2)
    eigenvalues = pca["eigenvalues"]
    mean, components = pca["mean"], pca["components"]
    x_project = correlated_data(4, 5, 2)
    ratios = explained_variance_ratio(eigenvalues)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((7, 3))
    b = a @ rng.standard_normal((3, 3)) + 0.5 * rng.standard_normal((7, 3))
    ppca_x = correlated_data(16, 4, 4)
    ppca = fit_ppca(ppca_x, 2)
    variants = ppca_fit_mistakes(ppca_x, 2)
    x_eval = correlated_data(5, 4, 5)
    x_train, x_test = _digits()
    return {
        "pca": pca,
        "pca_wide": _pca_case(correlated_data(4, 6, 6), 3, with_mistakes=False),
        "explained": {
            "eigenvalues": eigenvalues, "ratios": ratios, "fraction": 0.9,
            "count": components_for_variance(eigenvalues, 0.9),
            "ratio_mistakes": {
                "These are cumulative ratios: return each direction's own fraction "
                "lambda_i / sum(lambda).": np.cumsum(ratios),
                "Divide by the sum of all eigenvalues, not by the largest one.":
                    eigenvalues / eigenvalues[0]},
            "count_mistakes": num_components_mistakes(eigenvalues, 0.9),
        },
        "projection": {
            "x": x_project, "mean": mean, "components": components,
            "codes": (x_project - mean) @ components,
            "reconstructions": mean + (x_project - mean) @ components @ components.T,
            "mistakes": projection_mistakes(x_project, mean, components),
        },
        "mse": {
            "x": pca_x, "mean": mean, "components": components, "k": 2,
            "expected": reconstruction_mse(pca_x, mean, components),
            "mistakes": mse_function_mistakes(pca_x, mean, components),
            "eigenvalues": eigenvalues, "eckart_young": eckart_young_mse(eigenvalues, 2),
            "eckart_young_mistakes": eckart_young_mistakes(eigenvalues, 2),
        },
        "angles": {"a": a, "b": b, "expected": principal_angles(a, b),
                   "mistakes": principal_angle_mistakes(a, b)},
        "digits_pca_test_mse": digits_pca_test_mse(),
        "ppca_fit": {
            "x": ppca_x, "k": 2, "mean": ppca.mean, "sigma2": ppca.sigma2,
            "covariance": ppca.covariance(),
            "sigma2_mistakes": {why: fit.sigma2 for why, fit in variants.items()},
            "covariance_mistakes": {why: fit.covariance() for why, fit in variants.items()},
        },
        "ppca_log_likelihood": {
            "x": x_eval, "mean": ppca.mean, "W": ppca.weight, "sigma2": ppca.sigma2,
            "expected": ppca_log_likelihood(x_eval, ppca),
            "mistakes": ppca_log_likelihood_mistakes(x_eval, ppca),
        },
        "ppca_digits": {"k": 10, "test_mean_log_likelihood":
                        float(ppca_log_likelihood(x_test, fit_ppca(x_train, 10)).mean())},
    }
