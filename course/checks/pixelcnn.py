"""PixelCNN in the tests: receptive fields, the blind spot, causality, mistakes named.

van den Oord, Kalchbrenner & Kavukcuoglu (2016), "Pixel Recurrent Neural Networks",
Section 3.4 (masked convolutions); van den Oord et al. (2016), "Conditional Image
Generation with PixelCNN Decoders", Section 2.2 (the blind spot and the gated stacks).
Pixels are (row, column) pairs; the raster scan orders them row by row, so pixel (r, c)
is variable r W + c of an H x W image. Fields and blind spots are boolean (H, W) arrays
(``pixels`` lists their True pixels, ``pixel_mask`` goes back), so that
:func:`course.checks.assert_close` compares them and names mistakes.

- :func:`receptive_field`: the input pixels that one output pixel depends on, found by
  backpropagating from that output through a copy with every weight 1, every bias 0 and
  no nonlinearity;
- :func:`blind_spot`: the earlier pixels within a stack's reach that its output cannot
  see; :func:`reach`: that reach;
- :func:`check_masked_conv`: one masked layer is causal (type A: output i independent of
  the inputs >= i; type B: of the inputs > i), with the failing pair named;
- the named mistakes, for ``assert_close(..., mistakes=...)``: :func:`mask_mistakes`,
  :func:`receptive_field_mistakes`, :func:`blind_spot_mistakes`; and
  :func:`explain_field_difference` for what no single value captures (pixels lost to
  dead ReLUs).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from course.checks.autoregressive import dependency_matrix, first_violation
from course.checks.core import CheckFailure, find_mistake
from course.checks.inputs import randomize_parameters
from course.models.pixelcnn import (
    MASK_TYPES,
    GatedPixelCNN,
    MaskedConv2d,
    PixelCNNBase,
    conv_mask,
    image_shape_of,
    linear_copy,
)
from course.numeric import to_numpy

__all__ = [
    "ACTIVATIONS",
    "blind_spot",
    "blind_spot_mistakes",
    "check_masked_conv",
    "earlier_pixels",
    "explain_field_difference",
    "field_of_stack",
    "future_pixels",
    "gated_stack",
    "mask_mistakes",
    "masked_stack",
    "pixel_mask",
    "pixels",
    "reach",
    "receptive_field",
    "receptive_field_mistakes",
    "relu_receptive_field",
    "visible_cases",
]

Pixel = tuple[int, int]

#: Elementwise layers that :func:`receptive_field` leaves out of a list of layers.
ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Identity)

_TYPE_B_FIRST = (
    "The first layer uses a type B mask: it includes the centre, so the output at pixel i "
    "sees x_i itself, the value it is supposed to predict. Use type A in the first layer "
    "and type B after it."
)
_TYPE_A_LATER = (
    "A later layer uses a type A mask: a feature at pixel i, computed from x_<i only, may "
    "pass on to the next layer at pixel i, so layers after the first use type B (centre "
    "included); with type A everywhere the field shrinks."
)
_RIGHT_PIXEL = (
    "The mask includes the pixel to the right of the centre: it comes later in the raster "
    "scan, so outputs see the future. In the centre row keep only the pixels left of the "
    "centre (and the centre itself for type B)."
)
_CENTRE_ROW = (
    "The mask keeps the whole centre row: the pixels right of the centre come later in the "
    "raster scan. Keep only those left of the centre (and the centre for type B)."
)
_TRANSPOSED = (
    "The mask is transposed: it keeps the columns left of the centre, rows below "
    "included, instead of the rows above. mask[u, v] is row u, column v: rows above the "
    "centre are mask[:k//2, :]."
)
_FLIPPED = (
    "The mask is turned around: it keeps the rows below and the pixels right of the "
    "centre, which all come later in the raster scan. Keep mask[:k//2, :] and the pixels "
    "left of the centre in row k//2."
)
_THROUGH_RELUS = (
    "The receptive field was computed through ReLUs: a ReLU whose input is not positive "
    "passes no gradient (here every ReLU is dead on a blank image), so pixels the network "
    "does see look blind. Set every weight to 1 and every bias to 0 and leave the "
    "nonlinearities out: then the gradient counts the paths, and is nonzero exactly where "
    "a path exists."
)
_DOUBLE_SHIFT = (
    "The vertical stack is shifted down twice: once in the first layer's output and again "
    "in every link to the horizontal stack, so from the second layer on the horizontal "
    "stack gets rows r - 2 and above, and the row above is seen only through the first "
    "link, k//2 pixels to the right. Shift once, in the link only."
)


# ---------------------------------------------------------------------------------------
# Pixels, masks of pixels, the raster order


def _pixel(pixel: Sequence[int], height: int, width: int) -> Pixel:
    r, c = (int(v) for v in pixel)
    if not (0 <= r < height and 0 <= c < width):
        raise ValueError(f"pixel {(r, c)} is outside a {height} x {width} image")
    return r, c


def earlier_pixels(pixel: Sequence[int], image_shape: int | Sequence[int]) -> np.ndarray:
    """(H, W) bool: True at the pixels before ``pixel`` in the raster scan."""
    height, width = image_shape_of(image_shape)
    r, c = _pixel(pixel, height, width)
    return (np.arange(height * width) < r * width + c).reshape(height, width)


def future_pixels(field: Any, pixel: Sequence[int]) -> np.ndarray:
    """The pixels of ``field`` that are ``pixel`` itself or come after it (none may)."""
    field = np.asarray(to_numpy(field)) != 0
    return field & ~earlier_pixels(pixel, field.shape)


def pixels(mask: Any) -> list[Pixel]:
    """The True pixels of a boolean (H, W) array, in raster order: [(2, 7), (3, 6)]."""
    return [(int(r), int(c)) for r, c in np.argwhere(np.asarray(to_numpy(mask)) != 0)]


def pixel_mask(selected: Iterable[Sequence[int]] | Any, image_shape: int | Sequence[int]
               ) -> np.ndarray:
    """(H, W) bool from a collection of (row, column) pairs, or from an (H, W) array."""
    height, width = image_shape_of(image_shape)
    if isinstance(selected, np.ndarray | torch.Tensor):
        array = np.asarray(to_numpy(selected))
        if array.shape == (height, width):
            return array != 0
    mask = np.zeros((height, width), dtype=bool)
    for pixel in selected:
        mask[_pixel(pixel, height, width)] = True
    return mask


def reach(depth: int, kernel_size: int, pixel: Sequence[int],
          image_shape: int | Sequence[int], *, gated: bool = False) -> np.ndarray:
    """(H, W) bool: the earlier pixels that a stack of ``depth`` layers could reach.

    With p = k // 2, a masked k x k stack of depth L grows p rows up and p columns to
    each side per layer: the rows r - L p, ..., r and the columns c - L p, ..., c + L p.
    The gated stack reaches one row higher (the shifted link): rows r - 1 - L p, ..., r.
    Pixels farther away are out of reach of any such stack, not blind.
    """
    height, width = image_shape_of(image_shape)
    r, c = _pixel(pixel, height, width)
    span = depth * (kernel_size // 2)
    top = r - span - (1 if gated else 0)
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :]
    inside = (rows >= top) & (rows <= r) & (np.abs(cols - c) <= span)
    return inside & earlier_pixels(pixel, image_shape)


# ---------------------------------------------------------------------------------------
# Stacks and receptive fields


def masked_stack(depth: int, kernel_size: int, *, first_type: str = "A",
                 later_type: str = "B", right_pixel: bool = False, channels: int = 1
                 ) -> list[MaskedConv2d]:
    """``depth`` masked k x k convolutions: ``first_type``, then ``later_type`` ones.

    ``right_pixel`` also lets every mask through the pixel right of the centre (a planted
    mistake). Weights are PyTorch's default initialization; :func:`receptive_field`
    replaces them.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    layers = [MaskedConv2d(1 if k == 0 else channels, channels, kernel_size,
                           first_type if k == 0 else later_type) for k in range(depth)]
    if right_pixel:
        centre = kernel_size // 2
        for layer in layers:
            layer.mask[centre, centre + 1] = 1.0
    return layers


