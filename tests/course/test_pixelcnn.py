"""Topic 06: masks, masked convolutions, receptive fields, the blind spot, the gated fix.

Reference values are built independently of the code under test where they can be: the
masks from their definition, the receptive field of a masked stack as a Minkowski sum of
kernel offsets, the gated field from the papers' description (every earlier pixel within
reach). Every check is also shown to fail on the planted mistakes, with their names.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course.checks import (  # noqa: E402
    CheckFailure,
    all_states,
    assert_close,
    check_autoregressive,
    check_distribution,
    check_samples,
)
from course.checks import pixelcnn as cp  # noqa: E402
from course.data import digits8x8  # noqa: E402
from course.models import REGISTRY, GatedPixelCNN, MaskedConv2d, PixelCNN  # noqa: E402
from course.models.pixelcnn import (  # noqa: E402
    conv_mask,
    fit_image_model,
    linear_copy,
    start_from_marginals,
)
from course.train import evaluate_nll  # noqa: E402
from course.viz import pixelcnn as vp  # noqa: E402

ISSUE_BLIND = [(2, 7), (3, 6), (3, 7)]  # five 3 x 3 layers at (4, 4) of an 8 x 8 image


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors: one thread is as fast, and never oversubscribed."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- masks ----------------------------------------------------------------------------


def _mask_by_definition(k: int, mask_type: str) -> np.ndarray:
    c = k // 2
    return np.array([[float(u < c or (u == c and (v < c or (v == c and mask_type == "B"))))
                      for v in range(k)] for u in range(k)])


def test_the_3x3_masks_are_the_papers() -> None:
    np.testing.assert_array_equal(conv_mask(3, "A"), [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(conv_mask(3, "B"), [[1, 1, 1], [1, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize("k", [3, 5, 7])
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masks_are_exact(k: int, mask_type: str) -> None:
    mask = conv_mask(k, mask_type)
    assert mask.shape == (k, k) and mask.dtype == np.float32
    np.testing.assert_array_equal(mask, _mask_by_definition(k, mask_type))
    assert mask.sum() == k * (k // 2) + k // 2 + (mask_type == "B")


def test_mask_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="'A' or 'B'"):
        conv_mask(3, "C")
    with pytest.raises(ValueError, match="odd"):
        conv_mask(4, "A")


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_every_mask_mistake_is_named_and_the_right_mask_passes(mask_type: str) -> None:
    mistakes = cp.mask_mistakes(5, mask_type)
    assert_close(conv_mask(5, mask_type), conv_mask(5, mask_type), "mask", mistakes=mistakes)
    assert len(mistakes) == 5
    for explanation, wrong in mistakes.items():
        assert not np.array_equal(wrong, conv_mask(5, mask_type))
        with pytest.raises(CheckFailure) as failure:
            assert_close(wrong, conv_mask(5, mask_type), "mask", mistakes=mistakes)
        assert str(failure.value).startswith(explanation)
    first = next(iter(mistakes))
    assert ("type B mask" if mask_type == "A" else "type A mask") in first


# --- MaskedConv2d ---------------------------------------------------------------------


def test_the_mask_is_a_buffer_applied_in_forward() -> None:
    layer = MaskedConv2d(2, 3, 5, "A")
    assert "mask" in dict(layer.named_buffers()) and "mask" in layer.state_dict()
    assert all(name != "mask" for name, _ in layer.named_parameters())
    assert isinstance(layer, nn.Conv2d) and layer.padding == (2, 2)
    x = torch.randn(4, 2, 6, 7)
    expected = nn.functional.conv2d(x, layer.weight * torch.as_tensor(conv_mask(5, "A")),
                                    layer.bias, padding=2)
    torch.testing.assert_close(layer(x), expected)
    layer(x).sum().backward()
    kept = torch.as_tensor(conv_mask(5, "A") == 1)
    assert (layer.weight.grad[:, :, ~kept] == 0).all()
    assert (layer.weight.grad[:, :, kept] != 0).all()
    assert layer.double().mask.dtype == torch.float64


@pytest.mark.parametrize("k", [3, 5, 7])
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_is_causal_by_its_gradient(k: int, mask_type: str) -> None:
    """Output pixel i (every channel) has zero gradient on inputs >= i (A) or > i (B),
    and a nonzero one on some earlier input, for every i of a 5 x 6 image."""
    torch.manual_seed(k)
    layer = MaskedConv2d(2, 3, k, mask_type).double()
    height, width = 5, 6
    x = torch.randn(1, 2, height, width, dtype=torch.float64, requires_grad=True)
    out = layer(x)
    for i in range(height * width):
        (grad,) = torch.autograd.grad(out[0, :, i // width, i % width].sum(), x,
                                      retain_graph=True)
        per_pixel = grad.abs().sum(1).reshape(-1)
        first_forbidden = i if mask_type == "A" else i + 1
        assert (per_pixel[first_forbidden:] == 0).all(), f"pixel {i} sees the future"
        if mask_type == "B":
            assert per_pixel[i] != 0
        if i > 0:
            assert per_pixel[:i].any()


@pytest.mark.parametrize("k", [3, 5, 7])
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_check_masked_conv_passes_correct_layers(k: int, mask_type: str) -> None:
    depends = cp.check_masked_conv(MaskedConv2d(2, 3, k, mask_type), (4, 5))
    assert depends.shape == (20, 20)
    assert depends[19, 18] and depends[19, 14]  # the left neighbour and the one above
    assert depends[19, 19] == (mask_type == "B")


def test_check_masked_conv_names_the_mistakes() -> None:
    with pytest.raises(CheckFailure, match=r"^The first layer uses a type B mask.*same pixel"):
        cp.check_masked_conv(MaskedConv2d(1, 2, 3, "B"), (4, 5), "A")
    for mask_type in "AB":
        layer = MaskedConv2d(1, 2, 3, mask_type)
        layer.mask[1, 2] = 1.0
        with pytest.raises(CheckFailure, match=r"^The mask includes the pixel to the right.*"
                           r"output at pixel \(0, 0\) depends on the input at pixel \(0, 1\)"):
            cp.check_masked_conv(layer, (4, 5))
    plain = nn.Conv2d(1, 2, 3, padding=1)  # no mask at all: caught, no mistake named
    with pytest.raises(CheckFailure, match=r"^Not causal \(type A\)"):
        cp.check_masked_conv(plain, (3, 3), "A")


def test_whole_networks_are_autoregressive_and_type_b_first_is_caught() -> None:
    for model in (PixelCNN((3, 4), 4, 3), GatedPixelCNN((3, 4), 4, 3)):
        model = model.double()
        torch.manual_seed(0)
        for param in model.parameters():
            nn.init.normal_(param)
        check_autoregressive(model, 12)
    wrong = PixelCNN((3, 4), 4, 3).double()
    wrong.layers[0].mask.copy_(torch.as_tensor(conv_mask(3, "B")))
    for param in wrong.parameters():
        nn.init.normal_(param)
    with pytest.raises(CheckFailure, match="output 0 depends on input 0 itself"):
        check_autoregressive(wrong, 12)


# --- receptive fields and the blind spot ----------------------------------------------


def _offsets(k: int, mask_type: str) -> set[tuple[int, int]]:
    c = k // 2
    return {(u - c, v - c) for u, v in zip(*np.nonzero(_mask_by_definition(k, mask_type)),
                                          strict=True)}


def _field_by_offsets(depth: int, k: int, pixel, shape) -> np.ndarray:
    """A masked stack sees the Minkowski sum of its layers' kernel offsets."""
    reach = _offsets(k, "A")
    for _ in range(depth - 1):
        reach = {(a + b, c + d) for a, c in reach for b, d in _offsets(k, "B")}
    field = np.zeros(shape, dtype=bool)
    for dr, dc in reach:
        r, c = pixel[0] + dr, pixel[1] + dc
        if 0 <= r < shape[0] and 0 <= c < shape[1]:
            field[r, c] = True
    return field


