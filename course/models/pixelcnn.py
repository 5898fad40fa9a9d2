"""PixelCNN and Gated PixelCNN over binary images, in raster-scan order.

An H x W binary image is flattened row by row to n = H W variables (pixel (r, c) is
variable r W + c), and p(x) = prod_i p(x_i | x_<i) over that raster scan, as in FVSBN,
MADE and the pixel RNN of the course. Both models compute all n conditionals in one pass
of convolutions (training and likelihood); sampling takes n passes, one per pixel, each
over the band of rows that the pixel depends on (``next_logits``, the sampling hook of
:class:`~course.models.base.AutoregressiveModel`).

- :func:`conv_mask`: the causal mask of a k x k kernel (van den Oord, Kalchbrenner &
  Kavukcuoglu, 2016, "Pixel Recurrent Neural Networks", Section 3.4 and Figure 2): the
  rows above the centre and the pixels left of it; type "A" (first layer) excludes the
  centre, type "B" (every later layer) includes it, since a feature at pixel i computed
  from x_<i may be reused at pixel i. The paper also splits the channels of a colour
  pixel into R, G and B groups, each seeing only the groups before it at the centre;
  a binary pixel is one channel, so one channel group is enough and the masks are
  spatial only.
- :class:`MaskedConv2d`: an ``nn.Conv2d`` whose kernel is multiplied by the mask (a
  registered buffer) in every forward pass.
- :class:`PixelCNN` (Section 3.5): a type A convolution, then type B ones, each followed
  by a ReLU, and 1 x 1 convolutions to one logit per pixel. Stacked masked kernels leave
  a *blind spot*: earlier pixels above and to the right that no output can see
  (:mod:`course.checks.pixelcnn` computes it).
- :class:`GatedPixelCNN` (van den Oord et al., 2016, "Conditional Image Generation with
  PixelCNN Decoders", Section 2.2 and Figure 2): a vertical stack over the rows above and
  a horizontal stack over the pixels to the left; the vertical features reach the
  horizontal stack shifted down by one row, gated units tanh(W_f * x) * sigmoid(W_g * x)
  (their eq. 2), a residual connection in the horizontal stack. No blind spot.

Both add a learned bias per pixel to the logits (not in the papers, whose networks are
translation-equivariant) and start with a zero last layer: an untrained model is the
independent-pixel model of its bias, which :func:`start_from_marginals` sets to the
data's marginals (:func:`course.train.logit_of_means`). The bias costs n parameters and
does not depend on x, so the model stays autoregressive. Inputs enter as 2 x - 1, so
that the zero padding of the convolutions differs from a white pixel.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from course.models.base import AutoregressiveModel, register
from course.numeric import randomize_, to_tensor
from course.train import History, fit, logit_of_means

__all__ = [
    "MASK_TYPES",
    "GatedLayer",
    "GatedPixelCNN",
    "MaskedConv2d",
    "PixelCNN",
    "PixelCNNBase",
    "conv_mask",
    "fit_image_model",
    "image_shape_of",
    "linear_copy",
    "start_from_marginals",
]

MASK_TYPES = ("A", "B")


def conv_mask(kernel_size: int, mask_type: str) -> np.ndarray:
    """The causal mask of a ``kernel_size`` x ``kernel_size`` kernel, float32 0/1.

    Entry [u, v] multiplies the weight that the pixel at offset (u - k//2, v - k//2) from
    the centre contributes: 1 for every row above the centre and for the pixels left of
    it in the centre row; the centre itself is 0 for type ``"A"`` and 1 for ``"B"``.
    For k = 3, type A is [[1, 1, 1], [1, 0, 0], [0, 0, 0]]. One channel group (binary
    pixels): the same mask for every (output, input) channel pair.
    """
    if mask_type not in MASK_TYPES:
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
    centre = kernel_size // 2
    mask = np.zeros((kernel_size, kernel_size), dtype=np.float32)
    mask[:centre, :] = 1.0
    mask[centre, :centre] = 1.0
    if mask_type == "B":
        mask[centre, centre] = 1.0
    return mask


class MaskedConv2d(nn.Conv2d):
    """A k x k convolution (stride 1, "same" padding) whose kernel is masked causally.

    The mask (:func:`conv_mask`, shape (k, k)) is a registered buffer: it moves with the
    module (``.to``, ``.double``), is saved in the state dict, and is never trained. It
    multiplies the weight in :meth:`forward`, so a masked weight gets zero gradient and
    the output at pixel i depends only on inputs before i in the raster scan (type A), or
    before and at i (type B).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 mask_type: str, bias: bool = True) -> None:
        mask = torch.from_numpy(conv_mask(kernel_size, mask_type))
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                         bias=bias)
        self.mask_type = mask_type
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def image_shape_of(image_shape: int | Sequence[int]) -> tuple[int, int]:
    """``8`` -> ``(8, 8)``; ``(2, 3)`` -> ``(2, 3)`` (height, width)."""
    if isinstance(image_shape, int):
        return image_shape, image_shape
    height, width = (int(v) for v in image_shape)
    if height < 1 or width < 1:
        raise ValueError(f"image_shape must be positive, got {(height, width)}")
    return height, width


