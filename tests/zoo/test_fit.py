import pytest
import torch

from dng.errors import ConfigError, ShapeError
from dng.weights import MLPWeights
from dng.zoo import FitRecipe, SirenSpec, fit_sirens, init_siren, render
from dng.zoo.fit import _SirenProblem, psnr


@pytest.mark.parametrize("hidden, C", [((32, 32), 1), ((6, 5, 4), 3)])
def test_handwritten_gradients_equal_autograd(hidden, C):
    spec = SirenSpec(2, hidden, C, 30.0, 30.0)
    w = init_siren(spec, 3, torch.Generator().manual_seed(0)).to(dtype=torch.float64)
    y = torch.rand(3, C, 7, 9, dtype=torch.float64) * 2 - 1
    mse, gw, gb = _SirenProblem(spec, y).loss_and_grads(list(w.weights), list(w.biases))
    ws = [t.clone().requires_grad_() for t in w.weights]
    bs = [t.clone().requires_grad_() for t in w.biases]
    loss = (render(MLPWeights(ws, bs, spec.activations), spec, 7, 9) - y).pow(2).mean((1, 2, 3))
    torch.testing.assert_close(loss, mse)
    loss.sum().backward()
    for p, g in zip(ws + bs, gw + gb):
        torch.testing.assert_close(p.grad, g, atol=1e-12, rtol=1e-9)


def test_render_matches_plain_siren_module():
    spec = SirenSpec.for_image(1)
    w = init_siren(spec, 2, torch.Generator().manual_seed(1))
    net = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip((2, 32, 32), (32, 32, 1)))
    with torch.no_grad():
        for l, lin in enumerate(net):
            lin.weight.copy_(w.weights[l][1])
            lin.bias.copy_(w.biases[l][1])
        lin = torch.linspace(-1, 1, 5)
        x = torch.stack(torch.meshgrid(lin, lin, indexing="ij"), -1).reshape(-1, 2)
        h = torch.sin(30 * net[0](x))
        h = torch.sin(30 * net[1](h))
        ref = net[2](h).reshape(5, 5)
        torch.testing.assert_close(render(w, spec, 5, 5)[1, 0], ref, atol=1e-5, rtol=1e-5)


def test_init_follows_siren_bounds():
    spec = SirenSpec.for_image(1)
    w = init_siren(spec, 64, torch.Generator().manual_seed(0))
    assert w.weights[0].abs().max() <= 1 / 2
    assert w.weights[1].abs().max() <= (6 / 32) ** 0.5 / 30
    assert w.weights[0].std() > 0.2  # each INR its own draw, not one copied
    assert not torch.equal(w.weights[1][0], w.weights[1][1])


def test_fitting_reaches_high_psnr_on_a_smooth_image():
    spec = SirenSpec.for_image(1)
    lin = torch.linspace(-1, 1, 16)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    img = torch.stack([torch.sin(2 * xx) * yy, xx * yy])[:, None]  # 2 images
    w, p = fit_sirens(img, spec, FitRecipe.named("fast", steps=60),
                      torch.Generator().manual_seed(0))
    assert p.shape == (2,) and (p > 35).all()
    rec = render(w, spec, 16, 16)
    mse = (rec - img).pow(2).mean((1, 2, 3))
    torch.testing.assert_close(10 * torch.log10(4 / mse), p, atol=1e-3, rtol=0)


def test_fit_rejects_bad_targets():
    spec = SirenSpec.for_image(1)
    with pytest.raises(ShapeError, match="channels"):
        fit_sirens(torch.zeros(2, 3, 8, 8), spec)
    bad = torch.zeros(2, 1, 8, 8)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ShapeError, match="NaN"):
        fit_sirens(bad, spec)


def test_named_recipes():
    assert FitRecipe() == FitRecipe.named("reference")  # the default is the reference's
    assert FitRecipe.named("reference").to_dict() == {"steps": 300, "lr": 1e-3,
                                                      "schedule": "constant", "chunk": 32}
    fast = FitRecipe.named("fast", steps=None, chunk=8)  # None = keep the recipe's value
    assert (fast.steps, fast.lr, fast.schedule, fast.chunk) == (70, 1.2e-2, "cosine", 8)
    assert fast.lr_at(0) == 1.2e-2 and fast.lr_at(70) < 1e-9
    assert FitRecipe().lr_at(0) == FitRecipe().lr_at(299) == 1e-3
    with pytest.raises(ConfigError, match="unknown fit recipe 'slow'"):
        FitRecipe.named("slow")


def test_dwsnets_init_and_fitting_in_their_output_range():
    """DWSNets' INR: sine layers U(±√(6/n)/ω) with zero biases, the output Linear PyTorch's
    default; fitted so that ``last Linear + 0.5`` is the image in [0, 1]."""
    from dng.zoo.fit import fit_sirens, recipe_spec
    from dng.zoo.siren import init_siren, render

    spec = recipe_spec("dwsnets", 1, (16, 16))
    w = init_siren(spec, 64, torch.Generator().manual_seed(0))
    assert float(w.weights[0].abs().max()) <= (6 / 2) ** 0.5 / 30
    assert float(w.biases[0].abs().max()) == 0 == float(w.biases[1].abs().max())
    assert float(w.weights[2].abs().max()) > 0.1 and float(w.biases[2].abs().max()) > 0.1
    img = torch.rand(4, 1, 8, 8) * 2 - 1
    fitted, p = fit_sirens(img, spec, FitRecipe(steps=200, lr=1e-3))
    torch.testing.assert_close(p, psnr(render(fitted, spec, 8, 8), img), rtol=1e-4, atol=1e-3)
    assert float(p.mean()) > 15  # fitted in its own range, PSNR the same in [-1, 1]
