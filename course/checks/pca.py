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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from course.checks.core import CheckFailure
from course.models.pca import (
    PPCAFit,
    fix_signs,
    pca_svd,
    ppca_log_likelihood,
    principal_angles,
)
from course.numeric import to_numpy

__all__ = [
    "ASCENDING",
    "BASES_NOT_SUBSPACES",
    "DIVIDED_BY_N_MINUS_1",
    "ROWS_NOT_COLUMNS",
    "UNCENTRED",
    "align_signs",
    "check_eigenvalue_identities",
    "check_linear_autoencoder",
    "check_same_subspace",
    "component_mistakes",
    "eigenvalue_mistakes",
    "largest_angle",
    "mse_mistakes",
    "orthonormality_gap",
    "ppca_mistakes",
    "principal_angle_mistakes",
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
    return {
        BASES_NOT_SUBSPACES + " (here: the angle between a_i and b_i, column by column)":
            np.degrees(np.arccos(np.clip(np.abs(cos_columns), 0.0, 1.0))),
        BASES_NOT_SUBSPACES + " (here: the SVD of A^T B without orthonormalizing A and B)":
            np.degrees(np.arccos(np.clip(raw, -1.0, 1.0))),
        "The angles are in radians: return degrees (np.degrees).": np.radians(angles),
        "The angles are in descending order: return them ascending (the cosines, the "
        "singular values, come out descending).": angles[::-1],
    }


def _ppca_variant(x: np.ndarray, k: int, *, ddof: int = 0, subtract: bool = True,
                  all_eigenvalues: bool = False) -> PPCAFit:
    mean, components, eigenvalues = pca_svd(x, k, ddof=ddof)
    sigma2 = float(eigenvalues.mean() if all_eigenvalues else eigenvalues[k:].mean())
    scales = eigenvalues[:k] - (sigma2 if subtract else 0.0)
    return PPCAFit(mean, components * np.sqrt(np.clip(scales, 0.0, None)), sigma2)


def ppca_mistakes(x_train: Any, k: int, x_eval: Any) -> dict[str, np.ndarray]:
    """{explanation: the log-likelihoods (N,) of ``x_eval`` a mistaken PPCA fit gives}.

    The fit is on ``x_train`` at latent size ``k``. For
    :func:`course.checks.check_log_prob`'s ``mistakes``."""
    x_train, x_eval = _float(x_train), _float(x_eval)
    variants = {
        "W = V_k L_k^(1/2): sigma^2 must be subtracted from the eigenvalues first, W = V_k "
        "(L_k - sigma^2 I)^(1/2) (Tipping & Bishop, 1999, eq. 7); otherwise the model "
        "counts the noise twice along the first k directions.":
            _ppca_variant(x_train, k, subtract=False),
        "sigma^2 is the mean of all D eigenvalues; it is the mean of the D - k discarded "
        "ones (Tipping & Bishop, 1999, eq. 8).": _ppca_variant(x_train, k, all_eigenvalues=True),
        DIVIDED_BY_N_MINUS_1: _ppca_variant(x_train, k, ddof=1),
    }
    return {explanation: ppca_log_likelihood(x_eval, fit) for explanation, fit in variants.items()}


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
