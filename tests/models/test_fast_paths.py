"""Every speed option of the DNG-Encoder and the latent generator equals the plain path (all
options off: the equations as written, ``plain_forward``), with and without gradients —
outputs and the gradients of every parameter."""

import itertools

import pytest
import torch

from conftest import random_mlp
from dng.models import create
from dng.models.layers import FourierFeatures

OPTIONS = list(itertools.product([True, False], [0, 2], [True, False]))  # fuse, chunk, cached


def _encoder(sizes, fuse, chunk, cached, aggregation="sum", passes=1):
    torch.manual_seed(0)
    return create("encoder", sizes, emb_dim=16, fourier_dim=8, passes=passes,
                  aggregation=aggregation, fuse_input=fuse, inference_chunk=chunk,
                  cached=cached).double()


def _grads(model, out):
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.autograd.grad(out.pow(2).sum(), params)


@pytest.mark.parametrize("fuse, chunk, cached", OPTIONS)
@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("aggregation", ["sum", "mean"])
def test_encoder_speed_options_equal_the_plain_path(fuse, chunk, cached, grad, aggregation):
    sizes = (2, 9, 7, 3)
    fast = _encoder(sizes, fuse, chunk, cached, aggregation, passes=2).eval()
    plain = _encoder(sizes, False, 0, False, aggregation, passes=2).eval()
    plain.load_state_dict(fast.state_dict())
    w = random_mlp(sizes, batch=5, dtype=torch.float64)  # 5 INRs: groups of 2, 2 and 1
    with torch.set_grad_enabled(grad):
        a, a2, b = fast(w), fast(w), plain(w)  # a2: from the caches when they apply
    torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(a2, b, atol=1e-10, rtol=1e-10)
    if grad:
        for ga, gb in zip(_grads(fast, fast(w)), _grads(plain, plain(w))):
            torch.testing.assert_close(ga, gb, atol=1e-9, rtol=1e-9)


def test_plain_forward_is_what_forward_runs_with_every_option_off(monkeypatch):
    model = _encoder((2, 5, 1), False, 0, False)
    calls = []
    layer = model.layers[0][0]
    monkeypatch.setattr(type(layer), "message", lambda *a, **k: calls.append("fast"))
    model(random_mlp((2, 5, 1), batch=2, dtype=torch.float64))
    assert calls == []  # the optimised message never ran


def test_cache_follows_parameter_updates():
    """A cached fused map is rebuilt once an optimiser step changes the parameters."""
    sizes = (2, 6, 1)
    model = _encoder(sizes, True, 2, True).eval()
    w = random_mlp(sizes, batch=3, dtype=torch.float64)
    with torch.no_grad():
        before = model(w)
        model.layers[0][0].input_lin.weight.add_(0.1)  # in place: same tensor, new version
        after = model(w)
    plain = _encoder(sizes, False, 0, False).eval()
    plain.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(after, plain(w), atol=1e-10, rtol=1e-10)
    assert not torch.allclose(before, after)


def test_fourier_project_equals_linear_of_features():
    f = FourierFeatures(8, 3.0).double()
    x = torch.randn(4, 5, dtype=torch.float64)
    W, c = torch.randn(6, 16, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    torch.testing.assert_close(f.project(x, W, c), torch.nn.functional.linear(f(x), W, c))


@pytest.mark.parametrize("chunk, cached", [(2, True), (0, True), (2, False), (0, False)])
@pytest.mark.parametrize("grad", [True, False])
def test_latent_generator_speed_options_equal_the_plain_path(chunk, cached, grad):
    torch.manual_seed(0)
    model = create("inr2jls", (2, 8, 1), image_shape=(1, 8, 8), emb_dim=16, fourier_dim=8,
                   latent_dim=8).double().eval()
    gen = model.generator
    gen.inference_chunk, gen.cached = chunk, cached
    r = torch.randn(5, gen.fusion[0].in_features - gen.token_dim, dtype=torch.float64)
    with torch.set_grad_enabled(grad):
        a, b, plain = gen(r), gen(r), gen.plain_forward(r)  # b: from the cache if it applies
    torch.testing.assert_close(a, plain, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(b, plain, atol=1e-12, rtol=1e-12)
    if grad:
        for ga, gb in zip(_grads(gen, gen(r)), _grads(gen, gen.plain_forward(r))):
            torch.testing.assert_close(ga, gb, atol=1e-10, rtol=1e-10)
