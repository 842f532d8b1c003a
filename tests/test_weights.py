import pytest
import torch

from conftest import random_hidden_perms, random_mlp
from dng.errors import ShapeError
from dng.weights import MLPWeights
from dng.zoo import SirenSpec, render


def test_shapes_and_properties():
    w = random_mlp((2, 5, 4, 3), batch=4)
    assert w.layer_sizes == (2, 5, 4, 3)
    assert w.batch_size == len(w) == 4
    assert w.num_parameters == 2 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3
    assert w.flatten().shape == (4, w.num_parameters)
    assert w.activations == ("sine", "sine", "linear")


def test_index_cat_to():
    w = random_mlp((2, 5, 1), batch=6)
    parts = MLPWeights.cat([w[:2], w[2:]])
    for a, b in zip(parts.weights, w.weights):
        assert torch.equal(a, b)
    assert len(w[torch.tensor([0, 5])]) == 2
    assert len(w[3]) == 1
    d = w.to(dtype=torch.float64)
    assert d.dtype == torch.float64 and d.weights[1].dtype == torch.float64


@pytest.mark.parametrize("bad, msg", [
    (lambda w, b: ([w[0], w[1][:, :, :3]], b), "takes 3 inputs"),
    (lambda w, b: (w, [b[0], b[1][:, :2]]), "has 2 entries"),
    (lambda w, b: ([w[0], w[1][:2]], b), "batch"),
    (lambda w, b: ([w[0][0], w[1]], b), "(B, n_out, n_in)"),
])
def test_bad_shapes_raise(bad, msg):
    w = random_mlp((2, 5, 4), batch=3)
    ws, bs = bad(list(w.weights), list(w.biases))
    with pytest.raises(ShapeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        MLPWeights.from_layers(ws, bs)


def test_nan_raises():
    w = random_mlp((2, 5, 1), batch=3)
    ws = list(w.weights)
    ws[1] = ws[1].clone()
    ws[1][0, 0, 0] = float("nan")
    with pytest.raises(ShapeError, match=r"NaN or Inf values in weights\[1\]"):
        MLPWeights.from_layers(ws, w.biases)


def test_permute_hidden_preserves_function():
    spec = SirenSpec(2, (6, 5), 1, 30.0, 30.0)
    w = random_mlp(spec.layer_sizes, batch=3).to(dtype=torch.float64)
    p = w.permute_hidden(random_hidden_perms(spec.layer_sizes, 3))
    assert not torch.equal(p.weights[0], w.weights[0])
    torch.testing.assert_close(render(p, spec, 8, 8), render(w, spec, 8, 8))