def linear_copy(model: nn.Module) -> nn.Module:
    """A float64 copy with every weight 1, every bias 0 and ``linear = True``.

    For receptive fields (:func:`course.checks.pixelcnn.receptive_field`): with positive
    weights and no nonlinearity, the gradient of one output with respect to the inputs is
    the number of paths from each input, so it is nonzero exactly where a path exists.
    """
    clone = copy.deepcopy(model).double()
    with torch.no_grad():
        for name, param in clone.named_parameters():
            param.fill_(0.0 if name.endswith("bias") else 1.0)
    clone.linear = True
    return clone


class PixelCNNBase(AutoregressiveModel):
    """What both models share: the image shape, the input scaling, the output head.

    Subclasses implement :meth:`features`; ``linear = True`` (set by :func:`linear_copy`)
    turns every ReLU and gate into the identity and a sum, for receptive fields.
    """

    linear: bool = False  # True in a receptive-field copy: no ReLU, no gate

    def __init__(self, image_shape: int | Sequence[int], channels: int) -> None:
        super().__init__()
        self.height, self.width = image_shape_of(image_shape)
        self.image_shape = (self.height, self.width)
        self.n = self.height * self.width
        self.channels = channels
        self.head_hidden = nn.Conv2d(channels, channels, 1)
        self.head_out = nn.Conv2d(channels, 1, 1)
        self.output_bias = nn.Parameter(torch.zeros(self.n))
        nn.init.zeros_(self.head_out.weight)  # untrained: independent pixels, by the bias
        nn.init.zeros_(self.head_out.bias)

    def relu(self, h: torch.Tensor) -> torch.Tensor:
        return h if self.linear else F.relu(h)

    @property
    def reach_rows(self) -> int:
        """R: the output at row r depends on the input rows r - R, ..., r only."""
        raise NotImplementedError

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 1, rows, W) -> (B, channels, rows, W), causal: the network's body."""
        raise NotImplementedError

    def logits_of_rows(self, x: torch.Tensor, top: int = 0) -> torch.Tensor:
        """Logits for the pixels of the image rows ``top``, ``top + 1``, ...: x holds those
        rows flattened, (B, rows W), and only those rows are computed (the convolutions
        pad above them with zeros). Exact for the rows at least R below ``top`` (and for
        all when ``top`` is 0): their outputs cannot reach above ``top``."""
        rows = x.shape[1] // self.width
        image = 2.0 * x.to(self.output_bias.dtype).reshape(-1, 1, rows, self.width) - 1.0
        h = self.relu(self.features(image))  # inputs in {-1, 1}: zero padding is neither
        h = self.head_out(self.relu(self.head_hidden(h)))
        bias = self.output_bias[top * self.width : (top + rows) * self.width]
        return h.reshape(len(h), rows * self.width) + bias

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of p(x_i = 1 | x_<i) for every pixel in one pass, shape (B, n)."""
        return self.logits_of_rows(x.reshape(len(x), self.n))

    def next_logits(self, x: torch.Tensor, i: int, state: Any) -> tuple[torch.Tensor, Any]:
        """One pass per pixel, over the band of rows that pixel i depends on.

        Pixel i = (r, c) sees the rows r - R, ..., r (:attr:`reach_rows`): the network
        runs on that band of at most R + 1 rows instead of all H (same logits as
        :meth:`logits`, 4 times less work for a 28 x 28 image and R = 6).
        """
        r, c = divmod(i, self.width)
        top = max(0, r - self.reach_rows)
        band = x[:, top * self.width : (r + 1) * self.width]
        return self.logits_of_rows(band, top)[:, (r - top) * self.width + c], state


class PixelCNN(PixelCNNBase):
    """PixelCNN for binary images (van den Oord et al., 2016, Section 3.5).

    Args:
        image_shape: (height, width), or one int for a square (28 for MNIST).
        channels: feature maps of every masked layer.
        num_layers: masked convolutions: one of type A, then ``num_layers - 1`` of type B.
        kernel_size: k of the type B layers (3 in the paper).
        first_kernel_size: k of the type A layer (7 in the paper); default ``kernel_size``.

    Each masked convolution is followed by a ReLU; then a 1 x 1 convolution with a ReLU
    and a 1 x 1 convolution to one logit per pixel (the paper's output layers, with one
    logit for a binary pixel instead of a 256-way softmax).
    """

    def __init__(self, image_shape: int | Sequence[int] = 28, channels: int = 32,
                 num_layers: int = 5, kernel_size: int = 3,
                 first_kernel_size: int | None = None) -> None:
        super().__init__(image_shape, channels)
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        first = first_kernel_size or kernel_size
        self.layers = nn.ModuleList(
            [MaskedConv2d(1, channels, first, "A")]
            + [MaskedConv2d(channels, channels, kernel_size, "B") for _ in range(num_layers - 1)]
        )

    @property
    def reach_rows(self) -> int:
        return sum(layer.kernel_size[0] // 2 for layer in self.layers)

    def features(self, image: torch.Tensor) -> torch.Tensor:
        h = self.layers[0](image)
        for layer in self.layers[1:]:
            h = layer(self.relu(h))
        return h


def _shift_down(h: torch.Tensor, rows: int) -> torch.Tensor:
    """Move a feature map down by ``rows`` rows: zeros enter at the top."""
    if rows == 0:
        return h
    return F.pad(h, (0, 0, rows, 0))[:, :, : h.shape[2], :]


class GatedLayer(nn.Module):
    """One layer of the Gated PixelCNN (van den Oord et al., 2016b, Figure 2).

    With p = k // 2, for the feature maps v (vertical stack) and h (horizontal stack):

    - vertical: a (p + 1) x k convolution over the rows r - p, ..., r (the paper's
      masked k x k kernel with its lower rows cut off), 2C channels;
    - link: those vertical features shifted down by one row (so that row r receives
      rows < r only), through a 1 x 1 convolution, added to the horizontal features;
    - horizontal: a 1 x (p + 1) convolution over the pixels c - p, ..., c of the same row
      (the first layer: 1 x p over c - p, ..., c - 1, which excludes the pixel itself,
      as a type A mask does);
    - gates: tanh(first C channels) * sigmoid(last C channels) on both stacks (eq. 2);
    - horizontal output: a 1 x 1 convolution, plus h itself (the residual; not in the
      first layer, where h is the input image and would show x_i to its own output).

    The vertical features at row r see row r itself, pixels to the right included; only
    the shifted link lets them into the horizontal stack, which feeds the output.
    ``extra_vertical_shift`` rows of shift on the vertical output plant a mistake (see
    :class:`GatedPixelCNN`).
    """

    def __init__(self, in_channels: int, channels: int, kernel_size: int, first: bool,
                 extra_vertical_shift: int = 0) -> None:
        super().__init__()
        if kernel_size < 3 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and at least 3, got {kernel_size}")
        self.p, self.first = kernel_size // 2, first
        self.extra_vertical_shift = extra_vertical_shift
        p = self.p
        # padding p + 1 rows: output row o covers rows o - p - 1 .. o - 1, so rows 1..H
        # of the output are the vertical features, rows 0..H-1 the same shifted down
        self.vertical = nn.Conv2d(in_channels, 2 * channels, (p + 1, kernel_size),
                                  padding=(p + 1, p))
        # padding p columns: output column o covers o - p .. o (o - p .. o - 1 for the
        # first layer's 1 x p kernel); columns 0..W-1 are kept
        self.horizontal = nn.Conv2d(in_channels, 2 * channels, (1, p if first else p + 1),
                                    padding=(0, p))
        self.link = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    @staticmethod
    def gate(h: torch.Tensor, linear: bool) -> torch.Tensor:
        """tanh(a) * sigmoid(b) for the two halves a, b of the channels; a + b if linear."""
        a, b = h.chunk(2, dim=1)
        return a + b if linear else torch.tanh(a) * torch.sigmoid(b)

    def forward(self, v: torch.Tensor, h: torch.Tensor, linear: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor]:
        height, width = h.shape[2:]
        both = self.vertical(v)
        v_feat = both[:, :, 1 : height + 1]  # rows r-p..r, columns c-p..c+p
        shifted = both[:, :, :height]  # the same, one row down: rows r-p-1..r-1
        h_feat = self.horizontal(h)[:, :, :, :width]  # columns c-p..c (first: c-p..c-1)
        h_feat = h_feat + self.link(shifted)
        v_out = _shift_down(self.gate(v_feat, linear), self.extra_vertical_shift)
        h_out = self.out(self.gate(h_feat, linear))
        return v_out, h_out if self.first else h + h_out


class GatedPixelCNN(PixelCNNBase):
    """Gated PixelCNN for binary images (van den Oord et al., 2016b, Section 2.2).

    Args:
        image_shape: (height, width), or one int for a square.
        channels: C, the feature maps of each stack (the gates use 2C).
        num_layers: gated layers (:class:`GatedLayer`); the first one reads the image.
        kernel_size: k, odd and at least 3.
        double_shift: plants a real mistake, for figures and tests: the first layer
            shifts its vertical output down one more row (as if the vertical stack had to
            be masked like a type A layer), and every later link shifts it again, so from
            the second layer on the horizontal stack gets rows r - 2 and above. The row
            above is then seen only through the first link, p pixels to the right instead
            of ``num_layers`` p.

    The output at pixel (r, c) of L layers sees every pixel of the rows r - 1 - L p to
    r - 1 within L p columns of c, and the L p pixels to its left: no blind spot, no
    pixel after it. The output head (ReLU, 1 x 1, ReLU, 1 x 1) reads the horizontal stack.
    """

    def __init__(self, image_shape: int | Sequence[int] = 28, channels: int = 32,
                 num_layers: int = 5, kernel_size: int = 3, double_shift: bool = False
                 ) -> None:
        super().__init__(image_shape, channels)
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.double_shift = double_shift
        self.layers = nn.ModuleList(
            GatedLayer(1 if k == 0 else channels, channels, kernel_size, first=k == 0,
                       extra_vertical_shift=int(double_shift and k == 0))
            for k in range(num_layers)
        )

    @property
    def reach_rows(self) -> int:
        # p rows per layer, one for the link's shift, one more for the planted mistake
        return 1 + int(self.double_shift) + sum(layer.p for layer in self.layers)

    def features(self, image: torch.Tensor) -> torch.Tensor:
        v, h = image, image
        for layer in self.layers:
            v, h = layer(v, h, self.linear)
        return h


# ---------------------------------------------------------------------------------------
# Training on binary images (lecture 06, the benchmarks)


def start_from_marginals(model: PixelCNNBase, x_train: Any) -> PixelCNNBase:
    """Set the per-pixel output bias to the logit of each pixel's mean in ``x_train``.

    :func:`course.train.logit_of_means`; with the last layer still zero, the model is
    then the independent-pixel model of the data's marginals. Returns ``model``.
    """
    with torch.no_grad():
        bias = to_tensor(logit_of_means(x_train), model.output_bias.device)
        model.output_bias.copy_(bias.to(model.output_bias.dtype))
    return model


def fit_image_model(model: PixelCNNBase, x_train: Any, x_test: Any | None = None, *,
                    epochs: int = 10, batch_size: int = 50, lr: float = 3e-3, seed: int = 0,
                    progress: bool | None = None) -> History:
    """The recipe of lecture 06: start from independent pixels, then Adam with decay.

    :func:`start_from_marginals` (on the first epoch's data when ``x_train`` is a function
    ``epoch -> array``, such as :func:`course.data.dynamic_binarization`), then
    :func:`course.train.fit` with the learning rate decayed linearly from ``lr`` to 0.
    Returns its :class:`course.train.History`.
    """
    start_from_marginals(model, x_train(0) if callable(x_train) else x_train)
    return fit(model, x_train, x_test, epochs=epochs, batch_size=batch_size, lr=lr,
               lr_decay=True, seed=seed, progress=progress)


# ---------------------------------------------------------------------------------------
# Registered examples for the contract test: tiny images, every state enumerable


def _example_scale(n: int) -> float:
    """The weights' scale of the examples: strong dependencies on 2 x 2 images (the
    contract test's shuffled samples must fail), milder ones on larger images, whose
    logits sum more terms (3 x 3 images would put nearly all mass on a few states)."""
    return 0.8 if n <= 4 else 0.5


def _example_shape(n: int) -> tuple[int, int]:
    """The most nearly square H x W with H W = n and H <= W: 4 -> 2 x 2, 6 -> 2 x 3."""
    height = max(h for h in range(1, math.isqrt(n) + 1) if n % h == 0)
    return height, n // height


@register("pixelcnn", PixelCNN, "van den Oord, Kalchbrenner & Kavukcuoglu (2016)", max_n=9)
def _pixelcnn_example(n: int, seed: int) -> PixelCNN:
    model = PixelCNN(_example_shape(n), channels=4, num_layers=2, kernel_size=3)
    return randomize_(model, seed, scale=_example_scale(n))


@register("gated-pixelcnn", GatedPixelCNN, "van den Oord et al. (2016), Conditional image "
          "generation with PixelCNN decoders", max_n=9)
def _gated_example(n: int, seed: int) -> GatedPixelCNN:
    model = GatedPixelCNN(_example_shape(n), channels=4, num_layers=2, kernel_size=3)
    return randomize_(model, seed, scale=_example_scale(n))
