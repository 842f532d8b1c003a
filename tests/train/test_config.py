"""Configs: files + overrides resolve like flags; bad fields are one clear error; the model
registry builds what training builds, from the config's fields as they are."""

import json

import pytest
import torch

from dng.cli import build_parser, train_overrides
from dng.data import load_dataset
from dng.errors import ConfigError
from dng.models import create
from dng.train import (MODELS, PRESETS, TrainConfig, build_model, load_config_layers,
                       model_kwargs)
from dng.zoo import FitRecipe, Zoo, build_zoo, limit_per_split


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    d = tmp_path_factory.mktemp("zoo") / "digits"
    build_zoo(limit_per_split(load_dataset("digits"), 8), d, recipe=FitRecipe(steps=3))
    return Zoo(d)


def _flags(argv):
    return build_parser().parse_args(["train", "--zoo", "z", "--out", "r", *argv])


def test_config_file_plus_overrides_equals_flags(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("model: ng-gnn\nsteps: 300\nlr: 3.0e-4\nprobes: 16\n")
    from_file = load_config_layers(f, ["batch_size=32", "lr=5e-4"])
    from_flags = load_config_layers(None, train_overrides(_flags(
        ["--model", "ng-gnn", "--steps", "300", "--probes", "16", "--batch-size", "32",
         "--lr", "5e-4"])))
    assert from_file == from_flags
    assert (from_file.model, from_file.steps, from_file.lr, from_file.batch_size,
            from_file.probes) == ("ng-gnn", 300, 5e-4, 32, 16)
    # the preset follows the model the file names: ng-gnn's own sizes
    assert from_file.hidden == PRESETS["cpu"]["ng-gnn"]["hidden"]
    # --set wins over the flags, flags over the file
    cfg = load_config_layers(f, train_overrides(_flags(["--steps", "7", "--set", "steps=9"])))
    assert cfg.steps == 9


@pytest.mark.parametrize("text, override, match", [
    ("nope: 1\n", [], "unknown config field 'nope'"),
    ("", ["batch_size=abc"], "batch_size"),
    ("steps: many\n", [], "steps"),
    ("", ["model=mlp", "dropout=1.5"], "dropout"),
    ("", ["lr=nan"], "lr"),
    ("", ["steps=0"], "steps"),
    ("", ["model=bogus"], "unknown model 'bogus'"),
    ("- a\n- b\n", [], "mapping"),
    ("", ["steps"], "FIELD=VALUE"),
    ("model_config: 3\n", [], "model_config must be a mapping"),
    ("model_config:\n  emb_dm: 3\n", [], "unknown model setting 'emb_dm'"),
])
def test_bad_configs_are_one_clear_error(tmp_path, text, override, match):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=match) as e:
        load_config_layers(f, override)
    assert "\n" not in str(e.value)


def test_cli_reports_a_bad_set_in_one_line(tmp_path, capsys):
    from dng.cli import main

    assert main(["train", "--zoo", str(tmp_path), "--out", str(tmp_path / "r"),
                 "--set", "batch_size=abc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "batch_size" in err[0]
    assert not (tmp_path / "r").exists()


def test_saved_config_with_wrong_types_is_one_error(tmp_path):
    from dng.train import load_config

    (tmp_path / "config.json").write_text(json.dumps({"model": "mlp", "steps": "x"}))
    with pytest.raises(ConfigError, match="steps"):
        load_config(tmp_path)


@pytest.mark.parametrize("model", [m for m in MODELS if m != "inr2jls-classifier"])
@pytest.mark.parametrize("preset", ["cpu", "paper"])
def test_registry_builds_what_training_builds(zoo, model, preset):
    """No hidden re-mapping: the trainer's model is `create(name, **fields)` with the config's
    fields under their own names, and its sizes are the config's."""
    extra = {"target": "psnr"} if model == "statnn" else {}  # a regressor: the zoo's PSNR
    cfg = TrainConfig.preset_config(preset, model).override({"emb_dim": "16", "latent_dim": "8",
                                                             "fourier_dim": "8", **extra})
    torch.manual_seed(0)
    trained = build_model(cfg, zoo)
    torch.manual_seed(0)
    direct = create(model, zoo.spec.layer_sizes, **model_kwargs(cfg, zoo))
    a, b = trained.state_dict(), direct.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    if model == "ng-gnn-lite":
        assert trained.node_in.out_features == cfg.hidden
        assert trained.fourier.fourier_dim == cfg.fourier_dim
    if model == "ng-gnn":
        assert trained.node_in.out_features == cfg.hidden
        assert trained.node_fourier.fourier_dim == cfg.fourier_dim
    if model == "mlp":
        assert trained.net[0].out_features == cfg.hidden
    if model == "dng-encoder":
        drops = [m.p for m in trained.head.modules() if isinstance(m, torch.nn.Dropout)]
        assert drops and all(p == cfg.dropout for p in drops)
        changed = build_model(cfg.override({"dropout": "0.1"}), zoo)
        assert all(m.p == 0.1 for m in changed.head.modules()
                   if isinstance(m, torch.nn.Dropout))  # --set dropout is honoured
        assert trained.encoder.dropout.p == cfg.encoder_dropout == 0.5  # as before the refactor
    if model in ("dng-encoder", "ng-gnn-lite", "inr2jls"):
        assert cfg.probes == (256 if preset == "cpu" else 0)
    if model == "ng-gnn":  # the paper preset is the published NG-GNN's own training
        assert (preset != "paper" or (cfg.amsgrad, cfg.grad_clip, cfg.lr, cfg.batch_size)
                == (True, 10.0, 1e-3, 128))
        assert cfg.probes == (256 if preset == "cpu" else 0)


def test_every_config_field_has_a_flag_with_help():

    from dng.train.presets import HELP

    parser = build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    flags = {o for a in train_parser._actions for o in a.option_strings}
    from dng.models.settings import SETTINGS
    from dng.train.config import run_fields

    for name in [n for n, _, _ in run_fields()] + list(SETTINGS):
        assert f"--{name.replace('_', '-')}" in flags, name
        assert HELP.get(name), f"no help text for {name}"
    assert "--rnn-layers" in flags and "--from" in flags  # the older spellings stay
    a = _flags(["--no-latent-generator", "--passes", "2", "--dropout", "0"])
    assert sorted(train_overrides(a)) == ["dropout=0.0", "latent_generator=false", "passes=2"]
