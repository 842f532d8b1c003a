r"""DNG-Encoder: a recurrent GNN over the snapshots of a dynamic neural graph.

For pass ``p = 0..P-1`` the input neurons start from learned states ``h^{(0)} = S_in``
``(n_0, D)``; then for every snapshot ``l = 0..L-1`` (block layer ``l`` → ``l+1``):

.. math::
    \hat E_{ts} &= \mathrm{EdgeLin}_{p,l}(\gamma(W_{l,ts}))                  && (B, n_{l+1}, n_l, D)\\
    m_t &= \textstyle\sum_s \hat E_{ts} \odot \mathrm{NodeLin}_{p,l}(h^{(l)}_s) && (B, n_{l+1}, D)\\
    x_t &= \mathrm{InputLin}_{p,l}(u_t),\quad u = \gamma(b_l) \text{ (pass 0)},\;
          u = S^{(p-1)}_{l+1} \text{ (later passes)}\\
    h^{(l+1)}_t &= \mathrm{Dropout}(\mathrm{LayerNorm}_{p,l}(\mathrm{Cell}_p(\text{input}=x_t,
                   \text{hidden}=m_t)))

``γ`` are random Fourier features (:class:`~dng.models.layers.FourierFeatures`), the cell is a
GRU (or ReLU RNN) shared by the layers of a pass. The readout is the output neurons' final
states, flattened node-major: ``(B, n_L·D)``.

The encoder's parameters depend on the MLP only through ``n_0`` (input states), ``L`` (one
set of per-layer maps per snapshot) and ``n_L`` (readout width): hidden widths are free.
Hidden-neuron permutations leave the readout unchanged (sums over sources, per-node updates).

**Probe features** (``probes = K > 0``, beyond the paper): the input MLP is run on K fixed
probe inputs (:class:`~dng.models.probes.ProbeFeatures`); the input states become
``S_in + ProbeIn(P^T)`` (the probe coordinates, ``(n_0, K) → (n_0, D)``) and every target
neuron's cell input gets ``ProbeLin_{p,l}(f_t)``, its own K activations ``(B, n_{l+1}, K) →
(B, n_{l+1}, D)`` — each snapshot sees the activations of its own layer. ``K = 0`` is the
paper's model, parameter for parameter.

**Other architectures** (:class:`~dng.arch.Arch`): the encoder walks the snapshots of
:func:`~dng.graph.dynamic_graph` and uses the parameters of each snapshot's *slot* (one per
layer unless the architecture shares them). ``message="linear"`` is the layer above (one tap
per edge: MLPs); ``message="heads"`` is :class:`~dng.models.tap_layer.TapDNGLayer` — kernel
taps as heads of width ``att_dim``, a message MLP per (target, source) pair — the reference's
CNN encoder. ``network_activation_embedding`` adds a learned ``2F`` vector per activation kind
to ``γ(b)`` of every node of a network (the reference's CNN encoder; networks of one batch may
differ in activation).

Passes ≥ 2: later passes feed the previous pass's states ``(D)`` to ``InputLin``, whose input
width is therefore ``D`` from pass 1 on. (The reference builds every ``InputLin`` with ``2F``
inputs and so only runs when ``D = 2F``; for ``D = 2F`` both coincide exactly.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dng.arch import Arch
from dng.errors import ShapeError
from dng.graph import dynamic_graph
from dng.models.layers import CELLS, FourierFeatures, ParamCache, group_size
from dng.models.probes import ProbeFeatures
from dng.models.tap_layer import TapDNGLayer
from dng.weights import ACTIVATIONS, NetWeights

MESSAGES = ("linear", "heads")


@dataclass
class EncoderConfig:
    fourier_dim: int = 128
    fourier_scale: float = 3.0
    emb_dim: int = 512
    cell: str = "gru"  # "gru" or "rnn"
    passes: int = 1
    dropout: float = 0.0
    positional_embedding: bool = False
    activation_embedding: bool = False
    # speed options, same math (see DNGLayer; all off = the plain path)
    fuse_input: bool = True  # compose InputLin with the cell's input map
    inference_chunk: int = 2  # INRs per group of the no-grad CPU message (0: off)
    cached: bool = True  # keep the fused input map while the parameters are unchanged
    aggregation: str = "sum"  # "sum" (the paper's) or "mean" over source neurons
    probes: int = 0  # K probe inputs (0: the paper's model; see dng.models.probes)
    probe_mode: str = "post"  # probe features: "post"- or "pre"-activations
    probe_omega: float = 30.0  # frequency of the input MLPs' sine layers (SIREN: 30)
    message: str = "linear"  # "linear" (one tap per edge) | "heads" (taps as heads)
    att_dim: int = 32  # heads: width A of each head
    heads: int = 0  # heads: H (0: the architecture's largest kernel)
    pad_taps: str = "zeros"  # heads: fill of missing taps, "zeros" (reference, Q3) | "masked"
    network_activation_embedding: bool = False  # per-network activation vector added to γ(b)

    def to_dict(self) -> dict:
        return asdict(self)


class DNGLayer(nn.Module):
    r"""The maps of one (pass, snapshot): EdgeLin, NodeLin, InputLin and LayerNorm.

    ``forward(h_src (B, n_in, D), edges (B, n_out, n_in), u, cell, fourier, extra)`` → the
    targets' new states ``(B, n_out, D)``; :meth:`plain_forward` is the paper's update as the
    equations read. The cell and the Fourier features are shared by every layer of a pass (the
    reference's parameter layout), so they are passed in, not owned.

    Speed options (same math, each tested against :meth:`plain_forward` with and without
    gradients; all off = the plain path):

    * ``fuse_input`` — compose InputLin with the cell's input map (one ``2F → 3D`` map);
    * ``inference_chunk`` — without gradients on a CPU, build the ``(B, n_out, n_in, D)``
      edge tensor for that many INRs at a time, so it is summed while still in cache (0: off);
    * ``cached`` — keep the fused map while the parameters are unchanged (inference).
    """

    def __init__(self, emb_dim: int, edge_dim: int, input_dim: int, fuse_input: bool = True,
                 aggregation: str = "sum", inference_chunk: int = 2, cached: bool = True):
        super().__init__()
        if aggregation not in ("sum", "mean"):
            raise ShapeError(f"aggregation must be 'sum' or 'mean', got {aggregation!r}")
        self.aggregation = aggregation
        self.edge_lin = nn.Linear(edge_dim, emb_dim)
        self.node_lin = nn.Linear(emb_dim, emb_dim)
        self.input_lin = nn.Linear(input_dim, emb_dim)
        self.norm = nn.LayerNorm(emb_dim, eps=1e-5)
        self.fuse_input, self.inference_chunk, self.cached = fuse_input, inference_chunk, cached
        self._fused = ParamCache()

    def reset_parameters(self) -> None:
        for m in (self.edge_lin, self.node_lin, self.input_lin, self.norm):
            m.reset_parameters()
        self._fused.clear()

    def plain_forward(self, h_src, edges, u, cell, fourier, extra=None, u_is_raw=True):
        """``m_t = Σ_s EdgeLin(γ(w_ts)) ⊙ NodeLin(h_s)``, ``x_t = InputLin(γ(b_t))`` (or the
        previous pass's state), ``h_t = LayerNorm(Cell(input = x_t, hidden = m_t))``."""
        e = self.edge_lin(fourier(edges))  # (B, n_out, n_in, D)
        m = (e * self.node_lin(h_src).unsqueeze(1)).sum(2)  # (B, n_out, D)
        if self.aggregation == "mean":
            m = m / edges.shape[-1]
        x = self.input_lin(fourier(u) if u_is_raw else u)
        if extra is not None:
            x = x + extra
        return self.norm(cell(x, m))

    def forward(self, h_src, edges, u, cell, fourier, extra=None, u_is_raw=True):
        """``edges (B, n_out, n_in)`` raw weights; ``u`` raw biases ``(B, n_out)`` (pass 0,
        ``u_is_raw``) or previous states ``(B, n_out, D)``."""
        if not (self.fuse_input or self.inference_chunk or self.cached):
            return self.plain_forward(h_src, edges, u, cell, fourier, extra, u_is_raw)
        m = self.message(h_src, edges, fourier)
        if self.aggregation == "mean":
            m = m / edges.shape[-1]
        x, gx = self.input_gates(u, cell, extra, fourier if u_is_raw else None)
        return self.norm(cell(x, m, gx=gx))

    def message(self, h_src: torch.Tensor, edges: torch.Tensor,
                fourier: FourierFeatures) -> torch.Tensor:
        """``Σ_s (A γ(w_ts)) ⊙ n_s + a ⊙ Σ_s n_s`` with ``n = NodeLin(h)`` — the plain sum
        with EdgeLin's bias ``a`` taken out and ``A γ(w)`` from :meth:`FourierFeatures.project`
        (two fewer passes over the edge tensor); in place and by groups of
        ``inference_chunk`` INRs without gradients on a CPU."""
        n = self.node_lin(h_src)  # (B, n_in, D)
        bias_term = (self.edge_lin.bias * n.sum(1)).unsqueeze(1)  # (B, 1, D)
        n = n.unsqueeze(1)
        if torch.is_grad_enabled():
            e = fourier.project(edges, self.edge_lin.weight)  # (B, n_out, n_in, D), no bias
            return (e * n).sum(2) + bias_term
        B = edges.shape[0]
        step = group_size(B, edges.device, self.inference_chunk)
        out = torch.empty_like(bias_term.expand(-1, edges.shape[1], -1))
        for i in range(0, B, step):
            e = fourier.project(edges[i:i + step], self.edge_lin.weight)
            torch.sum(e.mul_(n[i:i + step]), 2, out=out[i:i + step])
        return out.add_(bias_term)

    def _fused_input_map(self, cell_map: nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
        """``W = W_cell · W_in``, ``c = W_cell · c_in + c_cell`` (fp32; cached if ``cached``)."""
        params = (self.input_lin.weight, self.input_lin.bias, cell_map.weight, cell_map.bias)

        def compute():
            with torch.autocast(cell_map.weight.device.type, enabled=False):
                return (cell_map.weight @ self.input_lin.weight,
                        torch.addmv(cell_map.bias, cell_map.weight, self.input_lin.bias))

        return self._fused.get(params, compute) if self.cached else compute()

    def input_gates(self, u: torch.Tensor, cell: nn.Module, extra: torch.Tensor | None,
                    fourier: FourierFeatures | None):
        """Returns ``(x, gx)``: either the cell input ``x`` or its projection ``gx``.

        ``fourier`` is given in pass 0, where ``u`` holds the raw biases (γ applied here)."""
        if self.fuse_input:
            w, c = self._fused_input_map(cell.input_map)
            gx = fourier.project(u, w, c) if fourier is not None else F.linear(u, w, c)
            if extra is not None:
                gx = gx + extra @ cell.input_map.weight.T
            return None, gx
        lin = self.input_lin
        x = fourier.project(u, lin.weight, lin.bias) if fourier is not None else lin(u)
        return (x if extra is None else x + extra), None


class DNGEncoder(nn.Module):
    """DNG-Encoder (see module docstring). ``forward(weights) → (B, n_L·D)``."""

    def __init__(self, layer_sizes: tuple[int, ...] | list[int] | Arch,
                 config: EncoderConfig | None = None, **overrides):
        super().__init__()
        config = config or EncoderConfig()
        if overrides:
            config = EncoderConfig(**{**config.to_dict(), **overrides})
        if config.cell not in CELLS:
            raise ShapeError(f"unknown cell {config.cell!r} (choose {', '.join(CELLS)})")
        if config.passes < 1:
            raise ShapeError("passes must be >= 1")
        if config.message not in MESSAGES:
            raise ShapeError(f"unknown message {config.message!r} (choose {', '.join(MESSAGES)})")
        self.config = config
        self.arch = layer_sizes if isinstance(layer_sizes, Arch) else Arch.mlp(layer_sizes)
        if config.network_activation_embedding and config.message != "heads":
            raise ShapeError("network_activation_embedding goes with message='heads'")
        if config.probes and not self.arch.is_mlp:
            raise ShapeError(f"probe features need an MLP; {self.arch.describe()} is not one")
        if config.message == "linear" and self.arch.max_taps > 1:
            raise ShapeError(f"message='linear' takes one tap per edge; {self.arch.describe()} "
                             "has kernels (use message='heads')")
        self.layer_sizes = self.arch.sizes
        L, D, F2 = len(self.layer_sizes) - 1, config.emb_dim, 2 * config.fourier_dim
        self.num_layers = L
        self.slots = self.arch.slots()
        n_slots = max(self.slots) + 1
        H = config.heads or self.arch.max_taps
        self.input_init_node = nn.Parameter(torch.empty(self.layer_sizes[0], D))
        self.fourier = FourierFeatures(config.fourier_dim, config.fourier_scale)
        self.cells = nn.ModuleList(CELLS[config.cell](D) for _ in range(config.passes))
        def layer(p: int) -> nn.Module:
            if config.message == "heads":
                return TapDNGLayer(D, F2, F2 if p == 0 else D, H, config.att_dim,
                                   config.pad_taps)
            return DNGLayer(D, F2, F2 if p == 0 else D, config.fuse_input, config.aggregation,
                            config.inference_chunk, config.cached)

        self.layers = nn.ModuleList(nn.ModuleList(layer(p) for _ in range(n_slots))
                                    for p in range(config.passes))
        if config.network_activation_embedding:
            self.net_act_emb = nn.Parameter(torch.empty(len(ACTIVATIONS), F2))
        self.dropout = nn.Dropout(config.dropout)
        if config.positional_embedding:
            # one vector per layer, plus one per output neuron (input/output neurons are
            # ordered, hidden ones are not — hidden permutation symmetry is kept)
            self.layer_pos = nn.Parameter(torch.zeros(L, D))
            self.output_pos = nn.Parameter(torch.zeros(self.layer_sizes[-1], D))
        if config.activation_embedding:
            self.act_emb = nn.Embedding(len(ACTIVATIONS), D)
        if config.probes < 0:
            raise ShapeError(f"probes must be >= 0, got {config.probes}")
        if config.probes:
            K = config.probes
            self.probe = ProbeFeatures(K, self.layer_sizes[0], config.probe_omega,
                                       config.probe_mode)
            self.probe_input = nn.Linear(K, D)
            self.probe_lins = nn.ModuleList(nn.ModuleList(nn.Linear(K, D) for _ in range(L))
                                            for _ in range(config.passes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.input_init_node)
        self.fourier.reset_parameters()
        for c in self.cells:
            c.reset_parameters()
        for layers in self.layers:
            for layer in layers:
                layer.reset_parameters()
        if self.config.positional_embedding:
            nn.init.normal_(self.layer_pos, std=0.02)
            nn.init.normal_(self.output_pos, std=0.02)
        if self.config.activation_embedding:
            nn.init.normal_(self.act_emb.weight, std=0.02)
        if self.config.network_activation_embedding:
            nn.init.normal_(self.net_act_emb)
        if self.config.probes:
            self.probe_input.reset_parameters()
            for lins in self.probe_lins:
                for lin in lins:
                    lin.reset_parameters()

    @property
    def out_dim(self) -> int:
        return self.layer_sizes[-1] * self.config.emb_dim

    def check(self, weights: NetWeights) -> None:
        if not isinstance(weights, NetWeights):
            raise ShapeError(f"expected MLPWeights or NetWeights, got {type(weights).__name__}")
        s = weights.layer_sizes
        if len(s) != len(self.layer_sizes) or s[0] != self.layer_sizes[0] or s[-1] != self.layer_sizes[-1]:
            raise ShapeError(f"the encoder was built for networks "
                             f"{'→'.join(map(str, self.layer_sizes))} (input, depth and output "
                             f"must match), got {'→'.join(map(str, s))}")
        if weights.arch.max_taps > 1 and self.config.message != "heads":
            raise ShapeError("these networks have kernels with several taps; the encoder was "
                             "built with message='linear' (one tap per edge)")

    def _extra(self, l: int, activation: str, n_out: int, like: torch.Tensor):
        """Optional positional / activation embedding added to the cell input."""
        extra = None
        if self.config.positional_embedding:
            extra = self.layer_pos[l].expand(n_out, -1)
            if l == self.num_layers - 1:
                extra = extra + self.output_pos
        if self.config.activation_embedding:
            idx = torch.tensor(ACTIVATIONS.index(activation), device=like.device)
            a = self.act_emb(idx).expand(n_out, -1)
            extra = a if extra is None else extra + a
        return extra

    def node_states(self, weights: NetWeights) -> list[torch.Tensor]:
        """Final-pass states of every non-input layer: ``[(B, n_1, D), …, (B, n_L, D)]``."""
        self.check(weights)
        snaps = dynamic_graph(weights)
        inputs: list[torch.Tensor] = [s.nodes for s in snaps]  # raw biases in pass 0
        B = weights.batch_size
        h0 = self.input_init_node
        probe = node_add = None
        if self.config.network_activation_embedding:  # (B, 1, 2F): one kind per network
            node_add = self.net_act_emb[weights.act_ids()[:, 0]].unsqueeze(1)
        if self.config.probes:
            probe = self.probe(weights)  # [(n_0, K), (B, n_1, K), …, (B, n_L, K)]
            h0 = h0 + self.probe_input(probe[0])
        states: list[torch.Tensor] = []
        for p, (cell, layers) in enumerate(zip(self.cells, self.layers)):
            h = h0.expand(B, -1, -1)
            states = []
            for l, snap in enumerate(snaps):
                layer = layers[snap.slot]
                extra = self._extra(l, snap.activation, snap.edges.shape[1], h)
                if probe is not None:
                    f = self.probe_lins[p][l](probe[l + 1])  # (B, n_{l+1}, D)
                    extra = f if extra is None else extra + f
                kw = {"node_add": node_add} if node_add is not None else {}
                h = self.dropout(layer(h, snap.edges, inputs[l], cell, self.fourier, extra,
                                       u_is_raw=p == 0, **kw))
                states.append(h)
            inputs = states
        return states

    def forward(self, weights: NetWeights) -> torch.Tensor:
        return self.node_states(weights)[-1].flatten(1)
