"""Deterministic bottleneck autoencoders in torch, the reference of topic 07.

An autoencoder maps x (D pixels) to a code z = f(x) of size k < D and back to
x_hat = g(z), trained to minimize the squared reconstruction error (trained by
:func:`course.train.fit_reconstruction`). Three of them, all with ``encode``,
``decode`` and ``forward = decode(encode(x))`` on flat rows (B, D):

- :class:`LinearAutoencoder`: f and g linear (with biases). Baldi & Hornik (1989),
  "Neural networks and principal component analysis: learning from examples without
  local minima", Neural Networks 2: its squared error has no local minima other than
  the global one, where the decoder's columns span the top-k principal subspace but
  need not be orthonormal or the principal directions themselves (any invertible k x k
  mixing A gives the same product g f = W_dec A A^{-1} W_enc). Compare it with PCA by
  :func:`course.models.pca.principal_angles` of :meth:`LinearAutoencoder.decoder_basis`;
- :class:`MLPAutoencoder`: ReLU layers around the bottleneck, a sigmoid output for
  intensities in [0, 1] (Hinton & Salakhutdinov, 2006, "Reducing the dimensionality of
  data with neural networks", Science 313: deep autoencoders reconstruct better than
  PCA at the same k);
- :class:`ConvAutoencoder`: two stride-2 convolutions down to 2 x 2 feature maps, a
  linear bottleneck, two transposed convolutions back up (for square images whose side
  is divisible by 4, e.g. the 8 x 8 digits).

None of them defines a distribution over x: there is no log-likelihood to score an
image with and no prior over z to sample from. :func:`gaussian_codes` fits one to the
codes after the fact, to show what decoding such random codes gives.

Models stay on the CPU until the caller moves them (``model.to(course.device())``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from course.models.pca import pca_svd, principal_angles
from course.numeric import to_numpy, to_tensor
from course.train import ReconstructionHistory, evaluate_mse, fit_reconstruction

__all__ = [
    "RECIPES",
    "Autoencoder",
    "ConvAutoencoder",
    "LinearAutoencoder",
    "MLPAutoencoder",
    "Recipe",
    "decode_numpy",
    "encode_numpy",
    "gaussian_codes",
    "interpolate_codes",
    "compare_with_pca",
    "format_comparison",
    "make_autoencoder",
    "nearest_neighbour_mse",
    "reconstruct_numpy",
    "train_autoencoder",
]


class Autoencoder(nn.Module):
    """An encoder and a decoder on flat rows: ``encode`` (B, D) -> (B, k),
    ``decode`` (B, k) -> (B, D)."""

    def __init__(self, num_inputs: int, code_size: int) -> None:
        super().__init__()
        if not 1 <= code_size <= num_inputs:
            raise ValueError(f"code_size must be between 1 and {num_inputs}, got {code_size}")
        self.num_inputs, self.code_size = num_inputs, code_size

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class LinearAutoencoder(Autoencoder):
    """z = W_enc x + b_enc, x_hat = W_dec z + b_dec (Baldi & Hornik, 1989)."""

    def __init__(self, num_inputs: int, code_size: int) -> None:
        super().__init__(num_inputs, code_size)
        self.encoder = nn.Linear(num_inputs, code_size)
        self.decoder = nn.Linear(code_size, num_inputs)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decoder_basis(self) -> np.ndarray:
        """W_dec as a float64 array (D, k): its columns span the reconstructions' subspace."""
        return to_numpy(self.decoder.weight).astype(np.float64)


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers between consecutive ``sizes`` with ReLUs between them (none last)."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class MLPAutoencoder(Autoencoder):
    """D -> hidden... -> k -> reversed hidden... -> D, ReLU in between, sigmoid output."""

    def __init__(self, num_inputs: int, code_size: int,
                 hidden_sizes: Sequence[int] = (256, 128)) -> None:
        super().__init__(num_inputs, code_size)
        self.hidden_sizes = list(hidden_sizes)
        self.encoder = _mlp([num_inputs, *self.hidden_sizes, code_size])
        self.decoder = _mlp([code_size, *reversed(self.hidden_sizes), num_inputs])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))