def test_the_issues_blind_spot_on_an_8x8_image() -> None:
    blind = cp.blind_spot(5, 3, (4, 4), (8, 8))
    assert cp.pixels(blind) == ISSUE_BLIND
    assert cp.pixel_mask(ISSUE_BLIND, 8).tolist() == blind.tolist()
    field = cp.receptive_field(cp.masked_stack(5, 3), (4, 4), (8, 8))
    assert int((field & cp.earlier_pixels((4, 4), 8)).sum()) == 33
    assert not cp.future_pixels(field, (4, 4)).any()


def test_the_blind_spot_continues_on_a_wider_image() -> None:
    """Width 8 cuts the blind spot off: from width 10 it is the whole triangle."""
    blind = cp.pixels(cp.blind_spot(5, 3, (4, 4), (8, 12)))
    assert blind == [(0, 9), (1, 8), (1, 9), (2, 7), (2, 8), (2, 9), (3, 6), (3, 7), (3, 8),
                     (3, 9)]


@pytest.mark.parametrize(("depth", "k", "pixel", "shape"), [
    (1, 3, (2, 2), (5, 5)), (2, 3, (3, 1), (5, 6)), (5, 3, (4, 4), (8, 8)),
    (3, 5, (6, 6), (9, 12)), (2, 7, (5, 4), (8, 10)), (4, 3, (0, 3), (3, 7)),
])
def test_receptive_fields_and_blind_spots_equal_the_offset_construction(depth, k, pixel,
                                                                       shape) -> None:
    expected = _field_by_offsets(depth, k, pixel, shape)
    layers = cp.masked_stack(depth, k)
    field = cp.receptive_field(layers, pixel, shape)
    np.testing.assert_array_equal(field, expected)
    # the same field from the layers interleaved with ReLUs (left out), from a callable
    # and from a PixelCNN model with as many layers
    with_relus = [m for layer in layers for m in (layer, nn.ReLU())]
    np.testing.assert_array_equal(cp.receptive_field(with_relus, pixel, shape), expected)
    linear = [cp._ones(layer) for layer in layers]

    def stack(x):
        for layer in linear:
            x = layer(x)
        return x

    np.testing.assert_array_equal(cp.receptive_field(stack, pixel, shape), expected)
    model = PixelCNN(shape, channels=2, num_layers=depth, kernel_size=k)
    np.testing.assert_array_equal(cp.receptive_field(model, pixel, shape), expected)
    blind = cp.blind_spot(depth, k, pixel, shape)
    within = cp.reach(depth, k, pixel, shape)
    np.testing.assert_array_equal(blind, within & ~expected)
    assert not (expected & ~within & cp.earlier_pixels(pixel, shape)).any(), \
        "the reach holds the whole field"