def gated_stack(depth: int, kernel_size: int, image_shape: int | Sequence[int], *,
                double_shift: bool = False) -> GatedPixelCNN:
    """A one-channel :class:`GatedPixelCNN` of ``depth`` layers, for its receptive field."""
    return GatedPixelCNN(image_shape, channels=1, num_layers=depth, kernel_size=kernel_size,
                         double_shift=double_shift)


def _ones(layer: nn.Module) -> nn.Module:
    """A float64 copy of ``layer`` with weights 1 and biases 0 (buffers such as masks kept)."""
    clone = copy.deepcopy(layer).double()
    with torch.no_grad():
        for name, param in clone.named_parameters():
            param.fill_(0.0 if name.endswith("bias") else 1.0)
    return clone


def _output_at(out: torch.Tensor, r: int, c: int, height: int, width: int) -> torch.Tensor:
    """The sum over channels of ``out`` at pixel (r, c): out (1, C, H, W), (1, H, W) or
    (1, H W)."""
    if out.dim() == 4 and out.shape[2:] == (height, width):
        return out[0, :, r, c].sum()
    if out.dim() == 3 and out.shape[1:] == (height, width):
        return out[0, r, c]
    if out.dim() == 2 and out.shape[1] == height * width:
        return out[0, r * width + c]
    raise ValueError(f"cannot find pixel {(r, c)} of a {height} x {width} image in an output "
                     f"of shape {tuple(out.shape)}")


