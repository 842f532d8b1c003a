"""The command line, end to end on tiny inputs (subprocess-free: ``main(argv)``)."""

import json

from dng.cli import main


def test_fit_info_show(tmp_path, capsys):
    out = tmp_path / "zoo"
    assert main(["fit", "--dataset", "digits", "--out", str(out), "--limit", "4", "--steps",
                 "3", "--copies", "1"]) == 0
    line, nxt = capsys.readouterr().out.strip().splitlines()[-2:]
    assert line.startswith("fitted 16 INRs") and "PSNR mean/p5" in line
    assert nxt.startswith(f"next: dng zoo show {out}")
    # rerunning a finished job is a no-op that reports the same zoo
    assert main(["fit", "--dataset", "digits", "--out", str(out), "--limit", "4", "--steps",
                 "3", "--copies", "1"]) == 0
    assert json.loads((out / "zoo.json").read_text())["recipe"] == {
        "steps": 3, "lr": 1e-3, "schedule": "constant", "chunk": 32}  # reference, steps overridden
    assert main(["fit", "--dataset", "digits", "--out", str(tmp_path / "fast"), "--limit", "2",
                 "--recipe", "fast", "--steps", "2"]) == 0
    assert json.loads((tmp_path / "fast" / "zoo.json").read_text())["recipe"]["lr"] == 1.2e-2
    assert main(["zoo-info", str(out), "--verify"]) == 0
    assert "all files match" in capsys.readouterr().out
    assert main(["show", str(out), "--n", "4"]) == 0
    assert (out / "show.png").stat().st_size > 1000


def test_errors_exit_nonzero_with_one_line(tmp_path, capsys):
    assert main(["fit", "--dataset", "nope", "--out", str(tmp_path / "z")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown dataset 'nope'" in err[0]
    assert not (tmp_path / "z").exists()
    assert main(["fit", "--dataset", "mnist", "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "z")]) == 1
    assert "missing dataset file" in capsys.readouterr().err
    assert not (tmp_path / "z").exists()
    assert main(["zoo-info", str(tmp_path)]) == 1
    assert main(["train", "--zoo", str(tmp_path), "--model", "mlp", "--out",
                 str(tmp_path / "r")]) == 1


def test_import_zoo_cli(tmp_path, fixtures_dir, capsys):
    assert main(["import-zoo", str(fixtures_dir / "siren_cifar_inrs.pt"), "--out",
                 str(tmp_path / "z")]) == 0
    assert "8 INRs of SIREN 2→32→32→3" in capsys.readouterr().out


def test_train_and_eval_cli(tmp_path, capsys):
    zoo = tmp_path / "zoo"
    main(["fit", "--dataset", "digits", "--out", str(zoo), "--limit", "8", "--steps", "3"])
    run = tmp_path / "run"
    assert main(["train", "--zoo", str(zoo), "--model", "ng-gnn-lite", "--out", str(run),
                 "--steps", "3", "--set", "hidden=16", "--set", "eval_every=2", "--eval"]) == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["steps"] == 3 and m["test_size"] == 8
    assert m["test_accuracy"] * m["test_size"] == round(m["test_accuracy"] * m["test_size"])


def test_bench_cli(tmp_path, capsys):
    assert main(["bench", "--models", "mlp", "--repeats", "1", "--no-train",
                 "--json", str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "| MLP on flat weights |" in out and "reproduce: dng bench" in out
    assert json.loads((tmp_path / "b.json").read_text())["rows"][0]["params"] > 0


def test_bench_smallcnn_and_its_reference_structure(capsys):
    """The reference-structure row computes what the CNN predictor computes (same outputs),
    laid out as the reference lays out a snapshot; the bench prints both."""
    import torch

    from dng.bench_cnn import SMALLCNN, reference_structure, smallcnn_weights
    from dng.models import create

    torch.manual_seed(0)
    m = create("dng-encoder", SMALLCNN, num_classes=1, network_activation_embedding=True,
               fourier_dim=8, emb_dim=8, att_dim=4, hidden=8, pad_taps="zeros").double().eval()
    w = smallcnn_weights(3, "cpu").to(torch.float64)
    torch.testing.assert_close(reference_structure(m)(w), m(w), atol=1e-10, rtol=0)
    assert main(["bench", "--shape", "smallcnn", "--models", "dng-encoder", "--repeats", "1",
                 "--no-train"]) == 0
    out = capsys.readouterr().out
    assert "| DNG CNN predictor" in out and "|   same, reference structure |" in out


def test_zoo_verbs_and_their_older_spellings(tmp_path, capsys):
    out = tmp_path / "zoo"
    assert main(["zoo", "fit", "--dataset", "digits", "--out", str(out), "--limit", "3",
                 "--steps", "2"]) == 0
    capsys.readouterr()
    assert main(["zoo", "info", str(out), "--stats"]) == 0
    new = capsys.readouterr().out
    assert main(["zoo-info", str(out), "--stats"]) == 0
    assert capsys.readouterr().out == new and "weight std" in new


def test_version(capsys):
    import pytest

    from dng import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"dng {__version__}"