def test_a_deep_stack_counts_paths_without_overflow() -> None:
    field = cp.receptive_field(cp.masked_stack(12, 7), (20, 20), (24, 40))
    np.testing.assert_array_equal(field, _field_by_offsets(12, 7, (20, 20), (24, 40)))


def test_the_blind_spot_grows_layer_by_layer() -> None:
    sizes = [int(cp.blind_spot(d, 3, (10, 10), (12, 24)).sum()) for d in range(1, 7)]
    assert sizes == [0, 1, 3, 6, 10, 15]  # (d - 1) d / 2: a growing triangle


@pytest.mark.parametrize(("depth", "k", "pixel", "shape"), [
    (1, 3, (2, 2), (5, 5)), (3, 3, (4, 4), (8, 8)), (5, 3, (4, 4), (8, 8)),
    (2, 5, (6, 5), (9, 12)), (3, 7, (7, 9), (10, 20)), (4, 3, (0, 3), (3, 7)),
])
def test_the_gated_stack_sees_every_earlier_pixel_within_reach_and_no_later_one(
        depth, k, pixel, shape) -> None:
    field = cp.receptive_field(cp.gated_stack(depth, k, shape), pixel, shape)
    within = cp.reach(depth, k, pixel, shape, gated=True)
    np.testing.assert_array_equal(field, within)
    assert not cp.future_pixels(field, pixel).any()
    assert not cp.blind_spot(depth, k, pixel, shape, gated=True).any()
    # and, below the first row, more than the masked stack of the same depth
    masked = cp.receptive_field(cp.masked_stack(depth, k), pixel, shape)
    assert not (masked & ~field).any()
    assert (field & ~masked).any() == (pixel[0] > 0)


