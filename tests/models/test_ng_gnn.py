"""NG-GNN as published (PyG PNAConv): graph, symmetry, input statistics, learning from the CLI."""

import math
import sys

import pytest
import torch

from conftest import random_hidden_perms, random_mlp
from dng.errors import ConfigError
from dng.graph import edge_index, edge_values
from dng.models import create

pytest.importorskip("torch_geometric", reason='ng-gnn needs pip install "dng[baselines]"')

SIZES = (2, 8, 6, 3)


def test_edge_list_matches_the_weight_blocks():
    w = random_mlp(SIZES, batch=2)
    idx, vals = edge_index(SIZES), edge_values(w)
    assert idx.shape == (2, 2 * 8 + 8 * 6 + 6 * 3) and vals.shape == (2, idx.shape[1])
    off = [0, 2, 10, 16]
    for k in torch.randint(0, idx.shape[1], (20,)).tolist():
        s, t = idx[:, k].tolist()
        l = max(i for i in range(3) if off[i] <= s)
        assert off[l + 1] <= t < off[l + 1] + SIZES[l + 1]
        assert vals[1, k] == w.weights[l][1, t - off[l + 1], s - off[l]]


def test_degree_histogram_is_the_graphs():
    model = create("ng-gnn", SIZES, num_classes=4, hidden=8, fourier_dim=4)
    deg = model.convs[0].aggr_module.init_avg_deg_log  # PyG keeps statistics of our histogram
    # in-degrees with both directions: inputs 8, first hidden 2 + 6, second 8 + 3, outputs 6
    d = torch.tensor([8.0] * 2 + [8.0] * 8 + [11.0] * 6 + [6.0] * 3)
    assert deg == pytest.approx(float(torch.log(d + 1).mean()), rel=1e-5)


@pytest.mark.parametrize("probes", [0, 5])
def test_invariant_to_hidden_permutations(probes):
    torch.manual_seed(0)
    model = create("ng-gnn", SIZES, num_classes=4, hidden=8, fourier_dim=4,
                   probes=probes).double().eval()
    w = random_mlp(SIZES, batch=3).to(torch.float64)
    model.set_input_stats(w)
    p = w.permute_hidden(random_hidden_perms(SIZES, 3))
    with torch.no_grad():
        a, b = model(w), model(p)
    assert a.abs().max() > 1e-3
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_input_statistics_standardise_each_layer():
    model = create("ng-gnn", SIZES, num_classes=4, hidden=8, fourier_dim=4)
    w = random_mlp(SIZES, batch=16)
    model.set_input_stats(w)
    for l in range(3):
        assert float(model.w_std[l]) == pytest.approx(float(w.weights[l].double().std()), rel=1e-5)
        assert float(model.b_mean[l]) == pytest.approx(float(w.biases[l].double().mean()),
                                                       abs=1e-6)
    st = model.state_dict()  # saved with the model, so a loaded run normalises alike
    assert {"w_mean", "w_std", "b_mean", "b_std"} <= set(st)
    scaled = random_mlp(SIZES, batch=4)
    out = model.eval()(scaled)
    model.reset_parameters()
    assert torch.equal(model.w_std, st["w_std"])  # statistics are data, not parameters
    assert not torch.equal(model.eval()(scaled), out)


@pytest.mark.parametrize("name", ["ng-gnn", "ng-gnn-lite"])
def test_reset_parameters_resets_every_parameter(name):
    model = create(name, SIZES, num_classes=4, hidden=8, fourier_dim=4, probes=3)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(7.0)  # a parameter that reset_parameters forgets keeps this value
    model.reset_parameters()
    kept = [n for n, p in model.named_parameters() if bool((p == 7.0).all())]
    assert kept == []


def test_without_pyg_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_geometric", None)
    monkeypatch.setitem(sys.modules, "torch_geometric.nn", None)
    with pytest.raises(ConfigError, match=r"dng\[baselines\]"):
        create("ng-gnn", SIZES, num_classes=4)


def test_ng_gnn_trains_from_the_cli_on_a_separable_zoo(separable_zoo, tmp_path):
    from dng.cli import main
    from dng.eval import evaluate_run

    assert main(["train", "--zoo", str(separable_zoo), "--out", str(tmp_path / "r"),
                 "--model", "ng-gnn", "--steps", "240", "--eval-every", "40", "--batch-size",
                 "16", "--hidden", "16", "--fourier-dim", "16", "--probes", "0",
                 "--device", "cpu"]) == 0
    assert evaluate_run(tmp_path / "r", progress=False)["test_accuracy"] >= 0.7


def test_edge_states_equal_the_published_formulation():
    """EdgeProj(EdgeIn(γ(v))) on v = (w, 0, w) forward and (0, w, w) backward, computed
    literally, equals the composed form the model runs."""
    torch.manual_seed(0)
    model = create("ng-gnn", SIZES, num_classes=4, hidden=8, fourier_dim=4).double()
    w = edge_values(random_mlp(SIZES, batch=3, dtype=torch.float64))
    zero = torch.zeros_like(w)
    v = torch.cat([torch.stack([w, zero, w], -1), torch.stack([zero, w, w], -1)], 1)
    z = 2 * math.pi * (v @ model.edge_beta)  # γ(v) = [sin 2πvβ, cos 2πvβ]
    gamma = torch.cat([z.sin(), z.cos()], dim=-1)
    literal = model.edge_proj(model.edge_in(gamma)).reshape(-1, 8)
    torch.testing.assert_close(model._edge_states(w), literal, rtol=1e-12, atol=1e-12)


def test_forward_and_backward_under_bf16_autocast():
    """The GPU preset trains under bf16 autocast; the same code path runs on a CPU."""
    torch.manual_seed(0)
    model = create("ng-gnn", SIZES, num_classes=4, hidden=8, fourier_dim=4, probes=3)
    w = random_mlp(SIZES, batch=3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(w)
    out.float().sum().backward()
    assert torch.isfinite(out.float()).all()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
