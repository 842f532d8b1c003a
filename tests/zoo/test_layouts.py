"""Importing the field's zoo layouts (synthetic copies, no network): labels, splits, copies,
DWSNets' output offset, bad files named, and training on the result."""

import json

import pytest
import torch

from dng.cli import main
from dng.data import load_dataset
from dng.errors import ZooError
from dng.zoo import Zoo
from dng.zoo.importer import import_zoo
from dng.zoo.siren import SirenSpec, init_siren, render


def _sirens(n, seed):
    spec = SirenSpec.for_image(1, (8, 8))
    return init_siren(spec, n, torch.Generator().manual_seed(seed))


def _nfn_sd(w, i):
    return {"net.0.linear.weight": w.weights[0][i], "net.0.linear.bias": w.biases[0][i],
            "net.1.linear.weight": w.weights[1][i], "net.1.linear.bias": w.biases[1][i],
            "net.2.weight": w.weights[2][i], "net.2.bias": w.biases[2][i]}


def make_nfn(root, labels, copies_of=(), split_at=(6, 8)):
    w = _sirens(len(labels) + len(copies_of), 0)
    for idx, lab in enumerate(labels):
        d = root / f"randinit_smaller_{lab}s"
        d.mkdir(parents=True, exist_ok=True)
        torch.save(_nfn_sd(w, idx), d / f"net{idx}.pth")
    for k, idx in enumerate(copies_of):
        d = root / f"randinit_smaller_aug0_{labels[idx]}s"
        d.mkdir(parents=True, exist_ok=True)
        torch.save(_nfn_sd(w, len(labels) + k), d / f"net{idx}.pth")
    return w


def test_nfn_layout_labels_splits_and_copies(tmp_path):
    labels = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
    make_nfn(tmp_path / "siren_mnist_wts", labels, copies_of=(0, 2))
    zoo = import_zoo([tmp_path / "siren_mnist_wts"], tmp_path / "z", split_at=(6, 8))
    a = zoo.arrays()
    assert zoo.manifest["recipe"]["layout"] == "nfn" and zoo.manifest["copies"] == 1
    orig = a.copy == 0
    assert a.label[orig].tolist() == labels  # ordered by index
    assert a.split[orig].tolist() == [0] * 6 + [1] * 2 + [2] * 2
    assert (a.split[~orig] == 0).all() and sorted(a.label[~orig].tolist()) == [3, 4]
    assert len(zoo.load("train", max_copy=0)) == 6 and len(zoo.load("train")) == 8


def test_nfn_with_images_attached_gives_image_psnr(tmp_path):
    digits = load_dataset("digits")
    labels = digits.labels[:10].tolist()
    make_nfn(tmp_path / "w", labels)
    zoo = import_zoo([tmp_path / "w"], tmp_path / "z", images=digits, split_at=(6, 8))
    a = zoo.arrays()
    assert torch.equal(a.images, digits.images) and a.image_index.tolist() == list(range(10))
    assert a.psnr.isfinite().all() and float(a.psnr.max()) < 30  # random INRs vs real digits
    (tmp_path / "bad").mkdir()
    make_nfn(tmp_path / "bad", [(l + 1) % 10 for l in labels])
    with pytest.raises(ZooError, match="label"):
        import_zoo([tmp_path / "bad"], tmp_path / "z2", images=digits, split_at=(6, 8))