def test_the_double_vertical_shift_leaves_two_pixels_unseen() -> None:
    """At (4, 4) of an 8 x 8 image with five 3 x 3 gated layers: (3, 6) and (3, 7)."""
    shifted = cp.gated_stack(5, 3, 8, double_shift=True)
    field = cp.receptive_field(shifted, (4, 4), 8)
    assert not cp.future_pixels(field, (4, 4)).any()
    unseen = cp.reach(5, 3, (4, 4), 8, gated=True) & ~field
    assert cp.pixels(unseen) == [(3, 6), (3, 7)]
    # on a wide image the row above loses (L - 1) p pixels on the right
    wide = cp.receptive_field(cp.gated_stack(5, 3, (8, 16), double_shift=True), (4, 4),
                              (8, 16))
    unseen = cp.reach(5, 3, (4, 4), (8, 16), gated=True) & ~wide
    assert cp.pixels(unseen) == [(3, 6), (3, 7), (3, 8), (3, 9)]
    # still a causal model: the mistake loses context, it does not cheat
    model = GatedPixelCNN((3, 4), 3, 3, double_shift=True).double()
    for param in model.parameters():
        nn.init.normal_(param)
    check_autoregressive(model, 12)


def test_dead_relus_fake_blind_pixels() -> None:
    layers = cp.masked_stack(5, 3)
    right = cp.receptive_field(layers, (4, 4), 8)
    blank = cp.relu_receptive_field(layers, (4, 4), 8)
    assert not blank.any(), "on a blank image every ReLU is dead"
    image = torch.randn(8, 8, generator=torch.Generator().manual_seed(0))
    noisy = cp.relu_receptive_field(layers, (4, 4), 8, image=image)
    assert (noisy & ~right).sum() == 0 and (right & ~noisy).sum() > 0
    positive = cp.relu_receptive_field(layers, (4, 4), 8, image=torch.ones(8, 8))
    np.testing.assert_array_equal(positive, right)  # no ReLU dies on positive sums


# --- named mistakes ---------------------------------------------------------------------


def test_receptive_field_mistakes_are_named() -> None:
    expected = cp.field_of_stack(5, 3, (4, 4), 8)
    mistakes = cp.receptive_field_mistakes(5, 3, (4, 4), 8)
    assert_close(expected, expected, "field", mistakes=mistakes)
    planted = {
        "type B mask": cp.receptive_field(cp.masked_stack(5, 3, first_type="B"), (4, 4), 8),
        "pixel to the right": cp.receptive_field(cp.masked_stack(5, 3, right_pixel=True),
                                                 (4, 4), 8),
        "through ReLUs": cp.relu_receptive_field(cp.masked_stack(5, 3), (4, 4), 8),
    }
    for words, field in planted.items():
        with pytest.raises(CheckFailure, match=words):
            assert_close(field, expected, "field", mistakes=mistakes)
    assert planted["type B mask"][4, 4] and not expected[4, 4]
    assert planted["pixel to the right"][4, 5]


def test_blind_spot_mistakes_are_named() -> None:
    expected = cp.blind_spot(5, 3, (4, 4), 8)
    mistakes = cp.blind_spot_mistakes(5, 3, (4, 4), 8)
    # a mask that sees the pixel to the right sees the blind spot too: nothing is blind
    right = cp.blind_spot(5, 3, (4, 4), 8, field=cp.receptive_field(
        cp.masked_stack(5, 3, right_pixel=True), (4, 4), 8))
    assert not right.any()
    with pytest.raises(CheckFailure, match="pixel to the right"):
        assert_close(right, expected, "blind spot", mistakes=mistakes)
    all_blind = cp.reach(5, 3, (4, 4), 8)
    with pytest.raises(CheckFailure, match="through ReLUs"):
        assert_close(all_blind, expected, "blind spot", mistakes=mistakes)
    gated_mistakes = cp.blind_spot_mistakes(5, 3, (4, 4), 8, gated=True)
    shifted = cp.pixel_mask([(3, 6), (3, 7)], 8)
    with pytest.raises(CheckFailure, match="shifted down twice"):
        assert_close(shifted, cp.blind_spot(5, 3, (4, 4), 8, gated=True), "blind spot",
                     mistakes=gated_mistakes)
    # without the mistakes, the same value gets the generic message
    with pytest.raises(CheckFailure, match="differs from the reference"):
        assert_close(shifted, cp.blind_spot(5, 3, (4, 4), 8, gated=True), "blind spot")


