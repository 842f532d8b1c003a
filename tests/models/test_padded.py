"""One padded batch of networks of any node counts and depths equals the same networks run in
buckets of equal node counts (the DNG-Encoder of mixed zoos)."""

import torch

from dng.mixed import MixedNets
from dng.models import DNGEncoder
from dng.arch import Arch, Layer
from dng.padded import PaddedNets
from dng.zoo.parkbuild import draw_park_net, init_park

RANGES = {"layers": (2, 4), "channels": (2, 3, 5), "kernels": (3, 5),
          "activations": ("relu", "tanh", "gelu", "sigmoid"), "lr": (1e-3, 1e-3)}


def _nets(n, seed=0):
    return [init_park(draw_park_net(i, seed, 3, 4, RANGES)[0], [i], seed).to(torch.float64)
            for i in range(n)]


def _encoder(**kw):
    torch.manual_seed(0)
    cfg = dict(message="heads", heads=25, pad_taps="masked", layer_activation_embedding=True,
               shared_layers=True, residual_messages=True, emb_dim=8, fourier_dim=4, att_dim=2)
    return DNGEncoder(Arch((Layer(3, 4),), "any depth"), **{**cfg, **kw}).double().eval()


def test_layout():
    nets = _nets(10)
    m = MixedNets.from_nets(nets)
    p = PaddedNets.from_mixed(m)
    L = max(len(n.arch.layers) for n in nets)
    assert p.num_layers == L and p.layer_sizes[0] == 3 and p.layer_sizes[-1] == 4
    for b, n in enumerate(nets):
        k = len(n.arch.layers)
        assert p.carry[b].tolist() == [False] * (k - 1) + [True] * (L - k) + [False]
        last = n.taps(k - 1)  # the output layer sits last, reading position L-1
        torch.testing.assert_close(p.taps[L - 1][b, :, :last.shape[2], :last.shape[3]], last[0])
        assert int(p.node_mask[L - 1][b].sum()) == n.arch.sizes[k - 1]
    assert any(len(n.arch.layers) < L for n in nets)  # the test covers carried layers
    assert p.res_mask.any()  # and residuals


def test_padded_equals_buckets():
    nets = _nets(12)
    m = MixedNets.from_nets(nets)
    for passes in (1, 2):
        kw = dict(passes=passes, emb_dim=8) if passes == 1 else dict(passes=2, emb_dim=8)
        enc = _encoder(**kw)
        buckets = enc(m)
        enc.config.mixed_batches = "padded"
        torch.testing.assert_close(enc(m), buckets, atol=1e-10, rtol=0)
    sub = m[[3, 1, 7]]  # any selection, in its order
    enc.config.mixed_batches = "buckets"
    want = enc(sub)
    enc.config.mixed_batches = "padded"
    torch.testing.assert_close(enc(sub), want, atol=1e-10, rtol=0)