def receptive_field(layers_or_model: Any, pixel: Sequence[int],
                    image_shape: int | Sequence[int]) -> np.ndarray:
    """(H, W) bool: the input pixels that the output at ``pixel`` depends on.

    Found by backpropagating from that one output (summed over its channels) to the
    input, with every weight set to 1, every bias to 0 and no nonlinearity. Why: the
    network is then linear with positive weights, so the gradient with respect to input
    pixel j is the number of paths from j to the output, nonzero exactly when a path
    exists; nothing cancels, and float64 counts exactly (3^10 paths and more). With a
    ReLU in between, every unit whose input is not positive passes no gradient: a dead
    ReLU cuts its paths, and the pixels behind it look blind when they are not
    (:func:`relu_receptive_field` shows it). Random weights can cancel in the same way.

    ``layers_or_model`` is one of:

    - a list of layers applied one after the other (``nn.Conv2d``, :class:`MaskedConv2d`
      or a student's own, with ``weight``/``bias`` parameters and the mask as a buffer):
      copied to float64 with weights 1 and biases 0; elementwise activations
      (:data:`ACTIVATIONS`) are left out;
    - a :class:`course.models.pixelcnn.PixelCNNBase` model (PixelCNN, GatedPixelCNN):
      its :func:`~course.models.pixelcnn.linear_copy` is used;
    - any other callable, used as it is (its weights, biases and nonlinearities are the
      caller's business): it gets a float64 image (1, 1, H, W) (a module gets its
      parameters' dtype) and returns (1, C, H, W), (1, H, W) or (1, H W).
    """
    height, width = image_shape_of(image_shape)
    r, c = _pixel(pixel, height, width)
    if isinstance(layers_or_model, PixelCNNBase):
        model = linear_copy(layers_or_model)
        if model.image_shape != (height, width):
            raise ValueError(f"the model is for {model.image_shape} images, "
                             f"not {(height, width)}")
        x = torch.zeros(1, height * width, dtype=torch.float64, requires_grad=True)
        out = model.logits(x)
    elif isinstance(layers_or_model, Sequence | nn.ModuleList | nn.Sequential):
        layers = [_ones(layer) for layer in layers_or_model if not isinstance(layer, ACTIVATIONS)]
        if not layers:
            raise ValueError("receptive_field needs at least one layer")
        in_channels = getattr(layers[0], "in_channels", 1)
        x = torch.zeros(1, in_channels, height, width, dtype=torch.float64, requires_grad=True)
        out = x
        for layer in layers:
            out = layer(out)
    elif callable(layers_or_model):
        param = (next(iter(layers_or_model.parameters()), None)
                 if isinstance(layers_or_model, nn.Module) else None)
        dtype = param.dtype if param is not None else torch.float64
        x = torch.zeros(1, 1, height, width, dtype=dtype, requires_grad=True)
        out = layers_or_model(x)
    else:
        raise TypeError("receptive_field takes a list of layers, a PixelCNN model or a "
                        f"callable, not {type(layers_or_model).__name__}")
    (grad,) = torch.autograd.grad(_output_at(out, r, c, height, width), x, allow_unused=True)
    if grad is None:
        return np.zeros((height, width), dtype=bool)
    return (grad.detach().abs().reshape(-1, height, width).sum(0) != 0).cpu().numpy()


