"""ng-gnn-lite on ViTs: the static neural graph holds every linear map where it belongs, and the
model is invariant to permutations of attention heads and MLP units."""

import torch

from dng.graph.vit_static import vit_neural_graph
from dng.models.ng_vit import NGGNNLiteViT
from dng.vit import ViTSpec
from dng.zoo.vitfit import init_vits

SPEC = ViTSpec(image_size=8, patch_size=4, num_classes=3, dim=8, depth=2, heads=2, mlp_dim=12,
               dim_head=4)


def test_graph_layout():
    w = init_vits(SPEC, torch.arange(3), 0)
    g = vit_neural_graph(w)
    s = SPEC
    assert g.sizes == (s.n0, 8, 8, 8, 12, 8, 8, 8, 12, 8, 3)
    assert g.nodes.shape == (3, sum(g.sizes), 5) and g.node_mask.shape == (sum(g.sizes), 5)
    assert g.channels == [1, 3, 1, 1, 1, 3, 1, 1, 1, 1]
    for l, e in enumerate(g.edges):
        assert e.shape == (3, g.sizes[l + 1], g.sizes[l], 3)
        assert not e[..., g.channels[l]:].any()
    qkv = w.block(1, "qkv")  # block 1's q, k, v rows of inner node j
    j = 5
    torch.testing.assert_close(g.edges[5][:, j], torch.stack(
        [qkv[:, j], qkv[:, s.inner + j], qkv[:, 2 * s.inner + j]], -1), rtol=0, atol=0)
    torch.testing.assert_close(g.edges[-1][..., 0], w.params["linear_head.weight"])
    # biases, norms and nothing else: column 0 of the head nodes is the head's bias
    torch.testing.assert_close(g.nodes[:, -3:, 0], w.params["linear_head.bias"])
    assert not g.node_mask[s.n0 + 8:s.n0 + 16].any()  # qkv outputs carry nothing
    assert (g.nodes * ~g.node_mask).abs().sum() == 0


def test_invariant_to_heads_and_mlp_units():
    torch.manual_seed(0)
    w = init_vits(SPEC, torch.arange(4), 1).to(torch.float64)
    model = NGGNNLiteViT(SPEC, 2, hidden=16, fourier_dim=8, dropout=0.0).double().eval()
    mlp = [torch.randperm(12) for _ in range(2)]
    heads = [torch.tensor([1, 0]) for _ in range(2)]
    torch.testing.assert_close(model(w.permute_hidden(mlp=mlp, heads=heads)), model(w),
                               rtol=1e-10, atol=1e-10)
    # a non-symmetry (swapping two input pixels of the patch) does change it
    p = dict(w.params)
    k = "to_patch_embedding.2.weight"
    p[k] = p[k][:, :, torch.randperm(SPEC.n0)]
    from dng.vit import ViTWeights

    assert not torch.allclose(model(ViTWeights(SPEC, p)), model(w))
