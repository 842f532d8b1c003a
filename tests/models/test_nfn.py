"""The NFN baseline from the nfn package: invariance, conversion, forward/backward, learning."""

import pytest
import torch

from conftest import random_hidden_perms, random_mlp
from dng.models import create

pytest.importorskip("nfn", reason='the nfn baseline needs pip install "dng[baselines]"')


@pytest.mark.parametrize("mode", ["hnp", "np"])
def test_nfn_is_invariant_to_hidden_permutations(mode):
    torch.manual_seed(0)
    sizes = (2, 8, 6, 3)
    model = create("nfn", sizes, num_classes=4, hidden=8, mode=mode).double().eval()
    w = random_mlp(sizes, batch=3, dtype=torch.float64)
    p = w.permute_hidden(random_hidden_perms(sizes, 3))
    with torch.no_grad():
        a, b = model(w), model(p)
    assert a.abs().max() > 0
    torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_wsfeat_round_trip_and_backward(dev):
    from dng.interop import from_nfn as from_wsfeat, to_nfn as to_wsfeat

    w = random_mlp((2, 8, 1), batch=2)
    back = from_wsfeat(to_wsfeat(w), w.activations)
    assert all(torch.equal(a, b) for a, b in zip(back.weights, w.weights))
    model = create("nfn", (2, 8, 1), num_classes=3, hidden=8).to(dev)
    model(w.to(dev)).sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_nfn_trains_from_the_cli_on_a_separable_zoo(separable_zoo, tmp_path):
    from dng.cli import main
    from dng.eval import evaluate_run

    assert main(["train", "--zoo", str(separable_zoo), "--out", str(tmp_path / "r"),
                 "--model", "nfn", "--steps", "120", "--eval-every", "40", "--batch-size", "16",
                 "--hidden", "16", "--dropout", "0", "--device", "cpu"]) == 0
    assert evaluate_run(tmp_path / "r", progress=False)["test_accuracy"] >= 0.7


@pytest.mark.parametrize("mode", ["hnp", "np"])
def test_nfn_on_cnns_is_invariant_to_hidden_channels(mode):
    """Conv kernels enter as nfn's (B, 1, n_out, n_in, k_h, k_w) weights; permuting hidden
    channels changes nothing."""
    from dng.arch import Arch
    from dng.zoo.cnnfit import draw_hypers, init_cnns

    arch = Arch.cnn(1, (3, 4), kernels=3, dense=(2,))
    w = init_cnns(arch, draw_hypers(torch.arange(3), 0), torch.arange(3), 0).to(torch.float64)
    torch.manual_seed(0)
    model = create("nfn", arch, num_classes=1, hidden=4, fourier_dim=4, mode=mode)
    model = model.double().eval()
    q = w.permute_hidden([torch.tensor([2, 0, 1]), torch.tensor([3, 1, 0, 2])])
    with torch.no_grad():
        a = model(w)
        torch.testing.assert_close(model(q), a, atol=1e-10, rtol=1e-10)
        assert not torch.allclose(a[0], a[1])  # and it reads the weights
