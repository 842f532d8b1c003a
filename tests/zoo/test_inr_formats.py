"""INR zoos in format 3 (arch, named target ``psnr``, INR block) beside formats 1 and 2:
what is written, that older zoos load to the same arrays, that a half-built format-2 zoo is
finished in format 2, and that the importer and editing write format 3."""

import json

import pytest
import torch
from safetensors.torch import load_file

from dng.data import load_dataset
from dng.errors import ZooError
from dng.zoo import FitRecipe, Zoo, build_zoo, inrzoo, limit_per_split

RECIPE = FitRecipe(steps=3, chunk=8)


@pytest.fixture(scope="module")
def images():
    return limit_per_split(load_dataset("digits"), 3)


def _build(images, out, version, monkeypatch, **kw):
    monkeypatch.setattr(inrzoo, "NEW_VERSION", version)
    return build_zoo(images, out, recipe=RECIPE, shard_size=4, **kw)


def test_new_inr_zoos_are_format3_with_an_inr_block(tmp_path, images):
    zoo = build_zoo(images, tmp_path / "z", recipe=RECIPE, shard_size=4)
    m = json.loads((tmp_path / "z" / "zoo.json").read_text())
    assert m["version"] == 3 and m["targets"] == ["psnr"] and "spec" not in m
    assert m["inr"]["first_omega"] == 30.0 and m["arch"]["layers"][0]["activation"] == "sine"
    shard = load_file(str(tmp_path / "z" / m["shards"][0]["file"]))
    assert {"act", "t.psnr", "image_index", "copy", "label", "split"} <= set(shard)
    assert "psnr" not in shard and shard["t.psnr"].dtype == torch.float64
    assert zoo.renders and zoo.spec.layer_sizes == (2, 32, 32, 1)
    assert zoo.arch == zoo.spec.arch
    a = zoo.arrays()
    assert torch.equal(a.column("psnr"), a.psnr) and torch.isfinite(a.psnr).all()
    assert m["stats"]["train"]["psnr_mean"] == pytest.approx(
        float(a.psnr[a.split == 0].double().mean()), abs=1e-4)
    assert "SIREN 2→32→32→1" in zoo.summary()


@pytest.mark.parametrize("old", [1, 2])
def test_older_formats_load_to_the_same_arrays(tmp_path, images, monkeypatch, old):
    new = _build(images, tmp_path / "new", 3, monkeypatch).arrays()
    _build(images, tmp_path / "old", 2, monkeypatch)
    if old == 1:  # a format-1 manifest is a format-2 one with another version number
        m = json.loads((tmp_path / "old" / "zoo.json").read_text())
        (tmp_path / "old" / "zoo.json").write_text(json.dumps({**m, "version": 1}))
    zoo = Zoo(tmp_path / "old")
    assert zoo.manifest["version"] == old and "spec" in zoo.manifest
    a = zoo.arrays()
    for x, y in zip(a.weights.weights + a.weights.biases,
                    new.weights.weights + new.weights.biases):
        assert torch.equal(x, y)
    for k in ("label", "image_index", "split", "copy", "psnr"):
        assert torch.equal(getattr(a, k), getattr(new, k)), k


def test_a_half_built_format2_zoo_is_finished_in_format2(tmp_path, images, monkeypatch):
    out = tmp_path / "z"
    _build(images, out, 2, monkeypatch)
    m = json.loads((out / "zoo.json").read_text())
    lost = m["shards"].pop()  # as if killed before the last shard landed
    (out / lost["file"]).unlink()
    m.update(complete=False, stats={})
    (out / "zoo.json").write_text(json.dumps(m))
    zoo = _build(images, out, 3, monkeypatch)  # today's dng resumes it
    assert zoo.manifest["version"] == 2 and zoo.manifest["complete"]
    assert len(zoo.manifest["shards"]) == m["num_shards"]
    assert "psnr" in load_file(str(out / lost["file"]))  # the refitted shard: format 2
    assert len(zoo.arrays()) == len(images)


def test_a_format3_shard_that_contradicts_its_inr_block_is_refused(tmp_path, images):
    from safetensors.torch import save_file

    build_zoo(images, tmp_path / "z", recipe=RECIPE, shard_size=100)
    m = json.loads((tmp_path / "z" / "zoo.json").read_text())
    f = tmp_path / "z" / m["shards"][0]["file"]
    t = load_file(str(f))
    t["act"] = torch.zeros_like(t["act"])  # every layer "linear": not the SIREN the block says
    save_file(t, str(f))
    with pytest.raises(ZooError, match="activations differ"):
        Zoo(tmp_path / "z", verify_data=False).arrays()
    del t["t.psnr"]
    save_file(t, str(f))
    m["shards"][0]["bytes"] = f.stat().st_size  # the manifest updated with it
    (tmp_path / "z" / "zoo.json").write_text(json.dumps(m))
    with pytest.raises(ZooError, match="lacks t.psnr"):
        Zoo(tmp_path / "z", verify_data=False).arrays()


def test_imported_zoos_are_format3(tmp_path, images):
    zoo = build_zoo(images, tmp_path / "z", recipe=RECIPE, shard_size=100)
    w = zoo.arrays().weights
    src = tmp_path / "sds"
    src.mkdir()
    for i in range(2):
        sd = {}  # (weight, bias) pairs in layer order, as a SIREN's state_dict holds them
        for l in range(3):
            sd[f"net.{l}.weight"] = w.weights[l][i].clone()
            sd[f"net.{l}.bias"] = w.biases[l][i].clone()
        torch.save(sd, src / f"inr{i}.pth")
    from dng.zoo import import_zoo

    imp = import_zoo([src], tmp_path / "imp")
    assert imp.manifest["version"] == 3 and imp.manifest["inr"]["first_omega"] == 30.0
    a = imp.arrays()
    assert len(a) == 2 and torch.equal(a.weights.weights[0], w.weights[0][:2])
