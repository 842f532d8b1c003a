"""Probe features: what they compute, and that they reach the models' outputs."""

import pytest
import torch

from conftest import random_mlp
from dng.errors import ShapeError
from dng.models import create
from dng.models.probes import ProbeFeatures, probe_points
from dng.zoo.siren import SirenSpec, render


def test_probe_points_are_fixed_and_spread():
    a, b = probe_points(64, 2), probe_points(64, 2)
    assert torch.equal(a, b) and a.shape == (64, 2)
    assert a.min() >= -1 and a.max() <= 1
    # low discrepancy: every quadrant holds a quarter of the points
    quadrants = (a[:, 0] > 0).long() * 2 + (a[:, 1] > 0).long()
    assert torch.bincount(quadrants, minlength=4).tolist() == [16, 16, 16, 16]


def test_output_features_are_the_inr_at_the_probes():
    """For a SIREN, the output layer's post-activation features are its rendering at the
    probe coordinates; the input features are the coordinates themselves."""
    spec = SirenSpec.for_image(3, (16, 16))
    w = random_mlp(spec.layer_sizes, batch=4, seed=3, dtype=torch.float64)
    probe = ProbeFeatures(10, 2, omega=spec.first_omega).double()
    feats = probe(w)
    assert [tuple(f.shape) for f in feats] == [(2, 10), (4, 16, 10), (4, 16, 10), (4, 3, 10)]
    torch.testing.assert_close(feats[0], probe.points.T)
    assert feats[-1].dtype == torch.float64
    # render at arbitrary coordinates: (1, N, 2) → (B, C, N, 1) laid out as H=N, W=1
    out = render(w, spec, 10, 1, coords=probe.points[None])
    torch.testing.assert_close(feats[-1], out[..., 0], atol=1e-10, rtol=1e-10)


def test_pre_activation_mode():
    w = random_mlp((2, 5, 1), batch=2, seed=1)
    post = ProbeFeatures(4, 2, omega=30.0, mode="post")(w)
    pre = ProbeFeatures(4, 2, omega=30.0, mode="pre")(w)
    torch.testing.assert_close(torch.sin(pre[1]), post[1])  # sine layer: the sine's argument
    torch.testing.assert_close(pre[2], post[2])  # linear output layer: the same


def test_probes_change_the_output_and_keep_gradients():
    torch.manual_seed(0)
    sizes = (2, 8, 8, 1)
    w = random_mlp(sizes, batch=3)
    model = create("dng-encoder", sizes, num_classes=4, emb_dim=16, fourier_dim=8, probes=8)
    out = model(w)
    out.sum().backward()
    assert model.encoder.probe_lins[0][-1].weight.grad.abs().sum() > 0
    assert model.encoder.probe_input.weight.grad.abs().sum() > 0
    # two INRs that differ only in the output bias: probe features see the shifted image
    w2 = w.map(lambda t: t.clone())
    w2.biases[-1].add_(0.5)
    model.eval()
    with torch.no_grad():
        assert (model(w) - model(w2)).abs().max() > 1e-4


def test_probes_zero_is_the_paper_model():
    """``probes=0`` builds exactly the parameters the model had before probes existed (the
    reference fixtures check the numbers)."""
    sizes = (2, 8, 8, 1)
    torch.manual_seed(0)
    a = create("encoder", sizes, emb_dim=16, fourier_dim=8)
    keys = set(a.state_dict())
    assert not any("probe" in k for k in keys)
    torch.manual_seed(0)
    b = create("encoder", sizes, emb_dim=16, fourier_dim=8, probes=4)
    assert {k for k in b.state_dict() if "probe" not in k} == keys


@pytest.mark.parametrize("bad", [dict(probes=-1), dict(probes=4, probe_mode="mid"),
                                 dict(probes=4, probe_omega=0.0)])
def test_bad_probe_settings_are_one_clear_error(bad):
    with pytest.raises(ShapeError, match="probe"):
        create("encoder", (2, 8, 1), emb_dim=16, fourier_dim=8, **bad)
