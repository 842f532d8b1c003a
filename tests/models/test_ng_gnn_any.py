"""NG-GNN (PyG) on CNNs, mixed CNNs with residual connections and ViTs: the graph's edges are
the blocks' (both directions, plus residual pairs), and renumbering hidden nodes changes
nothing."""

import pytest
import torch

pytest.importorskip("torch_geometric", reason="NG-GNN needs the baselines extra")

from dng.arch import Arch  # noqa: E402
from dng.graph.blocks import block_graph, in_degrees  # noqa: E402
from dng.mixed import MixedNets  # noqa: E402
from dng.models import create  # noqa: E402
from dng.packed import PackedNets, residual_pairs  # noqa: E402
from dng.vit import ViTSpec  # noqa: E402
from dng.zoo.cnnfit import draw_hypers, init_cnns  # noqa: E402
from dng.zoo.parkbuild import draw_park_net, init_park  # noqa: E402
from dng.zoo.vitfit import init_vits  # noqa: E402

TINY = {"layers": (2, 3), "channels": (2, 4), "kernels": (3, 5),
        "activations": ("relu", "tanh", "gelu"), "lr": (1e-3, 1e-3)}
SMALL = dict(hidden=8, fourier_dim=4, layers=2, dropout=0.0)


def _park(n):
    archs = [draw_park_net(i, 0, 3, 4, TINY)[0] for i in range(n)]
    return [init_park(a, [i], 0).to(torch.float64) for i, a in enumerate(archs)]


def test_block_graph_of_a_cnn():
    arch = Arch.cnn(1, (3, 4), kernels=3, dense=(2,))
    w = init_cnns(arch, draw_hypers(torch.arange(2), 0), torch.arange(2), 0)
    g = block_graph(w)
    assert g.sizes == arch.sizes and [e.shape[-1] for e in g.edges] == [9, 9, 1]
    torch.testing.assert_close(g.edges[0], w.taps(0))
    assert g.edge_mask[2].tolist() == [[True]] * 2  # the dense layer: one real tap
    assert g.nodes.shape == (2, sum(arch.sizes), 1) and not g.node_mask[0, :1].any()


def test_degrees_count_both_directions_and_residuals():
    assert in_degrees((2, 3, 1)).tolist() == [3, 3, 3, 3, 3, 3]
    assert in_degrees((2, 3, 1), [(0, 5)]).tolist() == [4, 3, 3, 3, 3, 4]


def test_mixed_cnns_invariant_and_residuals_matter():
    ws = _park(6)
    mixed = MixedNets.from_nets(ws)
    torch.manual_seed(0)
    model = create("ng-gnn", mixed.arch, num_classes=1, **SMALL).double().eval()
    out = model(mixed)
    assert out.shape == (6, 1) and torch.isfinite(out).all()
    with_res = next(i for i, w in enumerate(ws) if residual_pairs(w.arch))
    p = PackedNets.pack([ws[with_res]])
    perms = [torch.randperm(n, generator=torch.Generator().manual_seed(1))
             for n in p.layer_sizes[1:-1]]
    torch.testing.assert_close(model(p.permute_hidden(perms)), out[with_res:with_res + 1],
                               atol=1e-10, rtol=0)
    no_res = PackedNets(p.taps, p.biases, p.tap_mask, p.act, p.res_index,
                        torch.zeros_like(p.res_mask), p.archs)
    assert not torch.allclose(model(no_res), model(p))  # residual edges are in the graph


def test_vits_invariant_to_heads_and_mlp_units():
    spec = ViTSpec(image_size=8, patch_size=4, num_classes=3, dim=8, depth=1, heads=2,
                   mlp_dim=6, dim_head=4)
    w = init_vits(spec, torch.arange(3), 0).to(torch.float64)
    torch.manual_seed(0)
    model = create("ng-gnn", spec, num_classes=2, **SMALL).double().eval()
    q = w.permute_hidden(mlp=[torch.randperm(6)], heads=[torch.tensor([1, 0])])
    torch.testing.assert_close(model(q), model(w), atol=1e-10, rtol=0)


def test_cnn_invariant_to_hidden_channels():
    arch = Arch.cnn(1, (3, 4), kernels=3, dense=(2,))
    w = init_cnns(arch, draw_hypers(torch.arange(3), 0), torch.arange(3), 0).to(torch.float64)
    torch.manual_seed(0)
    model = create("ng-gnn", arch, num_classes=1, **SMALL).double().eval()
    q = w.permute_hidden([torch.tensor([2, 0, 1]), torch.tensor([3, 1, 0, 2])])
    torch.testing.assert_close(model(q), model(w), atol=1e-10, rtol=0)
