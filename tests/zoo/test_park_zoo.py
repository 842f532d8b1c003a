"""Mixed-architecture zoos: the CNN Wild Park release imported without unpickling code, zoos of
heterogeneous CNNs built here, the encoder on mixed batches, the regression task end to end."""

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from dng.compat.omegaconf_safe import load_checkpoint, to_plain
from dng.errors import ZooError
from dng.mixed import MixedNets
from dng.models import DNGEncoder, EncoderConfig
from dng.arch import Arch, Layer
from dng.packed import PackedNets
from dng.zoo.parkbuild import build_park_zoo, draw_park_net
from dng.zoo.parkzoo import import_park

RELEASE = Path(__file__).parents[1] / "data" / "park_release"
TINY = {"layers": (2, 3), "channels": (2, 4), "kernels": (3, 5),
        "activations": ("relu", "tanh", "gelu"), "lr": (1e-3, 1e-2)}


def test_import_release_reads_pickled_omegaconf_safely(tmp_path):
    zoo = import_park(RELEASE, tmp_path / "z")
    a = zoo.arrays()
    assert isinstance(a.weights, MixedNets) and len(a) == 3
    assert a.split.tolist() == [0, 1, 2]
    torch.testing.assert_close(a.column("test_accuracy"), torch.tensor([0.1, 0.3, 0.5],
                                                                       dtype=torch.float64))
    net = a.weights.net(1)
    assert [l.kernel for l in net.arch.layers[:3]] == [(5, 5), (3, 3), (7, 7)]
    assert net.arch.layers[2].residual == 0 and net.arch.layers[1].activation == "leaky_relu"
    ck = load_checkpoint(RELEASE / "cifar10/run_01/checkpoint_000010/checkpoint.pt")
    assert torch.equal(net.weights[0][0], ck["model"]["layers.0.weight"])
    assert to_plain(ck["config"])["residual"] == [-1, -1, 0]


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/dng_pwned",))


def test_foreign_classes_and_escaping_paths_are_refused(tmp_path):
    root = tmp_path / "rel"
    shutil.copytree(RELEASE, root)
    bad = root / "cifar10/run_00/checkpoint_000010/checkpoint.pt"
    ck = {"model": {"fc.weight": torch.zeros(10, 4), "fc.bias": torch.zeros(10)},
          "config": Payload()}
    torch.save(ck, bad)
    with pytest.raises(ZooError, match="not a readable checkpoint"):
        import_park(root, tmp_path / "z")
    assert not (tmp_path / "z").exists() and not Path("/tmp/dng_pwned").exists()
    # a listed checkpoint that is a symlink out of the layout
    shutil.copytree(RELEASE, tmp_path / "rel2")
    outside = tmp_path / "outside.pt"
    shutil.copy(RELEASE / "cifar10/run_00/checkpoint_000010/checkpoint.pt", outside)
    link = tmp_path / "rel2/cifar10/run_00/checkpoint_000010/checkpoint.pt"
    link.unlink()
    link.symlink_to(outside)
    with pytest.raises(ZooError, match="leaves the layout"):
        import_park(tmp_path / "rel2", tmp_path / "z")
    assert len(import_park(tmp_path / "rel2", tmp_path / "z", follow_symlinks=True)) == 3
    (tmp_path / "rel2/splits.json").write_text(json.dumps({"train": {"path": ["x"]}}))
    with pytest.raises(ZooError, match="equally long"):
        import_park(tmp_path / "rel2", tmp_path / "z3")


def test_encoder_on_a_mixed_batch_equals_each_network_alone():
    nets = [draw_park_net(i, 0, 3, 4, TINY)[0] for i in range(6)]
    from dng.zoo.parkbuild import init_park

    ws = [init_park(a, [i], 0).to(torch.float64) for i, a in enumerate(nets)]
    mixed = MixedNets.from_nets(ws)
    cfg = EncoderConfig(message="heads", heads=25, pad_taps="masked", emb_dim=8, fourier_dim=4,
                        att_dim=2, layer_activation_embedding=True, shared_layers=True,
                        residual_messages=True)
    enc = DNGEncoder(Arch((Layer(3, 4),)), cfg).double()
    out = enc(mixed)
    for i, w in enumerate(ws):
        torch.testing.assert_close(out[i], enc(PackedNets.pack([w]))[0], atol=1e-12, rtol=0)
    sub = mixed[[4, 1, 3]]
    torch.testing.assert_close(enc(sub), out[[4, 1, 3]], atol=1e-12, rtol=0)


