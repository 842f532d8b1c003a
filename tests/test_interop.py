"""Zoo splits through torch's DataLoader."""

import torch
from torch.utils.data import DataLoader

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
