"""Tests of course.models.rnn beyond the contract test (which covers the registered
examples: normalization, autoregressive logits, samples, completion, generator).

Here: the autoregressive property on categorical sequences of any length, the classic
unshifted-target bug, temperature, prompts, the O(1) sampling state, parameter counts
that do not grow with T, truncated BPTT training and bits per character.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

import course
from course.checks import CheckFailure, check_autoregressive, check_samples
from course.data.text import BPTTBatches
from course.models import REGISTRY
from course.models.rnn import (
    CELLS,
    CharRNN,
    PixelRNN,
    bits_per_char,
    fit_bptt,
    hidden_jacobian_norms,
    open_forget_gates_,
)

V = 5


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


def model(cell: str = "lstm", vocab: int = V, n: int = 6, seed: int = 0, hidden: int = 8
          ) -> CharRNN:
    torch.manual_seed(seed)
    m = CharRNN(vocab, hidden_size=hidden, cell=cell, n=n).double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(3.0)  # far from uniform, so that differences show
    return m


def all_sequences(vocab: int, length: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product(range(vocab), repeat=length)),
                        dtype=torch.float64)


# ---------------------------------------------------------------------------------------
# The autoregressive property on sequences


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_logits_at_step_t_do_not_change_when_later_inputs_change(cell: str) -> None:
    m = model(cell)
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, V, (8, 12), generator=gen)
    base = m.logits(x)
    assert base.shape == (8, 12, V)
    for t in range(12):
        changed = x.clone()
        changed[:, t:] = torch.randint(0, V, (8, 12 - t), generator=gen)
        after = m.logits(changed)
        assert torch.equal(after[:, : t + 1], base[:, : t + 1]), f"step {t} saw the future"
        if t + 1 < 12 and not torch.equal(changed[:, t], x[:, t]):
            assert not torch.allclose(after[:, t + 1], base[:, t + 1]), f"step {t + 1}"


class Unshifted(CharRNN):
    """The classic bug: predicting x_t from x_<=t (targets not shifted by one)."""

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x)[0]


def test_check_autoregressive_catches_unshifted_targets_and_names_the_step() -> None:
    good = model("lstm", n=6)
    check_autoregressive(good, 6)
    bad = Unshifted(V, hidden_size=8, n=6).double()
    bad.load_state_dict(good.state_dict())
    with pytest.raises(CheckFailure, match="output 0 depends on input 0 itself"):
        check_autoregressive(bad, 6)


def test_log_prob_is_normalized_for_every_length() -> None:
    """There is no end token: every length T has its own distribution over V^T."""
    m = model("gru", vocab=3, n=4)
    for length in (1, 2, 5):
        total = m.log_prob(all_sequences(3, length)).exp().sum().item()
        assert total == pytest.approx(1.0, abs=1e-12), length


# ---------------------------------------------------------------------------------------
# Temperature


def test_temperature_divides_the_logits_and_keeps_a_distribution() -> None:
    m = model("lstm", vocab=3, n=4)
    x = all_sequences(3, 4)
    plain = m.logits(x)
    with m.at_temperature(0.5):
        assert torch.allclose(m.logits(x), plain / 0.5)
        assert m.log_prob(x).exp().sum().item() == pytest.approx(1.0, abs=1e-12)
    assert m.temperature == 1.0
    with pytest.raises(ValueError, match="positive"):
        m.sample(2, temperature=0.0)


def test_samples_at_a_temperature_follow_the_tempered_distribution() -> None:
    m = model("rnn", vocab=3, n=4)
    m.load_state_dict({k: v / 3.0 for k, v in m.state_dict().items()})
    with m.at_temperature(2.0), torch.no_grad():
        probs = m.log_prob(all_sequences(3, 4)).exp().numpy()
    samples = m.sample(20_000, torch.Generator().manual_seed(0), temperature=2.0)
    check_samples(samples.numpy(), probs, num_values=3, alpha=1e-4)
    assert m.temperature == 1.0


def test_a_temperature_near_zero_gives_the_argmax() -> None:
    m = model("lstm", n=10)
    greedy = torch.zeros(1, 10, dtype=torch.float64)
    for t in range(10):
        greedy[0, t] = m.logits(greedy)[0, t].argmax()
    samples = m.sample(50, torch.Generator().manual_seed(0), temperature=1e-6)
    assert (samples == greedy).all()
    different = m.sample(50, torch.Generator().manual_seed(0))
    assert not (different == greedy).all()


# ---------------------------------------------------------------------------------------
# Sampling: the hidden state is the state, prompts


def test_sampling_carries_the_state_instead_of_full_passes(monkeypatch) -> None:
    m = model("gru", n=20)

    def no_full_pass(x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("the sampler ran a full pass over the sequence")

    samples = m.sample(3, torch.Generator().manual_seed(0))
    monkeypatch.setattr(m, "logits", no_full_pass)
    again = m.sample(3, torch.Generator().manual_seed(0))
    assert torch.equal(samples, again)


def test_the_step_by_step_hooks_agree_with_one_full_pass() -> None:
    m = model("lstm", n=9)
    x = torch.randint(0, V, (4, 9), generator=torch.Generator().manual_seed(1)).double()
    full = m.logits(x)
    state = m.init_state(4)
    for i in range(9):
        step, state = m.next_logits(x, i, state)
        assert torch.allclose(step, full[:, i], atol=1e-12), i
        state = m.advance(x, i, state)


def test_a_prompt_is_kept_and_continued() -> None:
    m = model("lstm", n=8)
    prompt = [3, 1, 4]
    gen = torch.Generator().manual_seed(2)
    samples = m.sample(100, gen, condition=prompt, length=12)
    assert samples.shape == (100, 12) and m.n == 8
    assert (samples[:, :3] == torch.tensor(prompt, dtype=samples.dtype)).all()
    nan = torch.full((12,), float("nan"))
    nan[:3] = torch.tensor(prompt, dtype=nan.dtype)
    same = m.sample(100, torch.Generator().manual_seed(2), condition=nan, length=12)
    assert torch.equal(samples, same)


# ---------------------------------------------------------------------------------------
# Parameters, devices, pixels


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_the_parameter_count_does_not_grow_with_the_length(cell: str) -> None:
    counts = {CharRNN(66, 32, cell=cell, n=n).num_parameters() for n in (10, 100, 10_000)}
    assert len(counts) == 1
    x = torch.randint(0, 66, (2, 300))
    assert CharRNN(66, 32, cell=cell, n=10).logits(x).shape == (2, 300, 66)


def test_the_vanilla_rnn_has_the_parameters_of_the_equations() -> None:
    # W_xh (H x (V + 1), one-hot inputs with the start token), W_hh, two biases, W_hy, c
    H = 32
    assert CharRNN(V, H, cell="rnn").num_parameters() == H * (V + 1) + H * H + 2 * H \
        + V * H + V


def test_models_run_on_the_course_device() -> None:
    dev = course.device()
    m = CharRNN(V, 8, n=5).to(dev)
    assert m.sample(2, torch.Generator().manual_seed(0)).device.type == dev.type
    x = torch.randint(0, V, (2, 5), device=dev)
    assert m.log_prob(x).shape == (2,)


def test_pixel_rnn_is_binary_over_the_raster_scan() -> None:
    pixels = PixelRNN(n=16, hidden_size=8).double()
    x = (torch.rand(5, 16, generator=torch.Generator().manual_seed(0)) < 0.5).double()
    assert pixels.logits(x).shape == (5, 16) and pixels.num_values == 2
    check_autoregressive(pixels, 16)
    assert {"char-rnn", "char-gru", "char-lstm", "pixel-rnn"} <= set(REGISTRY)


# ---------------------------------------------------------------------------------------
# Training and evaluation


def test_bits_per_char_is_minus_log2_p_of_the_text() -> None:
    m = model("gru")
    ids = torch.randint(0, V, (203,), generator=torch.Generator().manual_seed(3))
    one = bits_per_char(m, ids, num_streams=1, seq_len=50)
    exact = -m.log_prob(ids[None]).item() / (203 * math.log(2))
    assert one == pytest.approx(exact, rel=1e-10)
    streams = bits_per_char(m, ids, num_streams=4, seq_len=7)  # 51, 51, 51, 50
    pieces = [ids[:51], ids[51:102], ids[102:153], ids[153:]]
    total = -sum(m.log_prob(p[None]).item() for p in pieces) / (203 * math.log(2))
    assert streams == pytest.approx(total, rel=1e-10)


def test_truncated_bptt_learns_a_periodic_text() -> None:
    torch.manual_seed(0)
    m = CharRNN(4, hidden_size=16, cell="lstm")
    ids = np.tile([0, 1, 2, 3, 2, 1], 200)
    before = bits_per_char(m, ids)
    losses = fit_bptt(m, BPTTBatches(ids, num_streams=8, seq_len=20), epochs=10, lr=1e-2,
                      progress=False)
    assert len(losses) == 10 * 8
    after = bits_per_char(m, ids, num_streams=4)
    assert before > 1.5 and after < 0.3, (before, after)


def test_a_learned_embedding_replaces_the_one_hot_inputs() -> None:
    m = CharRNN(V, 8, cell="gru", n=6, embedding_dim=3).double()
    assert m.embedding is not None and m.embedding.weight.shape == (V + 1, 3)
    check_autoregressive(m, 6)
    with torch.no_grad():
        total = m.log_prob(all_sequences(V, 2)).exp().sum().item()
    assert total == pytest.approx(1.0, abs=1e-12)


def test_open_forget_gates_sets_the_forget_rows_of_the_bias() -> None:
    model = PixelRNN(10, hidden_size=3, num_layers=2)
    open_forget_gates_(model, 2.0)
    for layer in range(2):
        bias = getattr(model.rnn, f"bias_ih_l{layer}").detach()
        assert torch.all(bias[3:6] == 2.0) and not torch.all(bias[:3] == 2.0)
    with pytest.raises(ValueError, match="forget gates"):
        open_forget_gates_(CharRNN(3, 4, cell="gru"))


def test_hidden_jacobian_norms_end_at_the_identity_and_vanish_for_small_weights() -> None:
    torch.manual_seed(0)
    cell = torch.nn.RNNCell(2, 5).double()
    with torch.no_grad():
        cell.weight_hh.mul_(0.1)
    norms = hidden_jacobian_norms(cell, torch.randn(30, 2, dtype=torch.float64))
    assert norms.shape == (30,) and norms[-1] == pytest.approx(math.sqrt(5))
    assert norms[0] < 1e-12 < norms[-2]  # 29 steps back: gone
