"""The CNN Wild Park predictor equals the reference (official_dng_park/FORMAT.md): its batches
bit for bit, its outputs within the stated tolerances; and it keeps its symmetries."""

import json

import pytest
import torch

from dng.arch import ACTIVATIONS, Arch, Layer
from dng.compat.official import park_net, park_predictor_from_official, predict_park
from dng.compat.official_park import PARK_ACTIVATIONS, buckets
from dng.errors import ShapeError
from dng.packed import PackedNets


@pytest.fixture(scope="module")
def ref(park_fixtures):
    return torch.load(park_fixtures / "gen_predictor_park.pt", weights_only=True)


@pytest.fixture(scope="module")
def nets(park_fixtures):
    return [(torch.load(park_fixtures / f"park_nets/net_{k}_state_dict.pt", weights_only=True),
             json.loads((park_fixtures / f"park_nets/net_{k}_config.json").read_text()))
            for k in range(6)]


def _packed(nets, idx, dtype=torch.float32):
    return PackedNets.pack([park_net(*nets[i]).to(dtype) for i in idx])


def test_buckets_and_batches_equal_the_reference(ref, nets):
    ws = [park_net(*n) for n in nets]
    assert buckets(ws) == [b["net_indices"] for b in ref["buckets"]]
    to_ref = {ACTIVATIONS.index(ours): ref["config"]["act_name_to_id"][theirs]
              for theirs, ours in PARK_ACTIVATIONS.items()}
    for b in ref["buckets"]:
        p = _packed(nets, b["net_indices"])
        H = b["mask"][0].shape[1]
        for l in range(b["L"]):
            t = p.taps[l]  # (B, out, in, T) → the reference's (B, H, in·out), input-major
            e = t.permute(0, 3, 2, 1).flatten(2)
            e = torch.nn.functional.pad(e, (0, 0, 0, H - e.shape[1]))
            assert torch.equal(e, b["edge"][l])
            m = torch.nn.functional.pad(p.tap_mask[l], (0, H - t.shape[-1]))
            assert torch.equal(m, b["mask"][l])
            assert torch.equal(p.biases[l], b["node"][l])
        assert torch.equal(p.res_index, b["residual_index"])
        assert torch.equal(p.res_mask, b["residual_mask"])
        assert torch.equal(p.act.apply_(lambda a: to_ref[a]), b["act_ids"])


@pytest.mark.parametrize("dtype, key, tol", [(torch.float32, "output_by_net", 1e-6),
                                             (torch.float64, "output_f64_by_net", 1e-10)])
def test_predict_park(ref, nets, dtype, key, tol):
    out = predict_park(ref["state_dict"], ref["config"], nets, dtype=dtype)
    assert out.dtype == dtype  # no default-dtype switch needed (the reference's Q7)
    torch.testing.assert_close(out, ref[key][:, 0].to(dtype), atol=tol, rtol=0)


@pytest.mark.parametrize("dtype, tol, sfx", [(torch.float32, 1e-5, ""),
                                             (torch.float64, 1e-10, "_f64")])
def test_encoder_output_and_node_states(ref, nets, dtype, tol, sfx):
    model = park_predictor_from_official(ref["state_dict"], ref["config"]).to(dtype)
    for b in ref["buckets"]:
        p = _packed(nets, b["net_indices"], dtype)
        with torch.no_grad():
            torch.testing.assert_close(model.encoder(p), b["encoder_output" + sfx].to(dtype),
                                       atol=tol, rtol=0)
            torch.testing.assert_close(model(p), b["head_logit" + sfx].to(dtype),
                                       atol=tol / 10 if sfx == "" else tol, rtol=0)
            if sfx == "":
                h0 = model.encoder.input_init_node.expand(len(p), -1, -1)
                every = torch.cat([h0, *model.encoder.node_states(p)], 1)
                torch.testing.assert_close(every, b["all_node_states"], atol=1e-5, rtol=0)


