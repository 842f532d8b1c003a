r"""An INR-output editor (beyond the paper): the DNG-Encoder reads an INR and writes an *edited
INR* — a weight-space update read from its per-neuron states — trained through the rendering.

With ``h^{(l)}`` the encoder's final states of layer ``l``'s neurons (``h^{(0)}`` the learned
input states) and γ the encoder's Fourier features:

.. math::
    \Delta W_{l,ts} &= \mathrm{MLP}_W([h^{(l+1)}_t ; h^{(l)}_s ; \gamma(W_{l,ts})]) \cdot s_l\\
    \Delta b_{l,t} &= \mathrm{MLP}_b([h^{(l+1)}_t ; \gamma(b_{l,t})]) \cdot s_l\\
    W'_l = W_l + \Delta W_l,&\quad b'_l = b_l + \Delta b_l,\quad
    \text{output} = \mathrm{render}(W', b') \quad (B, C, H, W)

Every term is a function of a (target, source) pair or of one neuron, so permuting the hidden
neurons of the input INR permutes the edited INR the same way (tested). ``s_l`` is a learned
per-layer scale that starts at 0: training starts from the unedited INR. The loss (the task's)
is the MSE between the rendering and the edited image. With probe features (``probes = K``)
the states also carry each neuron's activations at the probes (per neuron: the symmetry holds).
"""

from __future__ import annotations

import torch
from torch import nn

from dng.errors import ShapeError
from dng.models.encoder import DNGEncoder, EncoderConfig
from dng.models.layers import mlp
from dng.weights import MLPWeights
from dng.zoo.siren import SirenSpec, render


class INREditor(nn.Module):
    """``forward(weights) → (B, C, H, W)`` rendering of the edited INRs;
    ``edited_weights(weights) → MLPWeights``."""

    def __init__(self, layer_sizes, image_shape, encoder: EncoderConfig | None = None,
                 hidden: int = 64, spec: SirenSpec | None = None):
        super().__init__()
        C, H, W = image_shape
        sizes = tuple(getattr(layer_sizes, "sizes", layer_sizes))
        if sizes[-1] != C or sizes[0] != 2:
            raise ShapeError(f"the INR editor edits 2-D SIRENs with {C} outputs, got {sizes}")
        self.image_shape = (C, H, W)
        self.spec = spec or SirenSpec(2, tuple(sizes[1:-1]), C)
        if self.spec.layer_sizes != sizes:
            raise ShapeError(f"SIREN spec {self.spec.layer_sizes} does not fit {sizes}")
        self.encoder = DNGEncoder(sizes, encoder)
        D, F2 = self.encoder.config.emb_dim, 2 * self.encoder.config.fourier_dim
        self.edge_mlp = mlp([2 * D + F2, hidden, hidden, 1])
        self.bias_mlp = mlp([D + F2, hidden, hidden, 1])
        self.scale = nn.Parameter(torch.zeros(len(sizes) - 1))

    def targets(self, images: torch.Tensor) -> torch.Tensor:
        return images

    def encode(self, weights: MLPWeights) -> torch.Tensor:
        return self.encoder(weights)

    def edited_weights(self, weights: MLPWeights) -> MLPWeights:
        states = self.encoder.node_states(weights)  # [(B, n_1, D), …, (B, n_L, D)]
        B = weights.batch_size
        h0 = self.encoder.input_init_node.expand(B, -1, -1)  # the (ordered) input neurons
        hs = [h0, *states]
        fourier = self.encoder.fourier
        ws, bs = [], []
        for l, (w, b) in enumerate(zip(weights.weights, weights.biases)):
            n_out, n_in = w.shape[1:]
            pair = torch.cat([hs[l + 1].unsqueeze(2).expand(-1, -1, n_in, -1),
                              hs[l].unsqueeze(1).expand(-1, n_out, -1, -1), fourier(w)], -1)
            ws.append(w + self.scale[l] * self.edge_mlp(pair).squeeze(-1))
            node = torch.cat([hs[l + 1], fourier(b)], -1)
            bs.append(b + self.scale[l] * self.bias_mlp(node).squeeze(-1))
        return MLPWeights.unchecked(tuple(ws), tuple(bs), weights.activations)

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        # render() gives the images' [-1, 1] scale, whatever range the zoo's INRs output
        return render(self.edited_weights(weights), self.spec, *self.image_shape[1:])

    def predict(self, weights: MLPWeights) -> torch.Tensor:
        return self(weights)