def relu_receptive_field(layers: Sequence[nn.Module], pixel: Sequence[int],
                         image_shape: int | Sequence[int], image: Any = None) -> np.ndarray:
    """The WRONG field: weights 1, biases 0, but a ReLU after every layer but the last.

    ``image`` (H, W) is the input backpropagated from (default: blank, all zeros, where
    every ReLU is dead and the field comes out empty). Kept to show and to name the
    mistake; :func:`receptive_field` is the right one.
    """
    height, width = image_shape_of(image_shape)
    r, c = _pixel(pixel, height, width)
    layers = [_ones(layer) for layer in layers]
    start = torch.zeros(height, width) if image is None else torch.as_tensor(to_numpy(image))
    x = start.to(torch.float64).reshape(1, 1, height, width).repeat(
        1, getattr(layers[0], "in_channels", 1), 1, 1).requires_grad_(True)
    out = x
    for k, layer in enumerate(layers):
        out = layer(out)
        if k < len(layers) - 1:
            out = torch.relu(out)
    (grad,) = torch.autograd.grad(_output_at(out, r, c, height, width), x)
    return (grad.abs().reshape(-1, height, width).sum(0) != 0).numpy()


def field_of_stack(depth: int, kernel_size: int, pixel: Sequence[int],
                   image_shape: int | Sequence[int], *, gated: bool = False) -> np.ndarray:
    """The receptive field of a correct stack: :func:`masked_stack` (type A, then B) or,
    with ``gated``, :func:`gated_stack`."""
    stack = (gated_stack(depth, kernel_size, image_shape) if gated
             else masked_stack(depth, kernel_size))
    return receptive_field(stack, pixel, image_shape)


def blind_spot(depth: int, kernel_size: int, pixel: Sequence[int],
               image_shape: int | Sequence[int], *, gated: bool = False,
               field: Any = None) -> np.ndarray:
    """(H, W) bool: the earlier pixels within reach that the output at ``pixel`` cannot see.

    The stack is ``depth`` masked ``kernel_size`` x ``kernel_size`` convolutions (type A,
    then type B), or with ``gated`` as many gated layers; its reach is :func:`reach`.
    ``field`` replaces the stack's receptive field (e.g. one computed from a student's
    layers). Five 3 x 3 layers at pixel (4, 4) of an 8 x 8 image leave (2, 7), (3, 6) and
    (3, 7) blind; on a wider image the blind spot continues to the right (10 pixels from
    width 10 on). The gated stack leaves none.
    """
    if field is None:
        field = field_of_stack(depth, kernel_size, pixel, image_shape, gated=gated)
    field = np.asarray(to_numpy(field)) != 0
    return reach(depth, kernel_size, pixel, image_shape, gated=gated) & ~field


# ---------------------------------------------------------------------------------------
# Causality of one layer


