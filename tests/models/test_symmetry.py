"""Permuting hidden neurons changes nothing: encoder readout, latents, logits, NG-GNN."""

import pytest
import torch

from conftest import random_hidden_perms, random_mlp
from dng.models import create

SHAPES = [(2, 8, 1), (2, 7, 5, 3), (2, 6, 9, 4, 1)]


def _check(model, sizes, fn, seed=0, dtype=torch.float32):
    model.eval()
    w = random_mlp(sizes, batch=3, seed=seed, dtype=dtype)
    p = w.permute_hidden(random_hidden_perms(sizes, 3, seed + 1))
    with torch.no_grad():
        a, b = fn(model, w), fn(model, p)
    assert a.abs().max() > 0
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("sizes", SHAPES)
@pytest.mark.parametrize("cell, aggregation", [("gru", "sum"), ("rnn", "sum"), ("gru", "mean")])
def test_encoder_invariant(sizes, cell, aggregation):
    torch.manual_seed(0)
    model = create("encoder", sizes, emb_dim=32, fourier_dim=8, cell=cell, passes=2,
                   aggregation=aggregation)
    _check(model, sizes, lambda m, w: m(w))


@pytest.mark.parametrize("sizes", SHAPES)
def test_encoder_invariant_with_embeddings(sizes):
    torch.manual_seed(0)
    model = create("encoder", sizes, emb_dim=16, fourier_dim=8, positional_embedding=True,
                   activation_embedding=True)
    _check(model, sizes, lambda m, w: m(w))


@pytest.mark.parametrize("sizes", [(2, 8, 1), (2, 7, 5, 3)])
def test_inr2jls_latent_and_logits_invariant(sizes):
    torch.manual_seed(0)
    C = sizes[-1]
    model = create("inr2jls", sizes, image_shape=(C, 8, 8), emb_dim=16, fourier_dim=8,
                   latent_dim=8)
    _check(model, sizes, lambda m, w: m.encode(w))
    clf = create("inr2jls-classifier", sizes, num_classes=4, backbone=model)
    _check(clf, sizes, lambda m, w: m.predict(w))


@pytest.mark.parametrize("sizes", SHAPES)
def test_dng_encoder_classifier_invariant(sizes):
    torch.manual_seed(0)
    _check(create("dng-encoder", sizes, num_classes=5, emb_dim=16, fourier_dim=8), sizes,
           lambda m, w: m(w))


@pytest.mark.parametrize("sizes", SHAPES)
def test_ng_gnn_lite_invariant(sizes):
    torch.manual_seed(0)
    _check(create("ng-gnn-lite", sizes, num_classes=5, hidden=16, fourier_dim=8), sizes,
           lambda m, w: m(w))


def test_mlp_baseline_is_not_invariant():
    """Sanity check of the test itself: the flat MLP baseline does see permutations."""
    sizes = (2, 8, 1)
    torch.manual_seed(0)
    model = create("mlp", sizes, num_classes=5, hidden=16).eval()
    w = random_mlp(sizes, batch=3)
    p = w.permute_hidden(random_hidden_perms(sizes, 3))
    with torch.no_grad():
        assert (model(w) - model(p)).abs().max() > 1e-4


@pytest.mark.parametrize("sizes", SHAPES)
@pytest.mark.parametrize("mode", ["post", "pre"])
def test_encoder_invariant_with_probes(sizes, mode):
    torch.manual_seed(0)
    model = create("encoder", sizes, emb_dim=16, fourier_dim=8, passes=2, probes=8,
                   probe_mode=mode).double()
    # float64: sin(30 z) through random MLPs amplifies the rounding of re-ordered sums
    _check(model, sizes, lambda m, w: m(w), dtype=torch.float64)


@pytest.mark.parametrize("sizes", [(2, 8, 1), (2, 7, 5, 3)])
def test_inr2jls_invariant_with_probes(sizes):
    torch.manual_seed(0)
    model = create("inr2jls", sizes, image_shape=(sizes[-1], 8, 8), emb_dim=16, fourier_dim=8,
                   latent_dim=8, probes=6).double()
    _check(model, sizes, lambda m, w: m.encode(w), dtype=torch.float64)


@pytest.mark.parametrize("sizes", SHAPES)
def test_ng_gnn_lite_invariant_with_probes(sizes):
    torch.manual_seed(0)
    _check(create("ng-gnn-lite", sizes, num_classes=5, hidden=16, fourier_dim=8, probes=8).double(),
           sizes, lambda m, w: m(w), dtype=torch.float64)
