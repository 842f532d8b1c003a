"""The CNN generalization predictor equals the reference (official_dng_cnn/FORMAT.md), and keeps
the symmetries it must."""

import pytest
import torch

from dng.compat.official import (cnn_inputs_to_weights, cnn_predictor_from_official,
                                 predict_smallcnnzoo)
from dng.models import DNGEncoder, EncoderConfig
from dng.zoo.smallcnnzoo import official_split, read_smallcnnzoo

from conftest import random_cnn


@pytest.fixture(scope="module")
def ref(cnn_fixtures):
    return torch.load(cnn_fixtures / "gen_predictor_cnn.pt", weights_only=True)


def test_layout_gives_reference_inputs(ref, cnn_fixtures):
    z = read_smallcnnzoo(cnn_fixtures / "smallcnnzoo_layout")
    w = cnn_inputs_to_weights(ref["inputs_edges"], ref["inputs_biases"], ref["inputs_act"],
                              z.arch)
    assert all(torch.equal(a, b) for a, b in zip(z.weights.weights, w.weights))
    assert all(torch.equal(a, b) for a, b in zip(z.weights.biases, w.biases))
    assert torch.equal(z.weights.act, w.act)
    assert z.activation == ref["act_names"]
    assert torch.equal(z.columns["test_accuracy"].float(), ref["labels"])
    assert z.arch.num_parameters == 4970


def test_official_split(ref):
    s = ref["official_split_row_indices"]
    ours = official_split(8)
    assert ours["train"] == list(s["train"]) and ours["val"] == list(s["val"])
    assert ours["test"] == list(s["test"])


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.float64, 1e-10)])
def test_predict_smallcnnzoo(ref, cnn_fixtures, dtype, tol):
    out = predict_smallcnnzoo(ref["state_dict"], ref["config"], cnn_fixtures / "smallcnnzoo_layout",
                              dtype=dtype)
    want = ref["output" if dtype == torch.float32 else "output_f64"][:, 0]
    torch.testing.assert_close(out, want.to(dtype), atol=tol, rtol=0)


@pytest.mark.parametrize("dtype, tol, sfx", [(torch.float32, 1e-5, ""), (torch.float64, 1e-10, "_f64")])
def test_encoder_and_logit(ref, cnn_fixtures, dtype, tol, sfx):
    z = read_smallcnnzoo(cnn_fixtures / "smallcnnzoo_layout")
    m = cnn_predictor_from_official(ref["state_dict"], ref["config"], z.arch).to(dtype)
    w = z.weights.to(dtype)
    with torch.no_grad():
        torch.testing.assert_close(m.encoder(w), ref["encoder_output" + sfx].to(dtype),
                                   atol=tol, rtol=0)
        torch.testing.assert_close(m(w), ref["head_logit" + sfx].to(dtype),
                                   atol=tol / 10 if dtype == torch.float32 else tol, rtol=0)


def test_debug_layer_states(ref, cnn_fixtures):
    """Each layer's states after LayerNorm (networks 0 and 1) — where a mismatch would start."""
    z = read_smallcnnzoo(cnn_fixtures / "smallcnnzoo_layout")
    m = cnn_predictor_from_official(ref["state_dict"], ref["config"], z.arch)
    with torch.no_grad():
        states = m.encoder.node_states(z.weights[:2])
    dbg = ref["debug_first2"]
    for i, s in enumerate(states):
        torch.testing.assert_close(s, dbg[f"node_state_after_layernorm_layer{i}"], atol=1e-5,
                                   rtol=0)


@pytest.mark.parametrize("pad", ["zeros", "masked"])
def test_hidden_channel_permutations_do_not_change_the_readout(pad):
    w = random_cnn(batch=4, dtype=torch.float64)
    enc = DNGEncoder(w.arch, EncoderConfig(message="heads", emb_dim=16, fourier_dim=8,
                                           att_dim=4, pad_taps=pad,
                                           network_activation_embedding=True)).double()
    g = torch.Generator().manual_seed(3)
    perms = [torch.stack([torch.randperm(n, generator=g) for _ in range(4)])
             for n in w.layer_sizes[1:-1]]
    wp = w.permute_hidden(perms)
    assert not torch.equal(wp.weights[0], w.weights[0])
    x = torch.randn(2, 1, 9, 9, dtype=torch.float64)
    torch.testing.assert_close(w.arch.run(w, x, act_ids=w.act), wp.arch.run(wp, x, act_ids=wp.act))
    torch.testing.assert_close(enc(w), enc(wp), atol=1e-10, rtol=0)


def test_masked_padding_ignores_missing_taps():
    """With pad_taps='masked' a dense layer's padded heads carry nothing: the message equals the
    one computed with the dense layer's single head and zero source maps elsewhere."""
    w = random_cnn(batch=2, dtype=torch.float64)
    cfg = dict(message="heads", emb_dim=8, fourier_dim=4, att_dim=3)
    zeros = DNGEncoder(w.arch, EncoderConfig(**cfg, pad_taps="zeros")).double()
    masked = DNGEncoder(w.arch, EncoderConfig(**cfg, pad_taps="masked")).double()
    masked.load_state_dict(zeros.state_dict())
    states_z, states_m = zeros.node_states(w), masked.node_states(w)
    for a, b in zip(states_z[:-1], states_m[:-1]):  # conv layers: every tap is real
        torch.testing.assert_close(a, b)
    assert not torch.allclose(states_z[-1], states_m[-1])  # the dense layer differs
    with torch.no_grad():  # and a zero edge-lin bias makes them equal again
        for m in (zeros, masked):
            m.layers[0][len(w.arch.layers) - 1].edge_lin.bias.zero_()
    torch.testing.assert_close(zeros.node_states(w)[-1], masked.node_states(w)[-1])