def test_dwsnets_layout_offset_and_val_split(tmp_path):
    w = _sirens(12, 1)
    for i in range(12):
        split = "train" if i < 9 else "test"
        d = tmp_path / "dws" / f"mnist_png_{split}_{i % 3}_{i}" / "checkpoints"
        d.mkdir(parents=True)
        sd = {}
        for l in range(3):
            sd[f"seq.{l}.weight"], sd[f"seq.{l}.bias"] = w.weights[l][i], w.biases[l][i]
        torch.save(sd, d / "model_final.pth")
    zoo = import_zoo([tmp_path / "dws"], tmp_path / "z", val_size=2)
    assert zoo.spec.output_offset == 0.5 and zoo.spec.image_range == (0.0, 1.0)
    assert zoo.manifest["dataset"]["counts"] == {"train": 7, "val": 2, "test": 3}
    a = zoo.arrays()
    # the rendering in [-1, 1] is 2·(out + 0.5) − 1 of the raw SIREN output
    raw = render(a.weights[:2], SirenSpec.for_image(1, (8, 8)), 28, 28)
    torch.testing.assert_close(render(a.weights[:2], zoo.spec, 28, 28), 2 * (raw + 0.5) - 1)
    assert "PSNR n/a" in zoo.summary()  # no images: no PSNR against itself


def test_bad_file_is_named(tmp_path):
    make_nfn(tmp_path / "w", [1, 2, 3])
    f = tmp_path / "w" / "randinit_smaller_2s" / "net1.pth"
    sd = torch.load(f, weights_only=True)
    sd["net.1.linear.weight"][0, 0] = float("nan")
    torch.save(sd, f)
    with pytest.raises(ZooError, match="net1.pth.*NaN"):
        import_zoo([tmp_path / "w"], tmp_path / "z", split_at=(2, 2))
    assert not (tmp_path / "z").exists()


def test_imported_zoo_trains_end_to_end(tmp_path, capsys):
    digits = load_dataset("digits")
    make_nfn(tmp_path / "w", digits.labels[:24].tolist(), split_at=(16, 20))
    assert main(["import-zoo", str(tmp_path / "w"), "--out", str(tmp_path / "z"),
                 "--images", "digits", "--split-at", "16,20"]) == 0
    assert main(["train", "--zoo", str(tmp_path / "z"), "--model", "inr2jls", "--out",
                 str(tmp_path / "s1"), "--steps", "2", "--set", "emb_dim=16",
                 "--set", "fourier_dim=8", "--set", "latent_dim=8", "--device", "cpu"]) == 0
    assert main(["train", "--zoo", str(tmp_path / "z"), "--model", "dng-encoder", "--out",
                 str(tmp_path / "c"), "--steps", "2", "--set", "emb_dim=16",
                 "--set", "fourier_dim=8", "--device", "cpu", "--eval"]) == 0
    m = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert m["test_size"] == 4 and len(Zoo(tmp_path / "z").load("val")) == 4


def test_state_dict_import_says_which_activation_it_assumed(tmp_path, capsys):
    w = _sirens(3, 2)
    for i in range(3):
        torch.save(_nfn_sd(w, i), tmp_path / f"m{i}.pth")
    assert main(["import-zoo", str(tmp_path / "m0.pth"), str(tmp_path / "m1.pth"),
                 "--out", str(tmp_path / "a")]) == 0
    assert "sine in the hidden layers, linear output (assumed" in capsys.readouterr().out
    assert Zoo(tmp_path / "a").load().weights.activations == ("sine", "sine", "linear")
    assert main(["import-zoo", str(tmp_path / "m0.pth"), str(tmp_path / "m2.pth"),
                 "--out", str(tmp_path / "r"), "--activation", "relu"]) == 0
    out = capsys.readouterr().out
    assert "relu in the hidden layers, linear output\n" in out
    zoo = Zoo(tmp_path / "r")
    assert zoo.load().weights.activations == ("relu", "relu", "linear")
    assert zoo.manifest["recipe"]["activation_assumed"] is False
    # the zoo renders its MLPs as ReLU networks, not as SIRENs
    x = torch.tensor([[0.25, -0.5]])
    a = zoo.load().weights[:1]
    h = torch.relu(x @ a.weights[0][0].T + a.biases[0][0])
    h = torch.relu(h @ a.weights[1][0].T + a.biases[1][0])
    ref = h @ a.weights[2][0].T + a.biases[2][0]
    from dng.zoo.siren import render
    img = render(a, zoo.spec, 1, 1, coords=x)
    torch.testing.assert_close(img.flatten(), ref.flatten())