def test_build_resume_and_train(tmp_path):
    from dng.data.datasets import ImageSet

    g = torch.Generator().manual_seed(0)
    imgs = (torch.rand(120, 3, 8, 8, generator=g) * 255).to(torch.uint8)
    split = torch.zeros(120, dtype=torch.int64)
    split[100:] = 2
    images = ImageSet("tiny", imgs, torch.randint(0, 4, (120,), generator=g), split,
                      list("abcd"))
    kw = dict(count=6, epochs=(0, 1), unit=3, batch_size=8, steps_per_epoch=2, ranges=TINY)
    zoo = build_park_zoo(images, tmp_path / "z", **kw)
    a = zoo.arrays()
    assert len(a) == 12 and isinstance(a.weights, MixedNets)
    for r in range(len(a)):  # each row is the network its id draws
        want = draw_park_net(int(a.column("net_id")[r]), 0, 3, 4, TINY)[0]
        assert a.weights.net(r).arch.signature() == want.signature()
    m = json.loads((tmp_path / "z" / "zoo.json").read_text())
    (tmp_path / "z" / m["shards"][1]["file"]).unlink()
    m["shards"], m["complete"] = m["shards"][:1], False
    (tmp_path / "z" / "zoo.json").write_text(json.dumps(m))
    again = build_park_zoo(images, tmp_path / "z", **kw).arrays()
    for r in range(len(a)):
        assert all(torch.equal(x, y) for x, y in zip(a.weights.net(r).weights,
                                                     again.weights.net(r).weights))

    from dng.cli import main

    main(["train", "--zoo", str(tmp_path / "z"), "--model", "dng-encoder", "--task", "regress",
          "--out", str(tmp_path / "r"), "--steps", "2", "--eval-every", "2", "--batch-size", "4",
          "--emb-dim", "8", "--fourier-dim", "4", "--att-dim", "2", "--hidden", "8",
          "--probes", "0"])
    assert json.loads((tmp_path / "r" / "train.json").read_text())["steps"] == 2
    main(["train", "--zoo", str(tmp_path / "z"), "--model", "dng-encoder", "--task", "regress",
          "--out", str(tmp_path / "rp"), "--steps", "2", "--eval-every", "2", "--batch-size",
          "4", "--emb-dim", "8", "--fourier-dim", "4", "--att-dim", "2", "--hidden", "8",
          "--probes", "0", "--set", "mixed_batches=padded"])  # one padded batch per step
    saved = json.loads((tmp_path / "rp" / "config.json").read_text())
    assert saved["model_config"]["mixed_batches"] == "padded"
    main(["train", "--zoo", str(tmp_path / "z"), "--model", "ng-gnn-lite", "--task", "regress",
          "--out", str(tmp_path / "g"), "--steps", "2", "--eval-every", "2", "--batch-size", "4",
          "--hidden", "8", "--fourier-dim", "4", "--probes", "0"])
    assert json.loads((tmp_path / "g" / "train.json").read_text())["steps"] == 2
    pytest.importorskip("torch_geometric")
    main(["train", "--zoo", str(tmp_path / "z"), "--model", "ng-gnn", "--task", "regress",
          "--out", str(tmp_path / "n"), "--steps", "2", "--eval-every", "2", "--batch-size", "4",
          "--hidden", "8", "--fourier-dim", "4", "--probes", "0"])
    assert json.loads((tmp_path / "n" / "train.json").read_text())["steps"] == 2
    pytest.importorskip("sklearn")
    main(["train", "--zoo", str(tmp_path / "z"), "--model", "statnn", "--task", "regress",
          "--out", str(tmp_path / "s")])
    assert "kendall_tau" in json.loads((tmp_path / "s" / "train.json").read_text())["best_val"]


def test_ng_gnn_lite_on_mixed_networks_is_permutation_invariant():
    from dng.mixed import MixedArch
    from dng.models.ng_mixed import NGGNNLiteMixed
    from dng.zoo.parkbuild import init_park

    archs = [draw_park_net(i, 0, 3, 4, TINY)[0] for i in range(4)]
    ws = [init_park(a, [i], 0).to(torch.float64) for i, a in enumerate(archs)]
    mixed = MixedNets.from_nets(ws)
    model = NGGNNLiteMixed(mixed.arch, 1, hidden=8, fourier_dim=4).double().eval()
    out = model(mixed)
    assert out.shape == (4, 1)
    p = PackedNets.pack([ws[0]])
    perms = [torch.randperm(n, generator=torch.Generator().manual_seed(1))
             for n in p.layer_sizes[1:-1]]
    torch.testing.assert_close(model(p.permute_hidden(perms)), out[:1], atol=1e-10, rtol=0)


def test_published_generator_ranges():
    """Residual sources skip the preceding layer; the last layer is never a source."""
    for i in range(40):
        arch, lr = draw_park_net(i, 3, 3, 10)
        n = len(arch.layers) - 1
        assert 2 <= n <= 5 and 5e-4 <= lr <= 5e-3
        for j, layer in enumerate(arch.layers[:n]):
            assert layer.residual is None or layer.residual < j - 1
            assert layer.n_out in (4, 8, 16, 32) and layer.kernel[0] in (3, 5, 7)
