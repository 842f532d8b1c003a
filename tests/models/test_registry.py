"""Every registered model: forward + backward on a tiny batch; bad input gives one clear error."""

import pytest
import torch

from conftest import random_mlp
from dng.errors import ConfigError, ShapeError
from dng.models import available, create
from dng.weights import MLPWeights

SIZES = (2, 8, 8, 1)
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _build(name):
    small = dict(emb_dim=16, fourier_dim=8)
    if name == "encoder":
        return create(name, SIZES, **small)
    if name == "inr2jls":
        return create(name, SIZES, image_shape=(1, 8, 8), latent_dim=8, **small)
    if name == "inr2inr":
        return create(name, SIZES, image_shape=(1, 8, 8), hidden=16, **small)
    if name == "inr2jls-classifier":
        return create(name, SIZES, num_classes=3, image_shape=(1, 8, 8), latent_dim=8, **small)
    if name == "dng-encoder":
        return create(name, SIZES, num_classes=3, **small)
    if name in ("ng-gnn", "ng-gnn-lite"):
        return create(name, SIZES, num_classes=3, hidden=16, fourier_dim=8)
    if name == "inr-editor":
        return create(name, SIZES, image_shape=(1, 8, 8), hidden=8, **small)
    if name in ("nfn-editor", "mlp-image"):
        return create(name, SIZES, image_shape=(1, 8, 8), hidden=8)
    if name == "statnn":  # a regressor fitted once: fit it on random networks
        return create(name, SIZES, num_classes=1, max_iter=5).fit(
            random_mlp(SIZES, batch=16, seed=5), torch.randn(16))
    return create(name, SIZES, num_classes=3, hidden=16)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", available())
def test_forward_backward(name, device):
    torch.manual_seed(0)
    model = _build(name).to(device).train()
    w = random_mlp(SIZES, batch=4).to(device)
    out = model(w)
    assert torch.isfinite(out).all()
    if name == "statnn":  # no gradients: fitted by gradient boosting
        assert out.shape == (4, 1)
        return
    if name in ("inr2jls", "inr2inr"):
        loss = model.loss(w, torch.rand(4, 1, 8, 8, device=device) * 2 - 1)
    else:
        loss = out.float().pow(2).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    if name == "inr2jls-classifier":  # the backbone stays frozen
        assert all(p.grad is None for p in model.backbone.parameters())


@pytest.mark.parametrize("name", available())
def test_wrong_mlp_shape_raises(name):
    model = _build(name)
    with pytest.raises(ShapeError):
        model(random_mlp((3, 8, 8, 1), batch=2))
    with pytest.raises(ShapeError):
        model(random_mlp((2, 8, 2), batch=2))


def test_unknown_model():
    with pytest.raises(ConfigError, match="unknown model 'nope'; available"):
        create("nope", SIZES)


def test_inr2jls_rejects_bad_images():
    with pytest.raises(ShapeError, match="divisible by 4"):
        create("inr2jls", SIZES, image_shape=(1, 10, 10))
    with pytest.raises(ShapeError, match="channels"):
        create("inr2jls", SIZES, image_shape=(3, 8, 8))
    model = _build("inr2jls")
    with pytest.raises(ShapeError, match="images"):
        model.loss(random_mlp(SIZES, 2), torch.zeros(2, 1, 12, 12))


def test_non_weights_input_raises():
    with pytest.raises(ShapeError, match="expected MLPWeights"):
        _build("encoder")(torch.zeros(2, 10))


def test_nan_weights_rejected_before_the_model():
    w = random_mlp(SIZES, 2)
    bad = [t.clone() for t in w.biases]
    bad[0][0, 0] = float("inf")
    with pytest.raises(ShapeError, match="NaN or Inf"):
        MLPWeights.from_layers(w.weights, bad)


def test_passes_two_with_d_not_2f_runs():
    """The reference crashes here; we feed the previous pass's states (width D)."""
    model = create("encoder", SIZES, emb_dim=24, fourier_dim=8, passes=3)
    assert model.layers[1][0].input_lin.in_features == 24
    assert model(random_mlp(SIZES, 2)).shape == (2, 24)