def check_masked_conv(layer: nn.Module, image_shape: int | Sequence[int],
                      mask_type: str | None = None, *, seed: int = 0) -> np.ndarray:
    """Assert that a masked convolution is causal in the raster scan.

    Type ``"A"``: the output at pixel i (every channel) must not depend on the inputs at
    i or after; type ``"B"``: not on the inputs after i. ``mask_type`` defaults to the
    layer's ``mask_type`` attribute. A float64 copy with random N(0, 1) weights is
    perturbed one input pixel at a time (:func:`course.checks.dependency_matrix`). The
    message names the first forbidden (output pixel, input pixel) pair and, when the
    layer's ``mask`` is one of :func:`mask_mistakes`, the mistake. Returns the dependency
    matrix (n, n).
    """
    height, width = image_shape_of(image_shape)
    n = height * width
    mask_type = mask_type or getattr(layer, "mask_type", None)
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    probe = randomize_parameters(copy.deepcopy(layer), seed)
    in_channels = getattr(probe, "in_channels", 1)

    def flat(x: torch.Tensor) -> torch.Tensor:
        image = x.to(torch.float64).reshape(-1, 1, height, width).repeat(1, in_channels, 1, 1)
        out = probe(image)
        return out.permute(0, 2, 3, 1).reshape(len(x), n, -1)

    depends = dependency_matrix(flat, n, seed=seed, torch_input=True)
    allowed = depends.copy()
    if mask_type == "B":
        np.fill_diagonal(allowed, False)  # pixel i may see itself in a type B layer
    violation = first_violation(allowed)
    if violation is None:
        return depends
    (i, j), count = violation
    source = ("the input at the same pixel" if i == j else
              f"the input at pixel {divmod(j, width)}, which comes later in the raster scan")
    message = (f"Not causal (type {mask_type}): the output at pixel {divmod(i, width)} "
               f"depends on {source}. {count} forbidden dependencies in all.")
    mask = getattr(layer, "mask", None)
    kernel = getattr(layer, "kernel_size", None)
    if mask is not None and kernel is not None:
        k = kernel[0] if isinstance(kernel, tuple) else int(kernel)
        mistake = find_mistake(to_numpy(mask).reshape(k, k) if to_numpy(mask).size == k * k
                               else None, mask_mistakes(k, mask_type),
                               expected=conv_mask(k, mask_type))
        if mistake is not None:
            message = f"{mistake} {message}"
    raise CheckFailure(message)


# ---------------------------------------------------------------------------------------
# Named mistakes, for assert_close(..., mistakes=...)


def mask_mistakes(kernel_size: int, mask_type: str) -> dict[str, np.ndarray]:
    """{explanation: the (k, k) mask that mistake gives} for ``conv_mask(k, mask_type)``."""
    right = conv_mask(kernel_size, mask_type)
    centre = kernel_size // 2
    other = "B" if mask_type == "A" else "A"
    with_right = right.copy()
    with_right[centre, centre + 1:centre + 2] = 1.0
    whole_row = right.copy()
    whole_row[centre, centre + 1:] = 1.0
    return {
        _TYPE_B_FIRST if mask_type == "A" else _TYPE_A_LATER: conv_mask(kernel_size, other),
        _RIGHT_PIXEL: with_right,
        _CENTRE_ROW: whole_row,
        _TRANSPOSED: right.T.copy(),
        _FLIPPED: right[::-1, ::-1].copy(),
    }


def receptive_field_mistakes(depth: int, kernel_size: int, pixel: Sequence[int],
                             image_shape: int | Sequence[int], *, gated: bool = False
                             ) -> dict[str, np.ndarray]:
    """{explanation: the (H, W) field that mistake gives} for :func:`field_of_stack`.

    The masked stack: type B in the first layer, masks that include the pixel to the
    right, the field computed through ReLUs from a blank image. The gated stack: the
    vertical stack shifted twice (:class:`course.models.GatedPixelCNN`'s
    ``double_shift``).
    """
    if gated:
        shifted = gated_stack(depth, kernel_size, image_shape, double_shift=True)
        return {_DOUBLE_SHIFT: receptive_field(shifted, pixel, image_shape)}
    return {
        _TYPE_B_FIRST: receptive_field(masked_stack(depth, kernel_size, first_type="B"),
                                       pixel, image_shape),
        _RIGHT_PIXEL: receptive_field(masked_stack(depth, kernel_size, right_pixel=True),
                                      pixel, image_shape),
        _THROUGH_RELUS: relu_receptive_field(masked_stack(depth, kernel_size), pixel,
                                             image_shape),
    }


