"""``dng demo`` end to end on a few digits: both runs, step budgets, the report."""

import json

import pytest

from dng.cli import main


def test_demo_runs_both_models_with_step_budgets(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--limit", "12", "--copies", "0",
                 "--stage1-steps", "3", "--stage2-steps", "2", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "probe features" in printed and "paper-faithful" in printed
    for run in ("inr2jls", "inr2jls-paper"):
        s1 = json.loads((out / run / "stage1" / "train.json").read_text())
        s2 = json.loads((out / run / "stage2" / "train.json").read_text())
        assert (s1["steps"], s2["steps"]) == (3, 2)  # step budgets, not wall clock
        for png in ("reconstructions", "confusion", "curves", "latents_pca"):
            assert (out / run / "stage2" / f"{png}.png").stat().st_size > 1000
    def probes(run):  # the model's settings are its config section
        return json.loads((out / run / "stage1" / "config.json").read_text())["model_config"][
            "probes"]

    probes, paper = probes("inr2jls"), probes("inr2jls-paper")
    assert probes > 0 and paper == 0
    report = (out / "report.md").read_text()
    assert report.count("test accuracy") >= 1 and "paper-faithful" in report
    assert "inr2jls-paper/stage2/confusion.png" in report


def test_inr2jls_budget_split_is_checked_before_any_work(tmp_path):
    from dng.pipeline import run_inr2jls

    for share in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="stage1_share"):
            run_inr2jls(tmp_path / "no-zoo", tmp_path / "run", minutes=1, stage1_share=share)
    assert not (tmp_path / "run").exists()
