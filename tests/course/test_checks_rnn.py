"""Tests of course.checks.rnn: the references of Assignment 5 agree with torch autograd and
with central differences, every named mistake is recognized (and a correct answer
passes), and the visible tests' cases are deterministic and distinguish their mistakes.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import course.checks.rnn as rc
from course.checks import CheckFailure, all_states, check_autoregressive, check_gradient
from course.checks.core import find_mistake
from course.expected import EXPECTED_DIR, dumps, load_expected, same_values
from course.models.rnn import hidden_jacobian_norms


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


def sequence(seed: int = 0, N: int = 3, T: int = 5, D: int = 4, H: int = 6, scale: float = 1.0
             ) -> dict[str, np.ndarray]:
    return rc.random_rnn_inputs(N, T, D, H, seed=seed, scale=scale)


class LanguageModel(nn.Module):
    """The layout Assignment 5 asks for (embedding, rnn, head; start token V)."""

    def __init__(self, vocab: int, hidden: int, embed: int) -> None:
        super().__init__()
        self.start = vocab
        self.embedding = nn.Embedding(vocab + 1, embed)
        self.rnn = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, inputs: torch.Tensor, state=None):
        out, state = self.rnn(self.embedding(inputs), state)
        return self.head(out), state


def language_model(vocab: int = 4, seed: int = 0) -> LanguageModel:
    torch.manual_seed(seed)
    return LanguageModel(vocab, 5, 3).double().eval()


def shifted_logits(model: LanguageModel, x: torch.Tensor) -> torch.Tensor:
    start = torch.full_like(x[:, :1], model.start)
    return model(torch.cat([start, x[:, :-1]], dim=1))[0]


# ---------------------------------------------------------------------------------------
# The references agree with torch autograd and central differences


def test_rnn_forward_and_bptt_agree_with_autograd() -> None:
    s = sequence(scale=1.5)
    args = (s["x"], s["h0"], s["Wx"], s["Wh"], s["b"])
    h, cache = rc.reference_rnn_forward(*args)
    auto_h, auto_grads = rc.torch_rnn_forward_backward(*args, s["dh"])
    np.testing.assert_allclose(h, auto_h, rtol=1e-12)
    for mine, auto in zip(rc.reference_rnn_backward(s["dh"], cache), auto_grads, strict=True):
        np.testing.assert_allclose(mine, auto, rtol=1e-10, atol=1e-13)


def test_a_step_backward_passes_the_gradient_check() -> None:
    s = sequence(seed=1, T=1)
    x, h0, Wx, Wh, b, dh = s["x"][:, 0], s["h0"], s["Wx"], s["Wh"], s["b"], s["dh"][:, 0]
    _, cache = rc.reference_rnn_step_forward(x, h0, Wx, Wh, b)
    dx, dh_prev, dWx, dWh, db = rc.reference_rnn_step_backward(dh, cache)

    def loss(**changed: np.ndarray) -> float:
        values = {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b, **changed}
        return float(np.sum(rc.reference_rnn_step_forward(**{
            "x": values["x"], "h_prev": values["h0"], "Wx": values["Wx"], "Wh": values["Wh"],
            "b": values["b"]})[0] * dh))

    for name, grad, value in [("x", dx, x), ("h0", dh_prev, h0), ("Wx", dWx, Wx),
                              ("Wh", dWh, Wh), ("b", db, b)]:
        assert check_gradient(lambda v, name=name: loss(**{name: v}), value, grad, name) < 1e-6


def test_softmax_loss_and_char_rnn_agree_with_autograd() -> None:
    rng = np.random.default_rng(2)
    logits, targets = 5.0 * rng.standard_normal((3, 4, 7)), rng.integers(0, 7, (3, 4))
    loss, d = rc.reference_temporal_softmax_loss(logits, targets)
    auto_loss, auto_d = rc.torch_temporal_softmax_loss(logits, targets)
    assert loss == pytest.approx(auto_loss, rel=1e-12)
    np.testing.assert_allclose(d, auto_d, rtol=1e-10, atol=1e-15)
    assert rc.reference_temporal_softmax_loss(np.zeros((2, 2, 66)), np.zeros((2, 2), int))[0] \
        == pytest.approx(math.log(66), rel=1e-14)

    params = rc.random_char_rnn_params(6, 3, 5, seed=3)
    inputs, targets, h0 = rng.integers(0, 6, (2, 7)), rng.integers(0, 6, (2, 7)), \
        rng.standard_normal((2, 5))
    loss, grads, h_last = rc.reference_char_rnn_loss_and_grads(params, inputs, targets, h0)
    auto_loss, auto_grads, auto_h = rc.torch_char_rnn_loss_and_grads(params, inputs, targets, h0)
    assert loss == pytest.approx(auto_loss, rel=1e-12)
    np.testing.assert_allclose(h_last, auto_h, rtol=1e-12)
    for name in rc.PARAM_NAMES:
        np.testing.assert_allclose(grads[name], auto_grads[name], rtol=1e-9, atol=1e-14)
    rc.check_char_rnn_grads((loss, grads, h_last), params, inputs, targets, h0)


def test_the_exact_sampling_distribution_sums_to_one_and_tempers() -> None:
    params = rc.random_char_rnn_params(3, 2, 4, seed=4, scale=2.0, output_scale=3.0)
    for temperature in (1.0, 0.5, 2.0):
        probs = rc.char_rnn_exact_probs(params, [1, 2], 3, temperature)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    cold = rc.char_rnn_exact_probs(params, [1, 2], 3, 1e-3)
    greedy = rc.visible_cases()["sampling"]["greedy"]
    assert cold[int(np.ravel_multi_index(tuple(greedy), (3, 3, 3)))] == pytest.approx(1.0)


def test_markov_bits_match_dense_counts() -> None:
    rng = np.random.default_rng(5)
    train, valid = rng.integers(0, 5, 400), rng.integers(0, 5, 80)
    for order in (0, 1, 2):
        counts = np.zeros((5,) * (order + 1))
        np.add.at(counts, tuple(train[j: len(train) - order + j] for j in range(order + 1)), 1)
        probs = (counts + 1) / (counts.sum(axis=-1, keepdims=True) + 5)
        windows = tuple(valid[j: len(valid) - order + j] for j in range(order + 1))
        expected = -np.log2(probs[windows]).mean()
        assert rc.reference_markov_bits(train, valid, 5, order) == pytest.approx(expected,
                                                                                 rel=1e-12)


def _brute_force_norms(cell: nn.Module, x: torch.Tensor) -> list[float]:
    """||dh_T/dh_t|| by differentiating the whole rerun from (h_t, c_t), c_t held fixed."""
    lstm = isinstance(cell, nn.LSTMCell)

    def step(t: int, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return cell(x[t:t + 1], (h, c)) if lstm else (cell(x[t:t + 1], h), c)

    def run_from(t: int, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        for s in range(t, len(x)):
            h, c = step(s, h, c)
        return h

    h = c = torch.zeros(1, cell.hidden_size, dtype=torch.float64)
    states = []
    with torch.no_grad():
        for t in range(len(x)):
            h, c = step(t, h, c)
            states.append((h, c))
    size = cell.hidden_size
    return [torch.autograd.functional.jacobian(lambda h, t=t, c=c: run_from(t + 1, h, c), h)
            .reshape(size, size).norm().item() for t, (h, c) in enumerate(states)]


def test_jacobian_norms_match_brute_force_autograd() -> None:
    torch.manual_seed(0)
    for cell in (nn.RNNCell(3, 4).double(), nn.LSTMCell(3, 4).double()):
        x = torch.randn(6, 3, dtype=torch.float64)
        norms = hidden_jacobian_norms(cell, x)
        np.testing.assert_allclose(norms, _brute_force_norms(cell, x), rtol=1e-10)
        assert norms[-1] == pytest.approx(2.0)  # ||I_4||_F


def test_to_reference_lm_gives_the_same_logits_and_probabilities() -> None:
    model = language_model(4)
    x = torch.randint(0, 4, (3, 6), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        np.testing.assert_allclose(rc.reference_lm_logits(model, x),
                                   shifted_logits(model, x).numpy(), rtol=1e-12)
    binary = language_model(2, seed=1)
    x = torch.randint(0, 2, (3, 8), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        log_p = F.log_softmax(shifted_logits(binary, x), -1).gather(-1, x[..., None]).sum((1, 2))
    np.testing.assert_allclose(rc.reference_lm_log_prob(binary, x), log_p.numpy(), rtol=1e-12)
    with pytest.raises(CheckFailure, match="embedding"):
        rc.to_reference_lm(nn.Linear(2, 2))


# ---------------------------------------------------------------------------------------
# Every named mistake is recognized; correct answers pass


def _without_carry(dh: np.ndarray, cache: list) -> tuple:
    return rc.rnn_backward_without_carry(dh, cache)


def test_bptt_without_the_carried_gradient_is_named() -> None:
    s = sequence(seed=7)
    args = (s["x"], s["h0"], s["Wx"], s["Wh"], s["b"])
    _, cache = rc.reference_rnn_forward(*args)
    rc.check_rnn_backward(rc.reference_rnn_backward(s["dh"], cache), s["dh"], *args)
    with pytest.raises(CheckFailure, match=r"^BPTT drops the carried gradient"):
        rc.check_rnn_backward(_without_carry(s["dh"], cache), s["dh"], *args)


def test_softmax_over_the_wrong_axis_is_named() -> None:
    rng = np.random.default_rng(8)
    logits, targets = 2.0 * rng.standard_normal((2, 4, 5)), rng.integers(0, 5, (2, 4))
    rc.check_temporal_softmax_loss(rc.reference_temporal_softmax_loss(logits, targets), logits,
                                   targets)
    with pytest.raises(CheckFailure, match=r"^The softmax is taken over the wrong axis"):
        rc.check_temporal_softmax_loss(rc.softmax_loss_wrong_axis(logits, targets), logits,
                                       targets)
    loss, d = rc.reference_temporal_softmax_loss(logits, targets)
    with pytest.raises(CheckFailure, match=r"^The loss is summed"):
        rc.check_temporal_softmax_loss((loss * 8, d * 8), logits, targets)


def test_gradients_clipped_before_the_gradient_check_are_named() -> None:
    params = rc.random_char_rnn_params(5, 3, 4, seed=9, scale=3.0, output_scale=20.0)
    rng = np.random.default_rng(9)
    inputs, targets, h0 = rng.integers(0, 5, (2, 4)), rng.integers(0, 5, (2, 4)), \
        rng.standard_normal((2, 4))
    loss, grads, h_last = rc.reference_char_rnn_loss_and_grads(params, inputs, targets, h0)
    assert math.sqrt(sum((g**2).sum() for g in grads.values())) > 5
    for max_norm in (5.0, 1.0):
        clipped = rc.reference_clip_gradients(grads, max_norm)
        with pytest.raises(CheckFailure, match=rf"^The gradients are clipped \(global norm "
                                               rf"{max_norm:g}"):
            rc.check_char_rnn_grads((loss, clipped, h_last), params, inputs, targets, h0)


def test_unshifted_targets_are_named_with_their_step() -> None:
    model = language_model(4, seed=2)

    def unshifted(x: np.ndarray) -> torch.Tensor:
        return model(torch.as_tensor(x).long())[0]

    shifted = lambda x: shifted_logits(model, torch.as_tensor(x).long())  # noqa: E731
    with torch.no_grad():
        check_autoregressive(shifted, 6, name="the prediction at step")
        with pytest.raises(CheckFailure) as failure:
            check_autoregressive(unshifted, 6, name="the prediction at step",
                                 mistakes=lambda x: rc.lm_logits_mistakes(model, x))
    message = str(failure.value)
    assert message.startswith("The targets are not shifted")
    assert "the prediction at step 0 depends on input 0 itself" in message
    x = torch.randint(0, 4, (2, 5), generator=torch.Generator().manual_seed(3))
    got = unshifted(x.numpy()).detach().numpy()
    assert find_mistake(got, rc.lm_logits_mistakes(model, x),
                        expected=rc.reference_lm_logits(model, x)) == rc._UNSHIFTED


def test_the_other_named_mistakes_match_their_values() -> None:
    s = sequence(seed=10, T=1)
    x, h0, Wx, Wh, b, dh = s["x"][:, 0], s["h0"], s["Wx"], s["Wh"], s["b"], s["dh"][:, 0]
    with pytest.raises(CheckFailure, match=r"^tanh' is taken at h_next"):
        _, cache = rc.reference_rnn_step_forward(x, h0, Wx, Wh, b)
        da = dh * (1 - np.tanh(cache[4]) ** 2)
        rc.check_rnn_step_backward((da @ Wx.T, da @ Wh.T, x.T @ da, h0.T @ da, da.sum(0)),
                                   dh, x, h0, Wx, Wh, b)
    ids = np.array([[1, 1, 2]])
    dout = np.ones((1, 3, 2))
    wrong = np.zeros((3, 2))
    wrong[ids.ravel()] += dout.reshape(-1, 2)
    assert find_mistake(wrong, rc.embedding_backward_mistakes(dout, ids, 3),
                        expected=rc.reference_embedding_backward(dout, ids, 3)).startswith(
        "Repeated ids lose their gradients")
    grads = {"a": np.array([3.0, 4.0]), "b": np.array([12.0])}  # global norm 13
    per_array = {"a": np.array([0.6, 0.8]), "b": np.array([1.0])}
    mistakes = rc.clip_gradients_mistakes(grads, 1.0)
    assert find_mistake(per_array["a"], mistakes["a"],
                        expected=rc.reference_clip_gradients(grads, 1.0)["a"]).startswith(
        "Each gradient is clipped on its own")


# ---------------------------------------------------------------------------------------
# The visible tests' cases


def test_visible_cases_are_deterministic_and_stored() -> None:
    text = dumps(rc.visible_cases())
    assert dumps(rc.visible_cases()) == text
    stored = (EXPECTED_DIR / "05-rnn.json").read_text(encoding="utf-8")
    assert same_values(json.loads(stored), json.loads(text)), "run python -m autograder release"


def _mistakes(case: object, path: str = ""):
    """Every (where, mistakes dict, case) of the stored cases."""
    if isinstance(case, dict):
        for key, value in case.items():
            if key.endswith("mistakes") and isinstance(value, dict):
                yield f"{path}/{key}", value, case
            else:
                yield from _mistakes(value, f"{path}/{key}")
    elif isinstance(case, list):
        for k, item in enumerate(case):
            yield from _mistakes(item, f"{path}[{k}]")


def test_every_stored_mistake_is_named_as_itself() -> None:
    """A mistake's value, given to find_mistake with all the case's mistakes, is named as
    that mistake (so the messages can tell them apart), unless two mistakes give the same
    value on that input (a clipping mistake when nothing needs clipping)."""
    cases = load_expected("05-rnn")
    checked = 0
    for where, mistakes, _ in _mistakes(cases):
        nested = all(isinstance(v, dict) for v in mistakes.values())
        groups = mistakes.values() if nested else [mistakes]
        for group in groups:
            for text, value in group.items():
                if value is None or isinstance(value, str):
                    continue
                named = find_mistake(value, group)
                same = named is not None and np.array_equal(np.asarray(group[named]), value)
                assert named == text or same, (
                    f"{where}: {text[:60]!r} is named {str(named)[:60]!r}")
                checked += named == text
    assert checked > 40


def test_the_visible_cases_greedy_paths_are_not_ties() -> None:
    cases = load_expected("05-rnn")
    probs = cases["sampling"]["probs"]["0.5"]
    greedy = cases["sampling"]["greedy"]
    assert probs[int(np.ravel_multi_index(tuple(greedy), (3, 3, 3)))] > 0.1
    assert len(all_states(3, 3)) == len(cases["lm"]["log_prob"]["1.0"]) == 27
    assert np.exp(cases["lm"]["log_prob"]["1.0"]).sum() == pytest.approx(1.0, abs=1e-12)
    assert np.exp(cases["lm"]["log_prob"]["0.5"]).sum() == pytest.approx(1.0, abs=1e-12)
    assert cases["lm"]["prompt_probs"].sum() == pytest.approx(1.0, abs=1e-12)
