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
from torch import nn

from dng.arch import Arch
from dng.errors import ShapeError
from dng.graph import dynamic_graph
from dng.models.dng_layer import DNGLayer
from dng.models.layers import CELLS, FourierFeatures
from dng.models.probes import ProbeFeatures
from dng.models.tap_layer import TapDNGLayer
from dng.mixed import MixedNets
from dng.packed import PackedNets
from dng.padded import PaddedNets
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
    # heterogeneous networks (the reference's CNN Wild Park encoder)
    layer_activation_embedding: bool = False  # as above, each layer its own activation
    shared_layers: bool = False  # one set of layer parameters for every snapshot: any depth
    residual_messages: bool = False  # residual edges: h_t += ResLin(h_s) after the update
    mixed_batches: str = "buckets"  # mixed zoos: "buckets" of equal node counts | "padded"

    def to_dict(self) -> dict:
        return asdict(self)


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
        if config.mixed_batches not in ("buckets", "padded"):
            raise ShapeError(f"mixed_batches must be 'buckets' or 'padded', got "
                             f"{config.mixed_batches!r}")
        if config.message not in MESSAGES:
            raise ShapeError(f"unknown message {config.message!r} (choose {', '.join(MESSAGES)})")
        self.config = config
        self.arch = layer_sizes if isinstance(layer_sizes, Arch) else Arch.mlp(layer_sizes)
        for opt in ("network_activation_embedding", "layer_activation_embedding",
                    "residual_messages"):
            if getattr(config, opt) and config.message != "heads":
                raise ShapeError(f"{opt} goes with message='heads'")
        if config.network_activation_embedding and config.layer_activation_embedding:
            raise ShapeError("choose one of network_ and layer_activation_embedding")
        if config.probes and not self.arch.is_mlp:
            raise ShapeError(f"probe features need an MLP; {self.arch.describe()} is not one")
        if config.message == "linear" and self.arch.max_taps > 1:
            raise ShapeError(f"message='linear' takes one tap per edge; {self.arch.describe()} "
                             "has kernels (use message='heads')")
        self.layer_sizes = self.arch.sizes
        L, D, F2 = len(self.layer_sizes) - 1, config.emb_dim, 2 * config.fourier_dim
        self.num_layers = L
        self.slots = self.arch.slots()
        n_slots = 1 if config.shared_layers else max(self.slots) + 1
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
        if config.network_activation_embedding or config.layer_activation_embedding:
            self.net_act_emb = nn.Parameter(torch.empty(len(ACTIVATIONS), F2))
        if config.residual_messages:
            self.res_lin = nn.Linear(D, D)
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
        if hasattr(self, "net_act_emb"):
            nn.init.normal_(self.net_act_emb)
        if self.config.residual_messages:
            self.res_lin.reset_parameters()
        if self.config.probes:
            self.probe_input.reset_parameters()
            for lins in self.probe_lins:
                for lin in lins:
                    lin.reset_parameters()

    @property
    def out_dim(self) -> int:
        return self.layer_sizes[-1] * self.config.emb_dim

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "net_act_emb"  # checkpoints from before an activation was appended
        if key in state_dict and hasattr(self, "net_act_emb") and \
                state_dict[key].shape[0] < self.net_act_emb.shape[0]:
            old = state_dict[key]
            state_dict[key] = torch.cat([old, self.net_act_emb.detach()[old.shape[0]:]])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def check(self, weights: NetWeights | PackedNets | PaddedNets) -> None:
        if not isinstance(weights, (NetWeights, PackedNets, PaddedNets)):
            raise ShapeError(f"expected MLPWeights, NetWeights or PackedNets, got "
                             f"{type(weights).__name__}")
        s, want = weights.layer_sizes, self.layer_sizes
        depth_ok = self.config.shared_layers or len(s) == len(want)
        if not depth_ok or s[0] != want[0] or s[-1] != want[-1]:
            free = "input and output" if self.config.shared_layers else "input, depth and output"
            raise ShapeError(f"the encoder was built for networks "
                             f"{'→'.join(map(str, want))} ({free} must match), got "
                             f"{'→'.join(map(str, s))}")
        taps = weights.arch.max_taps if isinstance(weights, NetWeights) else weights.max_taps
        if taps > 1 and self.config.message != "heads":
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
        per_layer = self.config.layer_activation_embedding
        shared = self.config.shared_layers
        if self.config.probes:
            probe = self.probe(weights)  # [(n_0, K), (B, n_1, K), …, (B, n_L, K)]
            h0 = h0 + self.probe_input(probe[0])
        states: list[torch.Tensor] = []
        for p, (cell, layers) in enumerate(zip(self.cells, self.layers)):
            h = h0.expand(B, -1, -1)
            states = []
            for l, snap in enumerate(snaps):
                layer = layers[0 if shared else snap.slot]
                extra = self._extra(l, snap.activation, snap.edges.shape[1], h)
                if probe is not None:
                    f = self.probe_lins[p][l](probe[l + 1])  # (B, n_{l+1}, D)
                    extra = f if extra is None else extra + f
                kw = {"node_add": node_add} if node_add is not None else {}
                if per_layer:
                    kw["node_add"] = self.net_act_emb[snap.act].unsqueeze(1)
                if snap.mask is not None:
                    kw["mask"] = snap.mask
                if snap.src_mask is not None:
                    kw["src_mask"] = snap.src_mask
                new = self.dropout(layer(h, snap.edges, inputs[l], cell, self.fourier, extra,
                                         u_is_raw=p == 0, **kw))
                if snap.carry is not None:  # padded batches: a copy for shallower networks
                    n = new.shape[1]
                    old = h[:, :n] if h.shape[1] >= n else torch.cat(
                        [h, h.new_zeros(h.shape[0], n - h.shape[1], h.shape[2])], 1)
                    new = torch.where(snap.carry[:, None, None], old, new)
                h = new
                if snap.res_src is not None and self.config.residual_messages:
                    h = self._residual(h, h0, states, snap)
                states.append(h)
            inputs = states
        return states

    def _residual(self, h, h0, states, snap) -> torch.Tensor:
        """``h_t += ResLin(S_s) · mask`` for the residual pairs ``s → t`` into this layer;
        ``S_s``: the source's final state (after its own residual), read before any is added."""
        every = torch.cat([h0.expand(h.shape[0], -1, -1), *states], dim=1)
        term = self.res_lin(every[:, snap.res_src]) * snap.res_mask.unsqueeze(-1).to(h.dtype)
        return h.index_add(1, snap.res_dst, term)

    def forward(self, weights: NetWeights | PackedNets | MixedNets) -> torch.Tensor:
        if isinstance(weights, MixedNets) and self.config.mixed_batches == "padded":
            return self.node_states(PaddedNets.from_mixed(weights))[-1].flatten(1)
        if isinstance(weights, MixedNets):  # one pass per set of equal node counts
            rows, outs = zip(*[(r, self.node_states(p)[-1].flatten(1))
                               for r, p in weights.buckets()])
            return torch.cat(outs)[torch.argsort(torch.cat(rows))]
        return self.node_states(weights)[-1].flatten(1)
