"""Zoo splits through torch's DataLoader; PyG export."""

import pytest
import torch
from torch.utils.data import DataLoader

from conftest import random_mlp
from dng.data import load_dataset
from dng.interop import ZooDataset, collate_mlp
from dng.zoo import FitRecipe, Zoo, build_zoo, limit_per_split


def test_dataloader_batches_mlp_weights(tmp_path):
    build_zoo(limit_per_split(load_dataset("digits"), 10), tmp_path / "z",
              recipe=FitRecipe(steps=3))
    zoo = Zoo(tmp_path / "z")
    ds = ZooDataset(zoo, "train")
    loader = DataLoader(ds, batch_size=4, shuffle=False, collate_fn=collate_mlp)
    batches = list(loader)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    w, y, u8 = batches[0]
    ref = zoo.load("train", max_copy=0)
    assert torch.equal(w.weights[1], ref.weights.weights[1][:4])
    assert torch.equal(y, ref.label[:4]) and u8.dtype == torch.uint8
    assert w.layer_sizes == (2, 32, 32, 1)


def test_to_pyg_static_and_snapshots():
    pytest.importorskip("torch_geometric", reason='to_pyg needs pip install "dng[baselines]"')
    from dng.interop import to_pyg

    sizes = (2, 5, 4, 3)
    w = random_mlp(sizes, batch=3)
    static, snaps = to_pyg(w)
    N, E = sum(sizes), 2 * 5 + 5 * 4 + 4 * 3
    assert static.num_graphs == 3 and static.num_nodes == 3 * N and static.num_edges == 3 * E
    g = static.get_example(1)
    torch.testing.assert_close(g.x[2:7, 0], w.biases[0][1])
    assert (g.x[:2] == 0).all() and g.layer.tolist() == [0] * 2 + [1] * 5 + [2] * 4 + [3] * 3
    # every edge carries its weight: W_l[target, source]
    off = [0, 2, 7, 11]
    for k in range(E):
        s, t = g.edge_index[:, k].tolist()
        l = max(i for i in range(3) if off[i] <= s)
        assert g.edge_attr[k, 0] == w.weights[l][1, t - off[l + 1], s - off[l]]
    assert len(snaps) == 3
    s1 = snaps[1].get_example(2)  # the block 5 → 4 of INR 2
    assert s1.num_nodes == 9 and s1.num_edges == 20 and s1.activation == w.activations[1]
    torch.testing.assert_close(s1.x[5:, 0], w.biases[1][2])
    dense = torch.zeros(4, 5)
    dense[s1.edge_index[1] - 5, s1.edge_index[0]] = s1.edge_attr[:, 0]
    torch.testing.assert_close(dense, w.weights[1][2])
