"""Shared test helpers. Reference fixtures: ``--dng-fixtures DIR`` or ``$DNG_FIXTURES``
(default ``../shared/fixtures/official_dng`` beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def pytest_addoption(parser):
    parser.addoption("--dng-fixtures", default=None, help="folder with the reference .pt fixtures")
    parser.addoption("--dng-data", default=None,
                     help="folder with real datasets (mnist/ …; else $DNG_TEST_DATA, else "
                          "../shared/data beside the repository)")
    parser.addoption("--dng-device", default=None,
                     help="device for the numeric tests (cpu, cuda, ...; else $DNG_TEST_DEVICE, "
                          "else cpu)")


@pytest.fixture(scope="session")
def dev(request) -> torch.device:
    """The device numeric tests run their models on. On CUDA, TF32 is switched off so that
    float32 results can be held to the CPU's tolerances."""
    from dng.device import resolve_device

    name = request.config.getoption("--dng-device") or os.environ.get("DNG_TEST_DEVICE") or "cpu"
    d = resolve_device(name)
    if d.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return d


@pytest.fixture(scope="session")
def data_dir(request) -> Path:
    d = request.config.getoption("--dng-data") or os.environ.get("DNG_TEST_DATA") \
        or REPO.parent / "shared" / "data"
    d = Path(d)
    if not (d / "mnist").is_dir():
        pytest.skip(f"real datasets not found in {d} (set DNG_TEST_DATA or --dng-data)")
    return d


@pytest.fixture(scope="session")
def fixtures_dir(request) -> Path:
    d = request.config.getoption("--dng-fixtures") or os.environ.get("DNG_FIXTURES") \
        or REPO.parent / "shared" / "fixtures" / "official_dng"
    d = Path(d)
    if not (d / "encoder_mnist.pt").is_file():
        pytest.skip(f"reference fixtures not found in {d} (set DNG_FIXTURES or --dng-fixtures)")
    return d


@pytest.fixture(scope="session")
def load_fixture(fixtures_dir):
    cache = {}

    def load(name: str) -> dict:
        if name not in cache:
            cache[name] = torch.load(fixtures_dir / name, weights_only=True)
        return cache[name]

    return load


def shared_fixture_dir(request, name: str, probe: str) -> Path:
    """``../shared/fixtures/NAME`` (beside the --dng-fixtures folder when one is given);
    skips with the reason when its ``probe`` file is absent."""
    base = request.config.getoption("--dng-fixtures") or os.environ.get("DNG_FIXTURES")
    root = Path(base).parent if base else REPO.parent / "shared" / "fixtures"
    d = root / name
    if not (d / probe).is_file():
        pytest.skip(f"reference fixtures {name} not found in {root} (set DNG_FIXTURES)")
    return d


@pytest.fixture(scope="session")
def cnn_fixtures(request) -> Path:
    return shared_fixture_dir(request, "official_dng_cnn", "gen_predictor_cnn.pt")


@pytest.fixture(scope="session")
def editing_fixtures(request) -> Path:
    return shared_fixture_dir(request, "editing_targets", "stylize_targets_mnist.pt")


def random_cnn(batch=3, seed=0, channels=(4, 5), in_channels=1, classes=3, kernel=3,
               dtype=torch.float32, mixed_activations=True):
    """A batch of small random CNNs (conv layers, pooling, dense), ReLU/tanh mixed."""
    from dng.arch import ACTIVATIONS, Arch
    from dng.weights import NetWeights

    arch = Arch.cnn(in_channels, list(channels), kernel, 1, dense=(classes,))
    g = torch.Generator().manual_seed(seed)
    ws = [torch.randn(batch, *l.weight_shape(), generator=g, dtype=dtype) * 0.5
          for l in arch.layers]
    bs = [torch.randn(batch, l.n_out, generator=g, dtype=dtype) * 0.5 for l in arch.layers]
    act = None
    if mixed_activations:
        kinds = torch.tensor([ACTIVATIONS.index("relu"), ACTIVATIONS.index("tanh")])
        act = kinds[torch.arange(batch) % 2][:, None].repeat(1, len(arch.layers))
        act[:, -1] = ACTIVATIONS.index("linear")
    return NetWeights(ws, bs, arch, act)


def random_mlp(sizes, batch=3, seed=0, dtype=torch.float32):
    from dng.weights import MLPWeights

    g = torch.Generator().manual_seed(seed)
    ws = [torch.randn(batch, sizes[l + 1], sizes[l], generator=g, dtype=dtype) * 0.5
          for l in range(len(sizes) - 1)]
    bs = [torch.randn(batch, sizes[l + 1], generator=g, dtype=dtype) * 0.5
          for l in range(len(sizes) - 1)]
    return MLPWeights.from_layers(ws, bs)


def random_hidden_perms(sizes, batch, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.stack([torch.randperm(n, generator=g) for _ in range(batch)])
            for n in sizes[1:-1]]


@pytest.fixture
def separable_zoo(tmp_path) -> Path:
    """A tiny two-class zoo a classifier must learn: 160 near-constant 12×12 images, dark or
    bright by label (their INRs differ mostly in the output bias), 64/48/48 train/val/test
    INRs fitted in 30 steps. Above 70 % on its 48 test INRs is far from chance
    (P(≥ 70 % | chance) < 0.5 %)."""
    from dng.data.datasets import ImageSet, split_by_index
    from dng.zoo import FitRecipe, build_zoo

    g = torch.Generator().manual_seed(0)
    labels = torch.arange(160) % 2
    images = torch.randint(0, 20, (160, 1, 12, 12), generator=g, dtype=torch.uint8) \
        + (labels * 230).view(-1, 1, 1, 1).to(torch.uint8)
    build_zoo(ImageSet("toy", images, labels, split_by_index(160, 64, 48), ["dark", "bright"]),
              tmp_path / "separable-zoo", recipe=FitRecipe(steps=30, lr=1e-2))
    return tmp_path / "separable-zoo"


@pytest.fixture(scope="session")
def park_fixtures(request) -> Path:
    return shared_fixture_dir(request, "official_dng_park", "gen_predictor_park.pt")


@pytest.fixture(scope="session")
def vit_fixtures(request) -> Path:
    return shared_fixture_dir(request, "official_dng_vit", "vit_gen_predictor.pt")