class ConvAutoencoder(Autoencoder):
    """Square images of side s (s divisible by 4), flat (B, s*s): two 3x3 stride-2
    convolutions (s -> s/2 -> s/4), a linear bottleneck of size k, a linear layer and two
    4x4 stride-2 transposed convolutions back to s x s, ReLUs between, sigmoid output."""

    def __init__(self, side: int, code_size: int, channels: Sequence[int] = (16, 32)) -> None:
        super().__init__(side * side, code_size)
        if side % 4:
            raise ValueError(f"the image side must be divisible by 4, got {side}")
        c1, c2 = channels
        self.side, self.channels = side, (c1, c2)
        self.map_shape = (c2, side // 4, side // 4)
        flat = math.prod(self.map_shape)
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, side, side)),
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, code_size),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_size, flat), nn.ReLU(), nn.Unflatten(1, self.map_shape),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1), nn.Flatten(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))


@dataclass(frozen=True)
class Recipe:
    """A training budget for :func:`course.train.fit_reconstruction` (Adam, the learning
    rate decayed linearly to 0)."""

    epochs: int
    batch_size: int
    lr: float


#: The budgets of lecture 07 and its tests on the 8 x 8 digits (1,438 training rows):
#: a few CPU seconds each. The linear autoencoder needs a larger rate and more epochs:
#: gradient descent moves slowly along directions whose eigenvalues are close.
RECIPES: dict[str, Recipe] = {
    "linear": Recipe(epochs=150, batch_size=100, lr=3e-2),
    "mlp": Recipe(epochs=100, batch_size=100, lr=3e-3),
    "conv": Recipe(epochs=100, batch_size=100, lr=1e-2),
}


