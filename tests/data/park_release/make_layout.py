"""How tests/data/park_release was made (run once, by hand, with omegaconf installed; the
tests only read the files): three tiny CNN Wild Park networks saved as the release saves them —
``{"model": state_dict, "config": OmegaConf DictConfig}`` — and a splits file."""

import json
from pathlib import Path

import torch
from omegaconf import OmegaConf

from dng.arch import Arch
from dng.zoo.parkbuild import init_park

ROOT = Path(__file__).parent
CONFIGS = [
    dict(channels=[3, 4, 6], kernel_size=[3, 5], residual=[-1, -1], activation=["relu", "tanh"]),
    dict(channels=[3, 4, 4, 6], kernel_size=[5, 3, 7], residual=[-1, -1, 0],
         activation=["gelu", "leaky_relu", "sigmoid"]),
    dict(channels=[3, 4, 6], kernel_size=[7, 3], residual=[-1, -1], activation=["tanh", "relu"]),
]
splits = {"train": {"path": [], "score": []}, "val": {"path": [], "score": []},
          "test": {"path": [], "score": []}}
for i, c in enumerate(CONFIGS):
    n = len(c["kernel_size"])
    cfg = dict(n_layers=n, n_classes=10, stride=[1] * n, padding=[k // 2 for k in c["kernel_size"]],
               **c)
    arch = Arch.park(c["channels"], c["kernel_size"], c["activation"], c["residual"], 10)
    w = init_park(arch, [i], 0)
    sd = {}
    for l, (wl, bl) in enumerate(zip(w.weights, w.biases)):
        name = f"layers.{l}" if l < n else "fc"
        sd[f"{name}.weight"], sd[f"{name}.bias"] = wl[0].clone(), bl[0].clone()
    rel = f"cifar10/run_{i:02d}/checkpoint_000010/checkpoint.pt"
    (ROOT / rel).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": sd, "config": OmegaConf.create(cfg)}, ROOT / rel)
    part = ("train", "val", "test")[i]
    splits[part]["path"].append(rel)
    splits[part]["score"].append(0.1 + 0.2 * i)
(ROOT / "splits.json").write_text(json.dumps(splits, indent=1))