def blind_spot_mistakes(depth: int, kernel_size: int, pixel: Sequence[int],
                        image_shape: int | Sequence[int], *, gated: bool = False
                        ) -> dict[str, np.ndarray]:
    """{explanation: the (H, W) blind spot that mistake gives} for :func:`blind_spot`.

    The blind spots of :func:`receptive_field_mistakes`' fields. (Type B in the first
    layer leaves the blind spot as it is, so ``assert_close`` skips it; it shows in the
    field, which then contains the pixel itself.)
    """
    return {
        explanation: blind_spot(depth, kernel_size, pixel, image_shape, gated=gated,
                                field=field)
        for explanation, field in receptive_field_mistakes(
            depth, kernel_size, pixel, image_shape, gated=gated).items()
    }


def explain_field_difference(got: Any, expected: Any, pixel: Sequence[int],
                             mistakes: Mapping[str, Any] | None = None,
                             name: str = "receptive field") -> str | None:
    """None when ``got`` equals ``expected`` (both (H, W) fields), else what is wrong.

    A named mistake whose field ``got`` equals comes first; then a field that contains
    the pixel itself or a later one (the future); then one that misses pixels the
    network sees and has nothing extra (the signature of dead ReLUs or of random weights
    that cancel); else the first differing pixel.
    """
    expected = np.asarray(to_numpy(expected)) != 0
    got_array = np.asarray(to_numpy(got))
    if got_array.shape != expected.shape:
        return f"The {name} has shape {got_array.shape}, expected {expected.shape} (H, W)."
    got_field = got_array != 0
    if np.array_equal(got_field, expected):
        return None
    mistake = find_mistake(got_field.astype(np.float64), mistakes, expected=expected)
    if mistake is not None:
        return mistake
    future = future_pixels(got_field, pixel) & ~expected
    if future.any():
        return (f"The {name} contains {pixels(future)[0]}, which is pixel {tuple(pixel)} "
                "itself or comes after it in the raster scan: some mask lets the present or "
                "the future through.")
    missing = expected & ~got_field
    if missing.any() and not (got_field & ~expected).any():
        return (f"The {name} misses {int(missing.sum())} pixels that the network sees, e.g. "
                f"{pixels(missing)[0]}. {_THROUGH_RELUS.split(': ', 1)[1]}")
    wrong = pixels(got_field != expected)[0]
    return (f"The {name} differs at pixel {wrong}: expected "
            f"{'seen' if expected[wrong] else 'not seen'}.")


# ---------------------------------------------------------------------------------------
# Assignment 06's visible tests


def visible_cases() -> dict[str, Any]:
    """The cases of assignment 06's visible tests (``load_expected("06-pixelcnn")``):

    - ``masks``: for k = 3 and 5 and types A and B (keys ``"3A"``, ...), the mask of
      :func:`conv_mask` and :func:`mask_mistakes`;
    - ``field``: the receptive field of five masked 3 x 3 layers (type A, then B) at pixel
      (4, 4) of an 8 x 8 image, and :func:`receptive_field_mistakes`;
    - ``blind``: that stack's blind spot, (2, 7), (3, 6), (3, 7), and
      :func:`blind_spot_mistakes`;
    - ``gated``: the receptive field of five one-channel gated 3 x 3 layers at (4, 4) of an
      8 x 8 image (every earlier pixel within reach, none after).

    Fields and blind spots are (H, W) arrays of 0.0 / 1.0.
    """
    def as_float(values: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return {why: np.asarray(v, dtype=np.float64) for why, v in values.items()}

    masks = {f"{k}{t}": {"expected": conv_mask(k, t), "mistakes": mask_mistakes(k, t)}
             for k in (3, 5) for t in MASK_TYPES}
    depth, k, pixel, shape = 5, 3, (4, 4), 8
    return {
        "masks": masks,
        "field": {"pixel": list(pixel), "image_shape": [shape, shape],
                  "expected": field_of_stack(depth, k, pixel, shape).astype(np.float64),
                  "mistakes": as_float(receptive_field_mistakes(depth, k, pixel, shape))},
        "blind": {"pixel": list(pixel), "image_shape": [shape, shape],
                  "expected": blind_spot(depth, k, pixel, shape).astype(np.float64),
                  "mistakes": as_float(blind_spot_mistakes(depth, k, pixel, shape))},
        "gated": {"pixel": list(pixel), "image_shape": [shape, shape],
                  "expected": field_of_stack(depth, k, pixel, shape,
                                             gated=True).astype(np.float64)},
    }
