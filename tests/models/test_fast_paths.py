"""Every fast path of the DNG-Encoder and the latent generator equals the plain math, with and
without gradients: the fused InputLin·GRU map, the no-grad cache-sized message groups, the
token-part cache."""

import pytest
import torch

from conftest import random_mlp
from dng.models import create
from dng.models.layers import FourierFeatures


def _plain_encoder(model, w):
    """The encoder's equations written out directly (no fusion, no chunking, no caches)."""
    cfg = model.config
    h = model.input_init_node.expand(w.batch_size, -1, -1)
    gamma = model.fourier
    for layer, W, b in zip(model.layers[0], w.weights, w.biases):
        e = torch.nn.functional.linear(gamma(W), layer.edge_lin.weight, layer.edge_lin.bias)
        m = (e * layer.node_lin(h).unsqueeze(1)).sum(2)
        if cfg.aggregation == "mean":
            m = m / W.shape[-1]
        x = layer.input_lin(gamma(b))
        cell = model.cells[0]
        gx, gh = cell.input_map(x), cell.hidden_map(m)
        h = layer.norm(cell.update(gx, gh, m))
    return h.flatten(1)


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("aggregation", ["sum", "mean"])
def test_encoder_fast_paths_equal_the_plain_math(fuse, grad, aggregation):
    torch.manual_seed(0)
    sizes = (2, 9, 7, 3)
    model = create("encoder", sizes, emb_dim=16, fourier_dim=8, fuse_input=fuse,
                   aggregation=aggregation).double().eval()
    for layer in model.layers[0]:
        layer.inference_chunk = 2  # several groups over a batch of 5
    w = random_mlp(sizes, batch=5, dtype=torch.float64)
    with torch.set_grad_enabled(grad):
        fast = model(w)
        plain = _plain_encoder(model, w)
    torch.testing.assert_close(fast, plain, atol=1e-10, rtol=1e-10)
    if grad:  # and the gradients agree too
        g1 = torch.autograd.grad(fast.sum(), model.input_init_node)[0]
        g2 = torch.autograd.grad(_plain_encoder(model, w).sum(), model.input_init_node)[0]
        torch.testing.assert_close(g1, g2, atol=1e-10, rtol=1e-10)


def test_fourier_project_equals_linear_of_features():
    f = FourierFeatures(8, 3.0).double()
    x = torch.randn(4, 5, dtype=torch.float64)
    W, c = torch.randn(6, 16, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    torch.testing.assert_close(f.project(x, W, c), torch.nn.functional.linear(f(x), W, c))


@pytest.mark.parametrize("grad", [True, False])
def test_latent_generator_cache_equals_the_plain_math(grad):
    torch.manual_seed(0)
    model = create("inr2jls", (2, 8, 1), image_shape=(1, 8, 8), emb_dim=16, fourier_dim=8,
                   latent_dim=8).double().eval()
    gen = model.generator
    r = torch.randn(3, gen.fusion[0].in_features - gen.token_dim, dtype=torch.float64)
    tok = gen.tokens.unsqueeze(0).expand(3, -1, -1)
    plain = gen.fusion(torch.cat([tok, r.unsqueeze(1).expand(-1, tok.shape[1], -1)], -1))
    with torch.set_grad_enabled(grad):
        a = gen(r)
        b = gen(r)  # second call: from the cache when no gradient is needed
    torch.testing.assert_close(a, plain, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(b, plain, atol=1e-12, rtol=1e-12)
