"""Numerical equality with the reference implementation (fixtures described in FORMAT.md)."""

import pytest
import torch

from dng.compat.official import (dng_classifier_from_official, encoder_from_official,
                                 inr2jls_from_official, latent_classifier_from_official,
                                 mlp_weights_from_state_dicts, official_inputs_to_weights,
                                 weights_to_official_inputs)
from dng.models import image_views


def _weights(d, dtype=torch.float32, device="cpu"):
    return official_inputs_to_weights(d["inputs_e"], d["inputs_b"], d["config"]["act_num"]).to(
        device=device, dtype=dtype)


def _close(actual, expected, **tol):
    torch.testing.assert_close(actual.cpu(), expected, **tol)


@pytest.mark.parametrize("name", ["siren_mnist_inrs.pt", "siren_cifar_inrs.pt"])
def test_state_dicts_give_reference_graph_inputs(load_fixture, name):
    d = load_fixture(name)
    w = mlp_weights_from_state_dicts(d["state_dicts"])
    e, b = weights_to_official_inputs(w)
    assert torch.equal(e, d["graph_e"]) and torch.equal(b, d["graph_b"])
    assert list(w.layer_sizes[:-1]) == d["act_num"][:3]


def test_siren_views_match_reference(load_fixture):
    for name in ["siren_mnist_inrs.pt", "siren_cifar_inrs.pt"]:
        d = load_fixture(name)
        assert torch.equal(image_views(d["images_normalized"]), d["target_views"])


@pytest.mark.parametrize("fuse", [True, False])
def test_encoder(load_fixture, fuse, dev):
    d = load_fixture("encoder_mnist.pt")
    enc = encoder_from_official(d["state_dict"], d["config"]).to(dev)
    for layers in enc.layers:
        for layer in layers:
            layer.fuse_input = fuse
    with torch.no_grad():
        w = _weights(d, device=dev)
        states = enc.node_states(w)
        out = enc(w)
        _close(out, d["output"], atol=2e-5, rtol=0)
        dbg = d["debug_first2"]
        _close(enc.fourier(w.weights[0][0].T.reshape(-1)), dbg["fourier_e_sample0"][:64],
               atol=1e-6, rtol=0)
        for i, s in enumerate(states):
            _close(s[:2], dbg[f"node_state_after_layernorm_pass0_layer{i}"], atol=2e-5, rtol=0)
        enc64 = enc.double()
        out64 = enc64(_weights(d, torch.float64, dev))
    _close(out64, d["output_f64"], atol=1e-10, rtol=0)


def test_inr2jls(load_fixture, dev):
    d = load_fixture("inr2jls_mnist.pt")
    model = inr2jls_from_official(d["state_dict"], d["config"]).to(dev)
    with torch.no_grad():
        w = _weights(d, device=dev)
        _close(model.encoder(w), d["encoder_readout"], atol=2e-5, rtol=0)
        latent = model.encode(w)
        _close(latent, d["latent"], atol=1e-5, rtol=0)
        recon = model(w).cpu()
        _close(recon, d["recon"], atol=1e-5, rtol=0)
        loss = torch.nn.functional.mse_loss(recon, d["target_views"])
        _close(loss, d["mse_loss_recon_vs_views"], atol=1e-6, rtol=1e-5)
        m64 = model.double()
        w64 = _weights(d, torch.float64, dev)
        _close(m64.encode(w64), d["latent_f64"], atol=1e-10, rtol=0)
        _close(m64(w64), d["recon_f64"], atol=1e-10, rtol=0)


def test_latent_classifier(load_fixture, dev):
    d = load_fixture("classifier_mnist.pt")
    head = latent_classifier_from_official(d["state_dict"], d["config"]).to(dev)
    x = d["input_latent"].to(dev)
    with torch.no_grad():
        _close(head(x), d["logits_per_view"], atol=1e-5, rtol=0)
        summed = head.predict(x).cpu()
        _close(summed, d["logits_view_sum"], atol=1e-5, rtol=0)
        assert torch.equal(summed.argmax(1), d["pred"])
        h64 = head.double()
        _close(h64(x.double()), d["logits_per_view_f64"], atol=1e-10, rtol=0)


def test_encoder_only_classifier(load_fixture, dev):
    d = load_fixture("dng_classifier_mnist.pt")
    model = dng_classifier_from_official(d["state_dict"], d["config"]).to(dev)
    with torch.no_grad():
        _close(model(_weights(d, device=dev)), d["logits"], atol=1e-5, rtol=0)
        m64 = model.double()
        _close(m64(_weights(d, torch.float64, dev)), d["logits_f64"], atol=1e-10, rtol=0)