def test_debug_states_before_residuals(ref, nets):
    """Bucket 1's per-layer GRU inputs and residual-free states: where a mismatch would start."""
    dbg = ref["debug_first2"]
    model = park_predictor_from_official(ref["state_dict"], ref["config"])
    p = _packed(nets, dbg["net_indices"])
    layer, enc = model.encoder.layers[0][0], model.encoder
    with torch.no_grad():
        u = enc.fourier(p.biases[0]) + enc.net_act_emb[p.act[:, 0]].unsqueeze(1)
        torch.testing.assert_close(u, dbg["dst_input_fourier_plus_act_layer0"], atol=1e-6, rtol=0)
        m = layer.message(enc.input_init_node.expand(2, -1, -1), p.taps[0], enc.fourier,
                          p.tap_mask[0])
        torch.testing.assert_close(m, dbg["gru_hidden_msg_layer0"], atol=1e-5, rtol=0)


def test_hidden_channel_permutations_do_not_change_the_prediction(ref, nets):
    model = park_predictor_from_official(ref["state_dict"], ref["config"]).double()
    p = _packed(nets, [1, 5], torch.float64)  # different kernels, activations, residuals
    g = torch.Generator().manual_seed(0)
    perms = [torch.randperm(n, generator=g) for n in p.layer_sizes[1:-1]]
    q = p.permute_hidden(perms)
    assert not torch.equal(q.taps[1], p.taps[1])
    with torch.no_grad():
        torch.testing.assert_close(model(p), model(q), atol=1e-12, rtol=0)


def test_park_network_runs_like_its_pytorch_module(nets):
    """Arch.run with residuals (added before the activation, first min(C_j, C_i) channels)
    equals the generator's network written out by hand."""
    sd, cfg = nets[1]  # residual[2] = 0 (4 → 8 channels), residual[3] = 1 (32 → 16)
    w = park_net(sd, cfg)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    acts = {"tanh": torch.tanh, "relu": torch.relu, "none": lambda z: z,
            "gelu": torch.nn.functional.gelu}
    outs, h = [], x
    for i in range(cfg["n_layers"]):
        z = torch.nn.functional.conv2d(h, sd[f"layers.{i}.weight"], sd[f"layers.{i}.bias"],
                                       padding=cfg["padding"][i])
        r = cfg["residual"][i]
        if r >= 0:
            c = min(outs[r].shape[1], z.shape[1])
            z = torch.cat([z[:, :c] + outs[r][:, :c], z[:, c:]], 1)
        h = acts[cfg["activation"][i]](z)
        outs.append(h)
    want = h.mean((2, 3)) @ sd["fc.weight"].T + sd["fc.bias"]
    torch.testing.assert_close(w.arch.run(w, x)[0], want, atol=1e-5, rtol=0)


def test_bad_architectures_are_one_error(nets):
    with pytest.raises(ShapeError, match="layer 2: residual from layer 0 joins mismatched"):
        Arch((Layer(3, 4, "conv", (3, 3), 1, 1), Layer(4, 8, "conv", (3, 3), 2, 1),
              Layer(8, 8, "conv", (3, 3), 1, 1, residual=0)))
    with pytest.raises(ShapeError, match="not a convolution"):
        Arch((Layer(3, 4, "conv", (3, 3), 1, 1), Layer(4, 8, pool=True),
              Layer(8, 8, residual=0)))
    with pytest.raises(ShapeError, match="earlier layer"):
        Arch.park([3, 4, 8], [3, 3], ["relu", "relu"], [-1, 3])
    sd, cfg = nets[0]
    with pytest.raises(ShapeError, match="unknown activation 'swish'"):
        park_net(sd, {**cfg, "activation": ["swish", "relu", "tanh"]})
    w = park_net(sd, {**cfg, "activation": ["swish", "relu", "tanh"]}, unknown_activation="none")
    assert w.arch.layers[0].activation == "linear"  # the reference's reading (Q4)
    with pytest.raises(ShapeError, match="node counts differ"):
        PackedNets.pack([park_net(*nets[0]), park_net(*nets[2])])
