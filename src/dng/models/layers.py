"""Small building blocks: Fourier features of scalars, the recurrent cells of the DNG-Encoder."""

from __future__ import annotations

import math

import torch
from torch import nn

_TWO_PI = 2 * math.pi


class FourierFeatures(nn.Module):
    r"""Random Fourier features of scalars (weights and biases share one β).

    .. math::
        z_k = (x \beta_k) \cdot 2\pi, \qquad
        \gamma(x) = [\sin z_0, …, \sin z_{F-1}, \cos z_0, …, \cos z_{F-1}]

    ``x * β`` is rounded first, then multiplied by ``float32(2π)`` (the reference's order).

    Shapes: ``x (...)`` → ``(..., 2F)``. ``β`` is a buffer ``(1, F)`` drawn from
    ``N(0, scale²)``.
    """

    def __init__(self, fourier_dim: int = 128, scale: float = 3.0):
        super().__init__()
        self.fourier_dim, self.scale = fourier_dim, scale
        self.register_buffer("b", torch.empty(1, fourier_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.b.normal_(0.0, self.scale)

    @property
    def out_dim(self) -> int:
        return 2 * self.fourier_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x.unsqueeze(-1) * self.b[0]) * _TWO_PI
        return torch.cat([torch.sin(z), torch.cos(z)], dim=-1)

    def project(self, x: torch.Tensor, weight: torch.Tensor,
                bias: torch.Tensor | None = None) -> torch.Tensor:
        """``γ(x) Wᵀ (+ bias)`` without materialising ``γ(x)``: ``sin(z) W_sᵀ + cos(z) W_cᵀ``.

        Same math as ``F.linear(self(x), weight, bias)``; saves the concatenation pass and, with
        ``bias=None``, the bias-broadcast pass of ``addmm`` (``x (...)`` → ``(..., out)``).
        """
        if torch.is_autocast_enabled(x.device.type):  # mixed precision: keep it simple
            return torch.nn.functional.linear(self(x), weight, bias)
        F = self.fourier_dim
        z = ((x.unsqueeze(-1) * self.b[0]) * _TWO_PI).reshape(-1, F)
        out = torch.mm(torch.sin(z), weight[:, :F].T)
        out = out.addmm_(torch.cos(z), weight[:, F:].T)
        if bias is not None:
            out = out.add_(bias)
        return out.view(*x.shape, weight.shape[0])


class ParamCache:
    """A value computed from some parameters, reused while none of them has changed (same
    tensors, same ``_version``) and no gradient has to flow through it — like PyG's
    ``cached=True``, but safe while training: a step of the optimiser bumps the versions.

    ``get(params, compute, *extra_key)`` returns ``compute()`` or the cached value.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._value = None

    def clear(self) -> None:
        self._key = self._value = None

    def get(self, params, compute, *extra_key):
        if torch.is_grad_enabled() and any(p.requires_grad for p in params):
            return compute()  # a graph is needed: never cached
        key = (tuple((id(p), p._version, p.device, p.dtype) for p in params), *extra_key)
        if self._key != key:
            self._key, self._value = key, compute()
        return self._value


def group_size(batch: int, device: torch.device, chunk: int) -> int:
    """INRs per group for the CPU inference paths: ``chunk`` without gradients on a CPU
    (each group's large intermediate stays in cache), else the whole batch (``chunk = 0``:
    never grouped)."""
    if chunk > 0 and device.type == "cpu" and not torch.is_grad_enabled():
        return chunk
    return batch


def _reset_uniform(module: nn.Module, dim: int) -> None:
    """Every parameter (biases included) from ``U(±1/√D)`` — the reference's cell init."""
    bound = 1.0 / math.sqrt(dim)
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


class _RecurrentCell(nn.Module):
    r"""What the recurrent cells share: :math:`h' = \mathrm{update}(g_x, g_h, m)` with
    :math:`g_x = W_x x + c_x` (or a precomputed ``gx``, when the input projection has been
    composed with the layer before it) and :math:`g_h = W_h m + c_h`; every parameter from
    ``U(±1/√D)``. Subclasses provide ``input_map``, ``hidden_map`` and :meth:`update`."""

    dim: int
    input_map: nn.Linear
    hidden_map: nn.Linear

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.dim)

    def update(self, gx: torch.Tensor, gh: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor | None, m: torch.Tensor,
                gx: torch.Tensor | None = None) -> torch.Tensor:
        if gx is None:
            gx = self.input_map(x)
        return self.update(gx, self.hidden_map(m), m)


class GRUCell(_RecurrentCell):
    r"""GRU update with the *bias embedding as input* and the *message as hidden state*.

    .. math::
        g_x = W_x x + c_x,\quad g_h = W_h m + c_h \quad (\text{each split into } r, z, n)\\
        r = \sigma(g_{x,r} + g_{h,r}),\; z = \sigma(g_{x,z} + g_{h,z}),\;
        n = \tanh(g_{x,n} + r \odot g_{h,n}),\; h' = (1 - z) \odot n + z \odot m

    Shapes: ``x, m (..., D)`` → ``(..., D)``.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.input_map = nn.Linear(dim, 3 * dim)
        self.hidden_map = nn.Linear(dim, 3 * dim)
        self.reset_parameters()

    def update(self, gx: torch.Tensor, gh: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        xr, xz, xn = gx.chunk(3, dim=-1)
        hr, hz, hn = gh.chunk(3, dim=-1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (1 - z) * n + z * m


class ReLURNNCell(_RecurrentCell):
    r"""Plain recurrent update: :math:`h' = \mathrm{ReLU}(W_x x + c_x + W_h m + c_h)`.

    Its Linears keep the reference's names (``input_lin``, ``hidden_lin``)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.input_lin = nn.Linear(dim, dim)
        self.hidden_lin = nn.Linear(dim, dim)
        self.reset_parameters()

    @property
    def input_map(self) -> nn.Linear:
        return self.input_lin

    @property
    def hidden_map(self) -> nn.Linear:
        return self.hidden_lin

    def update(self, gx: torch.Tensor, gh: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return torch.relu(gx + gh)


CELLS = {"gru": GRUCell, "rnn": ReLURNNCell}


def mlp(dims: list[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear → ReLU → Dropout → … → Linear (indices 0, 3, 6, … are the Linears)."""
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers += [nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)
