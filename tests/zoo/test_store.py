import json

import pytest
import torch

from dng.data import load_dataset
from dng.errors import ZooError
from dng.zoo import FitRecipe, Zoo, build_zoo, import_zoo, limit_per_split, render
from dng.zoo.build import plan_units

RECIPE = FitRecipe(steps=5, chunk=8)


@pytest.fixture(scope="module")
def tiny_images():
    return limit_per_split(load_dataset("digits"), 6)


def test_build_and_read(tmp_path, tiny_images):
    zoo = build_zoo(tiny_images, tmp_path / "z", recipe=RECIPE, copies=2, shard_size=10)
    assert len(zoo) == 18 + 12
    m = json.loads((tmp_path / "z" / "zoo.json").read_text())
    assert m["complete"] and m["num_shards"] == 3 and m["stats"]["train"]["count"] == 18
    train = zoo.load("train")
    assert len(train) == 18 and set(train.copy.tolist()) == {0, 1, 2}
    assert len(zoo.load("train", max_copy=0)) == 6
    w, y, imgs = next(zoo.load("val").batches(4))
    assert w.layer_sizes == (2, 32, 32, 1) and y.shape == (4,) and imgs.shape == (4, 1, 28, 28)
    a = zoo.arrays()
    assert torch.equal(a.label, tiny_images.labels[a.image_index])
    zoo.verify()
    assert "PSNR mean" in zoo.summary()


def test_resume_gives_the_same_zoo(tmp_path, tiny_images):
    straight = build_zoo(tiny_images, tmp_path / "a", recipe=RECIPE, copies=1, shard_size=8)
    # simulate a kill after the first shard: manifest lists one shard, a stray temp file exists
    build_zoo(tiny_images, tmp_path / "b", recipe=RECIPE, copies=1, shard_size=8)
    m = json.loads((tmp_path / "b" / "zoo.json").read_text())
    m["complete"] = False
    m["shards"] = m["shards"][:1]
    (tmp_path / "b" / "zoo.json").write_text(json.dumps(m))
    (tmp_path / "b" / "shards" / "shard-00002.safetensors").write_bytes(b"half written")
    with pytest.raises(ZooError, match="incomplete"):
        Zoo(tmp_path / "b")
    resumed = build_zoo(tiny_images, tmp_path / "b", recipe=RECIPE, copies=1, shard_size=8)
    for x, y in zip(straight.arrays().weights.weights, resumed.arrays().weights.weights):
        assert torch.equal(x, y)


def test_different_zoo_in_out_dir_is_refused(tmp_path, tiny_images):
    build_zoo(tiny_images, tmp_path / "z", recipe=RECIPE, shard_size=100)
    with pytest.raises(ZooError, match="differs in recipe"):
        build_zoo(tiny_images, tmp_path / "z", recipe=FitRecipe(steps=6), shard_size=100)


def test_truncated_shard_detected(tmp_path, tiny_images):
    build_zoo(tiny_images, tmp_path / "z", recipe=RECIPE, shard_size=100)
    f = tmp_path / "z" / "shards" / "shard-00000.safetensors"
    f.write_bytes(f.read_bytes()[:-50])
    with pytest.raises(ZooError, match="truncated or replaced"):
        Zoo(tmp_path / "z")


def test_manifest_count_mismatch(tmp_path, tiny_images):
    build_zoo(tiny_images, tmp_path / "z", recipe=RECIPE, shard_size=100)
    m = json.loads((tmp_path / "z" / "zoo.json").read_text())
    m["num_inrs"] += 1
    (tmp_path / "z" / "zoo.json").write_text(json.dumps(m))
    with pytest.raises(ZooError, match="manifest says"):
        Zoo(tmp_path / "z")


def test_not_a_zoo(tmp_path):
    with pytest.raises(ZooError, match="not a dng zoo"):
        Zoo(tmp_path)


def test_plan_units_copies_only_train(tiny_images):
    idx, cp = plan_units(tiny_images, 3)
    assert len(idx) == 18 + 3 * 6
    assert (tiny_images.split[idx[cp > 0]] == 0).all()


@pytest.mark.parametrize("name", ["siren_mnist_inrs.pt", "siren_cifar_inrs.pt"])
def test_import_reference_zoo(tmp_path, fixtures_dir, load_fixture, name):
    d = load_fixture(name)
    zoo = import_zoo([fixtures_dir / name], tmp_path / "z")
    a = zoo.arrays()
    C, H, W = zoo.image_shape
    with torch.no_grad():
        out = render(a.weights, zoo.spec, H, W)
    torch.testing.assert_close(out, d["siren_output"], atol=1e-5, rtol=0)
    assert torch.equal(a.images, d["images_uint8"]) and torch.equal(a.label, d["labels"])


def test_import_directory_of_state_dicts(tmp_path, load_fixture):
    d = load_fixture("siren_mnist_inrs.pt")
    src = tmp_path / "src"
    src.mkdir()
    for i, sd in enumerate(d["state_dicts"][:3]):
        torch.save(sd, src / f"inr{i}.pth")
    zoo = import_zoo([src], tmp_path / "z")
    assert len(zoo) == 3
    with torch.no_grad():
        out = render(zoo.arrays().weights, zoo.spec, 28, 28)
    torch.testing.assert_close(out, d["siren_output"][:3], atol=1e-5, rtol=0)


def test_import_refuses_foreign_objects(tmp_path):
    import datetime

    torch.save({"net": datetime.datetime(2020, 1, 1)}, tmp_path / "evil.pt")
    with pytest.raises(ZooError, match="refused"):
        import_zoo([tmp_path / "evil.pt"], tmp_path / "z")
    assert not (tmp_path / "z").exists()


def test_two_worker_processes_give_the_same_zoo(tmp_path, tiny_images):
    one = build_zoo(tiny_images, tmp_path / "one", recipe=RECIPE, copies=1, shard_size=8)
    two = build_zoo(tiny_images, tmp_path / "two", recipe=RECIPE, copies=1, shard_size=8,
                    workers=2)
    for x, y in zip(one.arrays().weights.weights + one.arrays().weights.biases,
                    two.arrays().weights.weights + two.arrays().weights.biases):
        assert torch.equal(x, y)
    assert two.manifest["num_shards"] == 3 and len(two.manifest["shards"]) == 3


def test_inits_do_not_depend_on_chunk_or_shard_size(tmp_path):
    """A GPU-style fit (big chunks, other shards) and a CPU-style one give the same INRs."""
    import torch

    from dng.data import load_dataset
    from dng.zoo import FitRecipe, Zoo, build_zoo, limit_per_split

    images = limit_per_split(load_dataset("digits"), 4)
    build_zoo(images, tmp_path / "a", recipe=FitRecipe(steps=5, chunk=2), shard_size=4)
    build_zoo(images, tmp_path / "b", recipe=FitRecipe(steps=5, chunk=12), shard_size=8)
    a, b = Zoo(tmp_path / "a").arrays(), Zoo(tmp_path / "b").arrays()
    assert Zoo(tmp_path / "a").manifest["version"] == 3
    for wa, wb in zip(a.weights.weights, b.weights.weights):
        torch.testing.assert_close(wa, wb, atol=1e-5, rtol=1e-4)
    # and the chunk is not part of the zoo's identity: a rerun with another chunk is a no-op
    build_zoo(images, tmp_path / "a", recipe=FitRecipe(steps=5, chunk=7), shard_size=4)