def test_explain_field_difference() -> None:
    expected = cp.field_of_stack(5, 3, (4, 4), 8)
    mistakes = cp.receptive_field_mistakes(5, 3, (4, 4), 8)
    assert cp.explain_field_difference(expected, expected, (4, 4), mistakes) is None
    type_b = cp.receptive_field(cp.masked_stack(5, 3, first_type="B"), (4, 4), 8)
    assert cp.explain_field_difference(type_b, expected, (4, 4), mistakes).startswith(
        "The first layer uses a type B mask")
    assert "(4, 4)" in cp.explain_field_difference(type_b, expected, (4, 4))
    noisy = cp.relu_receptive_field(cp.masked_stack(5, 3), (4, 4), 8,
                                    image=torch.randn(8, 8, generator=torch.Generator()
                                                      .manual_seed(0)))
    message = cp.explain_field_difference(noisy, expected, (4, 4), mistakes)
    assert message.startswith("The receptive field misses") and "ReLU" in message
    assert "shape" in cp.explain_field_difference(np.zeros((7, 8)), expected, (4, 4))
    other = expected.copy()
    other[0, 0], other[3, 7] = False, True
    assert "differs at pixel (0, 0)" in cp.explain_field_difference(other, expected, (4, 4))


def test_receptive_field_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="outside"):
        cp.receptive_field(cp.masked_stack(2, 3), (8, 0), 8)
    with pytest.raises(ValueError, match="model is for"):
        cp.receptive_field(PixelCNN(6, 2, 2), (1, 1), 8)
    with pytest.raises(TypeError, match="list of layers"):
        cp.receptive_field(3, (1, 1), 8)


# --- the models as distributions --------------------------------------------------------


@pytest.mark.parametrize("name", ["pixelcnn", "gated-pixelcnn"])
def test_all_512_states_of_a_3x3_image_sum_to_one_and_samples_follow(name: str) -> None:
    model = REGISTRY[name].example(9, 0).double().eval()
    assert model.image_shape == (3, 3)
    with torch.no_grad():
        probs = check_distribution(
            lambda s: model.log_prob(torch.as_tensor(s, dtype=torch.float64)).numpy(), 9,
            atol=1e-9)
    samples = model.sample(20_000, generator=torch.Generator().manual_seed(1)).numpy()
    check_samples(samples, probs, alpha=1e-4, name=f"{name} samples")
    top = np.full(9, np.nan)
    top[:3] = [1, 0, 1]
    completed = model.sample(20_000, generator=torch.Generator().manual_seed(2),
                             condition=top).numpy()
    assert (completed[:, :3] == [1, 0, 1]).all()
    states = all_states(9, 2)
    consistent = (states[:, :3] == [1, 0, 1]).all(axis=1)
    conditional = np.where(consistent, probs, 0.0)
    check_samples(completed, conditional / conditional.sum(), alpha=1e-4)


def test_an_untrained_model_is_the_independent_pixel_model() -> None:
    x = digits8x8("train")[:200]
    for model in (PixelCNN(8, 8, 2), GatedPixelCNN(8, 8, 2)):
        start_from_marginals(model, x)
        p = x.mean(0).clip(1e-3, 1 - 1e-3)
        independent = -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(1).mean()
        assert evaluate_nll(model, x) == pytest.approx(independent, rel=1e-5)


@pytest.mark.parametrize("cls", [PixelCNN, GatedPixelCNN])
def test_a_short_training_run_lowers_the_nll(cls) -> None:
    torch.manual_seed(0)
    x_train, x_test = digits8x8("train")[:400], digits8x8("test")[:100]
    model = start_from_marginals(cls(8, channels=8, num_layers=3), x_train)
    before = evaluate_nll(model, x_test)
    history = fit_image_model(model, x_train, x_test, epochs=6, batch_size=25, lr=1e-2,
                              progress=False)
    assert history.test_nll[-1] < before - 1.5, (before, history.test_nll)


