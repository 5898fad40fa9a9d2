"""PCA and probabilistic PCA in NumPy, the reference of topic 07.

Conventions (the assignment and its checks use the same):

- data ``x`` has shape (N, D), one example per row;
- the covariance is the maximum-likelihood one, divided by **N** (not N - 1):
  S = (x - mean)^T (x - mean) / N. With this count the identities below hold exactly,
  and S is the matrix whose eigen-decomposition gives probabilistic PCA's fit
  (Tipping & Bishop, 1999, eq. 5);
- ``components`` has shape (D, k): the principal directions are its **columns**,
  orthonormal, in the order of ``eigenvalues``, which are all D eigenvalues of S in
  **descending** order (zeros appended when N < D). Each column's sign is fixed so that
  its entry of largest magnitude is positive (a convention only: a direction and its
  negative span the same subspace; compare subspaces with :func:`principal_angles`);
- codes z = (x - mean) V_k (N, k); reconstructions x_hat = mean + z V_k^T.

Eckart-Young (1936): the rank-k reconstruction through the first k directions has the
least squared error of any rank-k linear reconstruction, and its mean squared error per
entry is the sum of the discarded eigenvalues divided by D:

    mean((x - x_hat)^2) = (lambda_{k+1} + ... + lambda_D) / D.

Two routes to the same directions: the SVD of the centred data, x_c = U S V^T gives
V's columns and lambda_i = s_i^2 / N (:func:`pca_svd`); the eigen-decomposition of S
(:func:`pca_eig`). :func:`principal_angles` compares subspaces (Björck & Golub, 1973).

Probabilistic PCA (Tipping & Bishop, 1999): x = W z + mean + noise, z ~ N(0, I_k),
noise ~ N(0, sigma^2 I_D), so x ~ N(mean, C) with C = W W^T + sigma^2 I. The maximum-
likelihood fit is closed-form (eq. 7 and 8): sigma^2 = the mean of the D - k discarded
eigenvalues, W = V_k (L_k - sigma^2 I)^{1/2} (the rotation R = I).
:func:`ppca_log_likelihood` evaluates log N(x; mean, C) in nats per example through the
Woodbury identity and the matrix determinant lemma (a k x k Cholesky factor, never a
D x D inverse); :func:`ppca_sample` draws from the model with a NumPy generator.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from course.numeric import to_numpy

__all__ = [
    "PCAFit",
    "PPCAFit",
    "components_for_variance",
    "eckart_young_mse",
    "explained_variance_ratio",
    "fix_signs",
    "fit_ppca",
    "pca_eig",
    "pca_svd",
    "ppca_log_likelihood",
    "ppca_sample",
    "principal_angles",
    "project",
    "reconstruct",
    "reconstruction_mse",
]


def _data(x: Any) -> np.ndarray:
    arr = np.asarray(to_numpy(x), dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected data of shape (N, D), got {arr.shape}")
    return arr


class PCAFit(NamedTuple):
    """A PCA: ``mean`` (D,), ``components`` (D, k) as columns, ``eigenvalues`` (D,)
    of the covariance divided by N, descending. Unpacks as ``mean, components,
    eigenvalues = fit``."""

    mean: np.ndarray
    components: np.ndarray
    eigenvalues: np.ndarray

    @property
    def k(self) -> int:
        return self.components.shape[1]

    def project(self, x: Any) -> np.ndarray:
        """Codes (N, k) of ``x``."""
        return project(x, self.mean, self.components)

    def reconstruct(self, codes: Any) -> np.ndarray:
        """Images (N, D) from codes (N, k)."""
        return reconstruct(codes, self.mean, self.components)

    def mse(self, x: Any) -> float:
        """Mean squared reconstruction error per entry of ``x``."""
        return reconstruction_mse(x, self.mean, self.components)


def fix_signs(components: np.ndarray) -> np.ndarray:
    """``components`` with each column negated where needed so that its entry of largest
    magnitude is positive (the first such entry on ties)."""
    components = np.array(components, dtype=np.float64)
    rows = np.argmax(np.abs(components), axis=0)
    signs = np.sign(components[rows, np.arange(components.shape[1])])
    signs[signs == 0] = 1.0
    return components * signs


def pca_svd(x: Any, k: int, *, ddof: int = 0) -> PCAFit:
    """PCA by the SVD of the centred data: x - mean = U S V^T, components V[:, :k],
    eigenvalues s^2 / (N - ddof) (ddof = 0: the course's covariance, divided by N)."""
    x = _data(x)
    n, d = x.shape
    if not 1 <= k <= d:
        raise ValueError(f"k must be between 1 and D = {d}, got {k}")
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    eigenvalues = np.zeros(d)
    eigenvalues[: len(s)] = s**2 / (n - ddof)
    return PCAFit(mean, fix_signs(vt[:k].T), eigenvalues)


def pca_eig(x: Any, k: int, *, ddof: int = 0) -> PCAFit:
    """PCA by the eigen-decomposition of the covariance (x_c^T x_c / (N - ddof)),
    eigenvalues sorted in descending order (``numpy.linalg.eigh`` returns them
    ascending) and clipped at 0 (rounding makes the zero ones slightly negative)."""
    x = _data(x)
    n, d = x.shape
    if not 1 <= k <= d:
        raise ValueError(f"k must be between 1 and D = {d}, got {k}")
    mean = x.mean(axis=0)
    centred = x - mean
    values, vectors = np.linalg.eigh(centred.T @ centred / (n - ddof))
    order = np.argsort(values)[::-1]
    return PCAFit(mean, fix_signs(vectors[:, order[:k]]), np.clip(values[order], 0.0, None))


def project(x: Any, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Codes z = (x - mean) V, shape (N, k), for components V of shape (D, k)."""
    return (_data(x) - mean) @ components


def reconstruct(codes: Any, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Reconstructions mean + z V^T, shape (N, D)."""
    return np.asarray(to_numpy(codes), dtype=np.float64) @ components.T + mean


def reconstruction_mse(x: Any, mean: np.ndarray, components: np.ndarray) -> float:
    """Mean over examples and pixels of (x - x_hat)^2 through the given components."""
    x = _data(x)
    x_hat = reconstruct(project(x, mean, components), mean, components)
    return float(np.mean((x - x_hat) ** 2))


def explained_variance_ratio(eigenvalues: Any) -> np.ndarray:
    """The fraction of the total variance each direction explains: lambda_i / sum lambda."""
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    return eigenvalues / eigenvalues.sum()


def components_for_variance(eigenvalues: Any, fraction: float) -> int:
    """The least k whose first k directions explain at least ``fraction`` of the total
    variance: the first k with sum_{i<=k} lambda_i / sum lambda >= fraction."""
    cumulative = np.cumsum(explained_variance_ratio(eigenvalues))
    return int(np.searchsorted(cumulative, fraction * (1.0 - 1e-12)) + 1)


def eckart_young_mse(eigenvalues: Any, k: int) -> float:
    """The rank-k reconstruction MSE per entry that Eckart-Young predicts from all D
    eigenvalues: (lambda_{k+1} + ... + lambda_D) / D."""
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    return float(eigenvalues[k:].sum() / len(eigenvalues))


def principal_angles(a: Any, b: Any) -> np.ndarray:
    """Principal angles in degrees, ascending, between the column spaces of ``a`` (D, p)
    and ``b`` (D, q): min(p, q) angles.

    Björck & Golub (1973): orthonormal bases Q_a, Q_b (QR), then the singular values
    of Q_a^T Q_b are the cosines of the angles. Invariant to any invertible change of
    basis (signs, rotations, scalings of the columns): it compares subspaces, not bases.
    Angles near 0 are accurate to about 1e-6 degrees (the arccos of a cosine near 1).
    """
    a = _data(a)
    b = _data(b)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bases live in different spaces: {a.shape} and {b.shape}")
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0)))


