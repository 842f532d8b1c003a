"""The ViT predictor equals the reference (official_dng_vit/FORMAT.md), reads SimpleViT
state_dicts as they are, and keeps the ViT's symmetries (MLP units, attention heads)."""

import pytest
import torch

from dng.compat.official import predict_vit, vit_predictor_from_official
from dng.errors import ShapeError
from dng.models.vit_encoder import ViTEncoder, ViTEncoderConfig
from dng.vit import ViTSpec, ViTWeights


@pytest.fixture(scope="module")
def ref(vit_fixtures):
    return torch.load(vit_fixtures / "vit_gen_predictor.pt", weights_only=True)


@pytest.fixture(scope="module")
def vits(ref):
    spec = ViTSpec.from_dict(ref["vit_hyperparameters"])
    return ViTWeights.from_state_dicts(ref["vit_state_dicts"], spec)


def test_graph_inputs_equal_the_converter(ref, vits):
    e, b = vits.graph_inputs()
    assert torch.equal(e, ref["inputs_e"]) and torch.equal(b, ref["inputs_b"])
    assert [k for k, _ in vits.spec.keys()] == ref["vit_state_dict_keys"]
    assert vits.spec.head_ids().tolist() == ref["graph_spec"]["head_ids"]


@pytest.mark.parametrize("dtype, key, tol", [(torch.float32, "output", 1e-6),
                                             (torch.float64, "output_f64", 1e-10)])
def test_predict_vit(ref, dtype, key, tol):
    out = predict_vit(ref["state_dict"], ref["config"], ref["vit_state_dicts"],
                      ref["vit_hyperparameters"], dtype=dtype)
    torch.testing.assert_close(out, ref[key][:, 0].to(dtype), atol=tol, rtol=0)


@pytest.mark.parametrize("dtype, tol, sfx", [(torch.float32, 1e-5, ""),
                                             (torch.float64, 1e-10, "_f64")])
def test_encoder_output_and_logit(ref, vits, dtype, tol, sfx):
    m = vit_predictor_from_official(ref["state_dict"], ref["config"], vits.spec).to(dtype)
    w = vits.to(dtype)
    with torch.no_grad():
        torch.testing.assert_close(m.encoder(w), ref["encoder_output" + sfx].to(dtype),
                                   atol=tol, rtol=0)
        torch.testing.assert_close(m(w), ref["head_logit" + sfx].to(dtype),
                                   atol=tol / 10 if sfx == "" else tol, rtol=0)


def test_first_block_intermediates(ref, vits):
    """Where a mismatch would start: the patch layer's states and block 0's attention nodes."""
    dbg = ref["debug_first2"]
    enc = vit_predictor_from_official(ref["state_dict"], ref["config"], vits.spec).encoder
    w = vits[:2]
    with torch.no_grad():
        torch.testing.assert_close(enc.init_aff(enc.input_init_node), dbg["init_nodes_affine"],
                                   atol=1e-6, rtol=0)
        init = enc.patch_src(enc.init_aff(enc.input_init_node)).expand(2, -1, -1)
        m = enc.msg(enc.patch_edge, w.params["to_patch_embedding.2.weight"], init)
        torch.testing.assert_close(m, dbg["to_emb_hidden_msg"], atol=1e-5, rtol=0)
        x = enc.patch_in(enc.fourier(w.params["to_patch_embedding.2.bias"]))
        S = enc.patch_norm(enc.cell(x, m))
        torch.testing.assert_close(S, dbg["to_emb_nodes_after_norm"], atol=1e-5, rtol=0)
        blk = enc.blocks[0]
        Q = blk.norms[0](enc.msg(blk.edge["qkv"], w.block(0, "qkv"),
                                 blk.src[0](blk.att_aff(S))))
        torch.testing.assert_close(Q, dbg["block0_qkv_nodes_after_norm"], atol=1e-5, rtol=0)


def test_norm_fc2_is_the_clean_variant(ref, vits):
    """norm_fc2=True loads emb_norm_i_5 (discarded by the reference, Q1) and changes the output."""
    spec = vits.spec
    quirk = vit_predictor_from_official(ref["state_dict"], ref["config"], spec)
    clean = vit_predictor_from_official(ref["state_dict"], ref["config"], spec, norm_fc2=True)
    with torch.no_grad():
        assert not torch.allclose(quirk(vits), clean(vits))


def test_mlp_unit_and_head_permutations_do_not_change_the_readout(vits):
    torch.manual_seed(0)
    w = vits[:3].to(torch.float64)
    enc = ViTEncoder(w.spec, ViTEncoderConfig(emb_dim=8, fourier_dim=4)).double()
    g = torch.Generator().manual_seed(1)
    s = w.spec
    mlp = [torch.randperm(s.mlp_dim, generator=g) for _ in range(s.depth)]
    heads = [torch.randperm(s.heads, generator=g) for _ in range(s.depth)]
    p = w.permute_hidden(mlp=mlp, heads=heads)
    assert not torch.equal(p.block(0, "qkv"), w.block(0, "qkv"))
    x = torch.randn(4, 3, 32, 32, dtype=torch.float64)
    torch.testing.assert_close(w.run(x), p.run(x))  # function-preserving …
    with torch.no_grad():  # … and the encoder does not see it
        torch.testing.assert_close(enc(w), enc(p), atol=1e-10, rtol=0)


def test_vit_from_another_family_is_one_error(ref, vits):
    sd = dict(ref["vit_state_dicts"][0])
    sd["linear_head.1.weight"] = sd.pop("linear_head.weight")  # older SimpleViT naming (Q6)
    with pytest.raises(ShapeError, match="missing \\['linear_head.weight'\\]"):
        ViTWeights.from_state_dicts([sd], vits.spec)
    with pytest.raises(ShapeError, match="to_qkv.weight must be"):
        ViTWeights.from_state_dicts(ref["vit_state_dicts"][:1],
                                    ViTSpec(**{**ref["vit_hyperparameters"], "heads": 2}))
    with pytest.raises(ShapeError, match="unknown ViT hyper-parameter"):
        ViTSpec.from_dict({"dim": 32, "width": 3})
    enc = ViTEncoder(ViTSpec(dim=16, dim_head=8, mlp_dim=32), ViTEncoderConfig(emb_dim=8))
    with pytest.raises(ShapeError, match="reads SimpleViTs of"):
        enc(vits)


def test_run_equals_vit_pytorch(ref, vits):
    """ViTWeights.run against vit-pytorch's SimpleViT (optional dependency; checked by hand
    with 1.26.14: RESULTS §12)."""
    SimpleViT = pytest.importorskip("vit_pytorch.simple_vit",
                                    reason="vit-pytorch not importable").SimpleViT
    x = torch.randn(3, 3, 32, 32)
    want = []
    for sd in ref["vit_state_dicts"][:2]:
        m = SimpleViT(**ref["vit_hyperparameters"])
        m.load_state_dict(sd)
        want.append(m.eval()(x))
    torch.testing.assert_close(vits[:2].run(x), torch.stack(want), atol=1e-5, rtol=0)