def make_autoencoder(kind: str, num_inputs: int, code_size: int, seed: int = 0) -> Autoencoder:
    """A ``"linear"``, ``"mlp"`` or ``"conv"`` autoencoder for square images of
    ``num_inputs`` pixels, its initial weights drawn from ``seed`` (torch's global
    generator is left as it was)."""
    side = math.isqrt(num_inputs)
    builders = {
        "linear": lambda: LinearAutoencoder(num_inputs, code_size),
        "mlp": lambda: MLPAutoencoder(num_inputs, code_size),
        "conv": lambda: ConvAutoencoder(side, code_size),
    }
    if kind not in builders:
        raise ValueError(f"kind must be one of {sorted(builders)}, got {kind!r}")
    if kind == "conv" and side * side != num_inputs:
        raise ValueError(f"a convolutional autoencoder needs square images, got {num_inputs}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return builders[kind]()


def train_autoencoder(
    kind: str,
    code_size: int,
    train_data: Any,
    test_data: Any | None = None,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    recipe: Recipe | None = None,
    progress: bool | None = None,
) -> tuple[Autoencoder, ReconstructionHistory]:
    """A seeded autoencoder of ``kind`` trained on ``train_data`` (N, D) with its recipe
    (:data:`RECIPES` unless given), on ``device`` (pass ``course.device()`` for the GPU):
    the same seed gives the same initial weights and minibatch order."""
    recipe = recipe or RECIPES[kind]
    x_train = np.asarray(to_numpy(train_data))
    model = make_autoencoder(kind, x_train.shape[1], code_size, seed).to(device)
    history = fit_reconstruction(model, x_train, test_data, epochs=recipe.epochs,
                                 batch_size=recipe.batch_size, lr=recipe.lr, lr_decay=True,
                                 seed=seed, progress=progress)
    return model, history


def compare_with_pca(
    code_sizes: Sequence[int],
    train_data: Any,
    test_data: Any,
    *,
    kinds: Sequence[str] = ("linear", "mlp"),
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> list[dict[str, float]]:
    """One row per k: the MSE per pixel of PCA and of each autoencoder ``kind`` trained by
    :func:`train_autoencoder` (keys ``"<method> train"``, ``"<method> test"``), the
    seconds each took to train, and for ``"linear"`` the largest principal angle in
    degrees between its decoder's columns and PCA's subspace (``"linear angle"``)."""
    rows = []
    for k in code_sizes:
        pca = pca_svd(train_data, k)
        row: dict[str, float] = {"k": k, "PCA train": pca.mse(train_data),
                                 "PCA test": pca.mse(test_data)}
        for kind in kinds:
            model, history = train_autoencoder(kind, k, train_data, seed=seed, device=device,
                                               progress=False)
            row[f"{kind} train"] = evaluate_mse(model, train_data)
            row[f"{kind} test"] = evaluate_mse(model, test_data)
            row[f"{kind} seconds"] = history.seconds[-1]
            if isinstance(model, LinearAutoencoder):
                row["linear angle"] = float(
                    principal_angles(model.decoder_basis(), pca.components).max())
        rows.append(row)
    return rows


def format_comparison(rows: Sequence[dict[str, float]]) -> str:
    """The rows of :func:`compare_with_pca` as a plain-text table."""
    keys = [key for key in rows[0] if key != "k"]

    def cell(key: str, value: float) -> str:
        digits = 2 if key.endswith("angle") else 1 if key.endswith("seconds") else 4
        return f"{value:13.{digits}f}"

    lines = ["k    " + "  ".join(f"{key:>13s}" for key in keys)]
    lines += [f"{int(row['k']):<4d} " + "  ".join(cell(key, row[key]) for key in keys)
              for row in rows]
    return "\n".join(lines)


def _main(argv: Sequence[str] | None = None) -> int:
    """``python -m course.models.autoencoder [k ...]``: PCA against the linear, deep and
    convolutional autoencoders on the 8 x 8 digits in grey levels, one torch thread."""
    import argparse

    from course import device
    from course.data import digits8x8_intensities

    parser = argparse.ArgumentParser(description=_main.__doc__)
    parser.add_argument("k", nargs="*", type=int, default=[2, 10, 32])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    x_train, _ = digits8x8_intensities("train")
    x_test, _ = digits8x8_intensities("test")
    rows = compare_with_pca(args.k, x_train, x_test, kinds=("linear", "mlp", "conv"),
                            seed=args.seed, device=device())
    print(f"8x8 digits, {len(x_train)} train / {len(x_test)} test, MSE per pixel, "
          f"seed {args.seed}, {device()}")
    print(format_comparison(rows))
    return 0


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def encode_numpy(model: Autoencoder, x: Any) -> np.ndarray:
    """Codes of the rows of ``x`` as a float64 array (N, k), in evaluation mode."""
    model.eval()
    return to_numpy(model.encode(to_tensor(x, _device_of(model)))).astype(np.float64)


@torch.no_grad()
def decode_numpy(model: Autoencoder, z: Any) -> np.ndarray:
    """Decoded images of the codes ``z`` as a float64 array (N, D), in evaluation mode."""
    model.eval()
    return to_numpy(model.decode(to_tensor(z, _device_of(model)))).astype(np.float64)


def reconstruct_numpy(model: Autoencoder, x: Any) -> np.ndarray:
    """Reconstructions decode(encode(x)) of the rows of ``x`` as a float64 array (N, D)."""
    return decode_numpy(model, encode_numpy(model, x))


def gaussian_codes(codes: Any, num_samples: int, generator: np.random.Generator
                   ) -> np.ndarray:
    """``num_samples`` draws from N(mean, covariance) of ``codes`` (N, k), (n, k).

    The autoencoder has no prior over z; this Gaussian is the best a user can do after
    the fact with the first two moments of the training codes."""
    codes = np.asarray(to_numpy(codes), dtype=np.float64)
    covariance = np.atleast_2d(np.cov(codes, rowvar=False))
    return generator.multivariate_normal(codes.mean(axis=0), covariance, size=num_samples)


def nearest_neighbour_mse(images: Any, data: Any, batch_size: int = 256) -> np.ndarray:
    """For each row of ``images`` (n, D), the mean squared difference per pixel to its
    nearest row of ``data`` (N, D), shape (n,): how far an image is from every real one."""
    images = np.asarray(to_numpy(images), dtype=np.float64)
    data = np.asarray(to_numpy(data), dtype=np.float64)
    data_norms = (data**2).sum(axis=1)
    out = np.empty(len(images))
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        squared = (chunk**2).sum(axis=1)[:, None] - 2.0 * chunk @ data.T + data_norms
        out[start : start + batch_size] = np.clip(squared.min(axis=1), 0.0, None)
    return out / data.shape[1]


def interpolate_codes(z_start: Any, z_end: Any, steps: int) -> np.ndarray:
    """``steps`` codes on the segment from ``z_start`` to ``z_end`` (both included),
    shape (steps, k)."""
    z_start = np.asarray(to_numpy(z_start), dtype=np.float64).reshape(-1)
    z_end = np.asarray(to_numpy(z_end), dtype=np.float64).reshape(-1)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1.0 - t) * z_start + t * z_end


if __name__ == "__main__":
    raise SystemExit(_main())
