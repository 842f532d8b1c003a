"""Arch: the one description of a network — constructors, round trip, bad chains, forward."""

import pytest
import torch

from dng.arch import Arch, Layer
from dng.errors import ShapeError
from dng.zoo.siren import SirenSpec, grid_coords, render

from conftest import random_mlp


def test_small_cnn_zoo_network():
    a = Arch.cnn(1, [16, 16, 16])
    assert a.num_parameters == 4970 and a.sizes == (1, 16, 16, 16, 10) and a.max_taps == 9
    assert not a.is_mlp and a.layers[-1].pool and a.layers[-1].activation == "linear"
    assert Arch.from_dict(a.to_dict()) == a
    assert Arch.mlp([2, 32, 32, 1]).is_mlp and Arch.mlp([2, 32, 32, 1]).max_taps == 1


@pytest.mark.parametrize("build, msg", [
    (lambda: Arch((Layer(2, 4), Layer(5, 1))), "takes 5 inputs"),
    (lambda: Arch((Layer(2, 4), Layer(4, 3, "conv", (3, 3)))), "convolution after a dense"),
    (lambda: Layer(2, 3, activation="swish"), "unknown activation"),
    (lambda: Layer(2, 3, kernel=(3, 3)), "dense layer has no kernel"),
    (lambda: Arch.from_dict({"layers": [{"n_in": 2}]}), "not an architecture"),
])
def test_bad_descriptions_are_one_clear_error(build, msg):
    with pytest.raises(ShapeError, match=msg):
        build()


def test_mlp_forward_is_the_siren_rendering():
    spec = SirenSpec(2, (8, 8), 1)
    w = random_mlp(spec.layer_sizes, batch=3)
    spec_arch = Arch.mlp(spec.layer_sizes, spec.activations, spec.omegas)
    out = spec_arch.run(w, grid_coords(5, 5))  # (B, 25, 1)
    torch.testing.assert_close(out.transpose(1, 2).reshape(3, 1, 5, 5), render(w, spec, 5, 5))
    pre = spec_arch.run(w, grid_coords(5, 5), all_layers=True, pre_activation=True)
    assert len(pre) == 3 and pre[0].shape == (3, 25, 8)