class PPCAFit(NamedTuple):
    """Probabilistic PCA: x ~ N(mean, W W^T + sigma2 I). ``mean`` (D,), ``weight`` W
    (D, k), ``sigma2`` the noise variance."""

    mean: np.ndarray
    weight: np.ndarray
    sigma2: float

    def covariance(self) -> np.ndarray:
        """C = W W^T + sigma2 I, (D, D)."""
        return self.weight @ self.weight.T + self.sigma2 * np.eye(len(self.mean))


def fit_ppca(x: Any, k: int) -> PPCAFit:
    """The maximum-likelihood PPCA (Tipping & Bishop, 1999, eq. 7 and 8) from the
    covariance divided by N: sigma2 = mean of the D - k smallest eigenvalues,
    W = V_k (L_k - sigma2 I)^{1/2}. Needs k < D and some variance left outside the
    first k directions (sigma2 > 0, beyond rounding)."""
    x = _data(x)
    d = x.shape[1]
    if not 1 <= k < d:
        raise ValueError(f"PPCA needs 1 <= k < D = {d}, got {k}")
    mean, components, eigenvalues = pca_svd(x, k)
    sigma2 = float(eigenvalues[k:].mean())
    if sigma2 <= 1e-12 * eigenvalues[0]:  # zero up to rounding
        raise ValueError(f"the data lie in a {k}-dimensional subspace: sigma^2 would be 0")
    scales = np.sqrt(np.clip(eigenvalues[:k] - sigma2, 0.0, None))
    return PPCAFit(mean, components * scales, sigma2)


def ppca_log_likelihood(x: Any, fit: PPCAFit) -> np.ndarray:
    """log N(x; mean, W W^T + sigma2 I) of each row of ``x``, nats, shape (N,).

    With M = W^T W + sigma2 I_k (k x k) and its Cholesky factor L (Tipping & Bishop,
    1999, Appendix A): C^{-1} = (I - W M^{-1} W^T) / sigma2 (Woodbury) and
    log det C = (D - k) log sigma2 + log det M (determinant lemma), so the cost is
    O(N D k) and nothing D x D is inverted.
    """
    x = _data(x)
    mean, weight, sigma2 = fit
    d, k = weight.shape
    diff = x - mean
    chol = np.linalg.cholesky(weight.T @ weight + sigma2 * np.eye(k))
    projected = np.linalg.solve(chol, weight.T @ diff.T)  # L^{-1} W^T (x - mean), (k, N)
    quadratic = ((diff**2).sum(axis=1) - (projected**2).sum(axis=0)) / sigma2
    log_det = (d - k) * math.log(sigma2) + 2.0 * np.log(np.diag(chol)).sum()
    return -0.5 * (d * math.log(2.0 * math.pi) + log_det + quadratic)


def ppca_sample(fit: PPCAFit, num_samples: int, generator: np.random.Generator) -> np.ndarray:
    """``num_samples`` draws mean + W z + sigma eps, z ~ N(0, I_k), eps ~ N(0, I_D), (n, D).

    The latent draws come first, then the noise, both from ``generator``."""
    mean, weight, sigma2 = fit
    z = generator.standard_normal((num_samples, weight.shape[1]))
    noise = generator.standard_normal((num_samples, len(mean)))
    return mean + z @ weight.T + math.sqrt(sigma2) * noise