def test_fit_image_model_takes_fresh_data_every_epoch() -> None:
    x = digits8x8("train")[:100]
    epochs_seen = []

    def data(epoch: int) -> np.ndarray:
        epochs_seen.append(epoch)
        return x if epoch == 0 else 1.0 - x

    history = fit_image_model(PixelCNN(8, 4, 2), data, epochs=2, batch_size=50,
                              progress=False)
    assert len(history.train_nll) == 2
    assert epochs_seen == [0, 0, 1]  # the marginals, then fit's first and second epochs


def test_linear_copy_is_float64_with_unit_weights_and_leaves_the_model_alone() -> None:
    model = GatedPixelCNN(4, 2, 2)
    copy = linear_copy(model)
    assert copy.linear and not model.linear
    assert all(p.dtype == torch.float64 for p in copy.parameters())
    assert all((p == (0 if n.endswith("bias") else 1)).all() for n, p in copy.named_parameters())
    assert not all((p == 1).all() for n, p in model.named_parameters() if n.endswith("weight"))


# --- figures and the widget -------------------------------------------------------------


def test_receptive_field_figure_shows_each_layer_and_says_what_is_blind() -> None:
    fig, verdict = vp.receptive_field_figure(5, 3, "PixelCNN (masked)", (4, 4), 8)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titles == ["1 layer: 0 blind", "2 layers: 1 blind", "3 layers: 3 blind",
                      "4 layers: 3 blind", "5 layers: 3 blind"]
    assert "3 blind: [(2, 7), (3, 6), (3, 7)]" in verdict and "no later pixel" in verdict
    _, verdict = vp.receptive_field_figure(5, 3, "Gated PixelCNN", (4, 4), 8)
    assert "no blind pixel" in verdict
    _, verdict = vp.receptive_field_figure(
        5, 3, "Gated, vertical stack shifted twice (mistake)", (4, 4), 8)
    assert "2 blind: [(3, 6), (3, 7)]" in verdict
    categories = vp.field_categories(cp.field_of_stack(5, 3, (4, 4), 8), 5, 3, (4, 4))
    assert cp.pixels(categories == vp.BLIND) == ISSUE_BLIND
    assert categories[4, 4] == vp.OUTPUT and categories[4, 5] == vp.LATER
    assert len(vp.plot_conv_masks(3).axes) == 2


def test_blind_spot_explorer_is_driven_by_its_controls(monkeypatch) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert vp.blind_spot_explorer() is None
    monkeypatch.delenv("NBGRADER_EXECUTION")
    box = vp.blind_spot_explorer(depth=5, pixel=(4, 4), image_size=8)
    assert "3 blind" in box.verdict.value and "red" in box.verdict.value
    box.controls["stack"].value = "Gated PixelCNN"
    assert "no blind pixel" in box.verdict.value and "green" in box.verdict.value
    box.controls["depth"].value = 2
    assert "2 layers" in box.verdict.value


@pytest.mark.parametrize("model", [
    PixelCNN((9, 4), 3, num_layers=2), PixelCNN((9, 4), 3, num_layers=2, first_kernel_size=5),
    GatedPixelCNN((9, 4), 3, num_layers=2), GatedPixelCNN((9, 4), 3, 2, double_shift=True),
    GatedPixelCNN((9, 4), 3, num_layers=1, kernel_size=5),
], ids=["pixelcnn", "pixelcnn-first-5x5", "gated", "gated-double-shift", "gated-5x5"])
def test_sampling_on_a_band_of_rows_gives_the_full_passs_logits(model) -> None:
    """next_logits runs on the rows r - R..r only; it must equal logits(x)[:, i], and R
    must be the smallest band that does (one row less changes some logit)."""
    model = model.double()
    for param in model.parameters():
        nn.init.normal_(param)
    x = (torch.rand(5, 36, generator=torch.Generator().manual_seed(0)) < 0.5).double()
    with torch.no_grad():
        full = model.logits(x)
        for i in range(36):
            torch.testing.assert_close(model.next_logits(x, i, None)[0], full[:, i])
        reach = model.reach_rows
        assert reach < 8
        too_small = [model.logits_of_rows(x[:, (r - reach + 1) * 4 : (r + 1) * 4],
                                          r - reach + 1)[:, -4:] for r in range(reach, 9)]
        assert any(not torch.allclose(t, full[:, r * 4 : (r + 1) * 4])
                   for t, r in zip(too_small, range(reach, 9), strict=True))
