"""Vision transformers as ``dng`` reads them: :class:`ViTSpec` (the shape) and
:class:`ViTWeights` (a validated batch of networks of one shape).

The family is vit-pytorch's ``SimpleViT`` (the DNG paper's ViT zoo): patches of ``p×p×C``
pixels → LayerNorm → Linear(n_0 → dim) → LayerNorm, a fixed 2-D sin-cos positional embedding,
``depth`` pre-norm blocks (multi-head attention without biases: ``to_qkv`` (3·inner × dim),
``to_out`` (dim × inner), inner = heads·dim_head; a GELU MLP dim → mlp_dim → dim), a final
LayerNorm, the mean over tokens and ``linear_head`` (classes × dim). Its state_dict keys are read
as they are (:meth:`ViTSpec.keys`).

The dynamic graph of a ViT (what the encoder reads, ``official_dng_vit/FORMAT.md`` §2): nodes are
channels; the edges are the patch, qkv, out, fc1, fc2 and head weights in PyTorch's
``(out, in)`` layout; the biased layers (patch, fc1, fc2, head) carry bias nodes; LayerNorm
values, the positional embedding and the pooling are not in the graph. Attention head ``h``
owns qkv output rows ``h·dh…`` of each of the q, k and v chunks (:meth:`ViTSpec.head_ids`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from dng.errors import ShapeError
from dng.io import check_tensor


@dataclass(frozen=True)
class ViTSpec:
    """A SimpleViT's hyper-parameters (the ``SimpleViT`` constructor's names)."""

    image_size: int = 32
    patch_size: int = 4
    num_classes: int = 10
    dim: int = 32
    depth: int = 2
    heads: int = 4
    mlp_dim: int = 64
    dim_head: int = 16
    channels: int = 3

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ShapeError(f"ViT hyper-parameter {k} must be a positive integer, got {v!r}")
        if self.image_size % self.patch_size:
            raise ShapeError(f"image_size {self.image_size} is not a multiple of patch_size "
                             f"{self.patch_size}")

    @classmethod
    def from_dict(cls, d: dict) -> "ViTSpec":
        known = set(cls.__dataclass_fields__)
        d = {k: v for k, v in d.items() if k != "family"}
        extra = sorted(set(d) - known)
        if extra:
            raise ShapeError(f"unknown ViT hyper-parameter(s) {extra} (known: {sorted(known)})")
        return cls(**{k: d[k] for k in d})

    def to_dict(self) -> dict:
        return {"family": "vit", **asdict(self)}

    def describe(self) -> str:
        return (f"SimpleViT(patch {self.patch_size}, dim {self.dim}, depth {self.depth}, "
                f"heads {self.heads}×{self.dim_head}, mlp {self.mlp_dim}, "
                f"{self.num_classes} classes)")

    is_mlp = False  # (what callers ask of any architecture description)

    @property
    def num_parameters(self) -> int:
        return sum(math.prod(s) for _, s in self.keys())

    @property
    def n0(self) -> int:
        """The patch-vector length ``p·p·C`` (the graph's input nodes)."""
        return self.patch_size ** 2 * self.channels

    @property
    def inner(self) -> int:
        return self.heads * self.dim_head

    def keys(self) -> list[tuple[str, tuple[int, ...]]]:
        """The state_dict's keys and shapes, in ``SimpleViT``'s order."""
        d, n = self.dim, self.n0
        out = [("to_patch_embedding.1.weight", (n,)), ("to_patch_embedding.1.bias", (n,)),
               ("to_patch_embedding.2.weight", (d, n)), ("to_patch_embedding.2.bias", (d,)),
               ("to_patch_embedding.3.weight", (d,)), ("to_patch_embedding.3.bias", (d,)),
               ("transformer.norm.weight", (d,)), ("transformer.norm.bias", (d,))]
        for i in range(self.depth):
            p = f"transformer.layers.{i}."
            out += [(p + "0.norm.weight", (d,)), (p + "0.norm.bias", (d,)),
                    (p + "0.to_qkv.weight", (3 * self.inner, d)),
                    (p + "0.to_out.weight", (d, self.inner)),
                    (p + "1.net.0.weight", (d,)), (p + "1.net.0.bias", (d,)),
                    (p + "1.net.1.weight", (self.mlp_dim, d)), (p + "1.net.1.bias", (self.mlp_dim,)),
                    (p + "1.net.3.weight", (d, self.mlp_dim)), (p + "1.net.3.bias", (d,))]
        return out + [("linear_head.weight", (self.num_classes, d)),
                      ("linear_head.bias", (self.num_classes,))]

    def head_ids(self) -> torch.Tensor:
        """``(heads, 3·dh)``: the qkv output nodes of each attention head (q, then k, then v)."""
        h = torch.arange(self.heads)[:, None, None]
        j = torch.arange(self.dim_head)[None, None, :]
        c = torch.arange(3)[None, :, None] * self.inner
        return (c + h * self.dim_head + j).reshape(self.heads, -1)


class ViTWeights:
    """``B`` SimpleViTs of one :class:`ViTSpec`: ``params[key]`` is ``(B, *shape)`` for every
    key of :meth:`ViTSpec.keys`. Validates itself (keys, shapes, one real floating dtype, finite
    values); moves, indexes and concatenates."""

    __slots__ = ("spec", "params")

    def __init__(self, spec: ViTSpec, params: dict[str, torch.Tensor], check: bool = True):
        self.spec, self.params = spec, dict(params)
        if check:
            self.validate()

    @classmethod
    def from_state_dicts(cls, state_dicts: Sequence[dict], spec: ViTSpec) -> "ViTWeights":
        """Stack ``SimpleViT`` state_dicts (each checked against ``spec`` first)."""
        if not state_dicts:
            raise ShapeError("no ViT state_dicts given")
        want = dict(spec.keys())
        for i, sd in enumerate(state_dicts):
            missing = [k for k in want if k not in sd]
            extra = [k for k in sd if k not in want]
            if missing or extra:
                raise ShapeError(f"ViT state_dict {i} is not a SimpleViT of {spec}: missing "
                                 f"{missing[:3]}, unexpected {extra[:3]}")
            for k, shape in want.items():
                t = sd[k]
                check_tensor(t, f"ViT state_dict {i}: {k}", ShapeError)
                if tuple(t.shape) != shape:
                    raise ShapeError(f"ViT state_dict {i}: {k} must be {shape}, got "
                                     f"{tuple(getattr(t, 'shape', ()))}")
        return cls(spec, {k: torch.stack([sd[k] for sd in state_dicts]) for k in want})

    def validate(self) -> None:
        want = dict(self.spec.keys())
        if set(self.params) != set(want):
            raise ShapeError(f"ViTWeights: keys differ from the spec's "
                             f"({sorted(set(want) ^ set(self.params))[:3]})")
        B = self.batch_size
        dtype = self.params["linear_head.weight"].dtype
        for k, t in self.params.items():
            if tuple(t.shape) != (B, *want[k]):
                raise ShapeError(f"ViTWeights: {k} must be (B, {want[k]}), got {tuple(t.shape)}")
            if t.dtype != dtype or not t.is_floating_point() or t.is_complex():
                raise ShapeError(f"ViTWeights: {k} has dtype {t.dtype} (need one real floating "
                                 "dtype)")
            if not torch.isfinite(t).all():
                raise ShapeError(f"ViTWeights: NaN or Inf values in {k}")

    # ---------------------------------------------------------------- properties
    @property
    def batch_size(self) -> int:
        return int(self.params["linear_head.weight"].shape[0])

    def __len__(self) -> int:
        return self.batch_size

    @property
    def dtype(self) -> torch.dtype:
        return self.params["linear_head.weight"].dtype

    @property
    def device(self) -> torch.device:
        return self.params["linear_head.weight"].device

    def block(self, i: int, name: str) -> torch.Tensor:
        """Block ``i``'s ``qkv``/``out`` weight or ``fc1_w``/``fc1_b``/``fc2_w``/``fc2_b``."""
        p = f"transformer.layers.{i}."
        return self.params[p + {"qkv": "0.to_qkv.weight", "out": "0.to_out.weight",
                                "fc1_w": "1.net.1.weight", "fc1_b": "1.net.1.bias",
                                "fc2_w": "1.net.3.weight", "fc2_b": "1.net.3.bias"}[name]]

    # ---------------------------------------------------------------- transforms
    def to(self, device=None, dtype: torch.dtype | None = None) -> "ViTWeights":
        if isinstance(device, torch.dtype):
            device, dtype = None, device
        return ViTWeights(self.spec, {k: t.to(device=device, dtype=dtype)
                                      for k, t in self.params.items()}, check=False)

    def __getitem__(self, index) -> "ViTWeights":
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return ViTWeights(self.spec, {k: t[index] for k, t in self.params.items()},
                          check=False)

    @classmethod
    def cat(cls, items: Sequence["ViTWeights"]) -> "ViTWeights":
        if not items or any(it.spec != items[0].spec for it in items):
            raise ShapeError("ViTWeights.cat: nothing to concatenate, or specs differ")
        return cls(items[0].spec, {k: torch.cat([it.params[k] for it in items])
                                   for k in items[0].params}, check=False)

    def state_dict(self, b: int) -> dict[str, torch.Tensor]:
        """Network ``b`` as a ``SimpleViT`` state_dict."""
        return {k: self.params[k][b] for k, _ in self.spec.keys()}

    def graph_inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The reference converter's flat ``(e (B, E), b (B, N))`` (FORMAT.md §2)."""
        e = [self.params["to_patch_embedding.2.weight"]]
        b = [self.params["to_patch_embedding.2.bias"]]
        for i in range(self.spec.depth):
            e += [self.block(i, n) for n in ("qkv", "out", "fc1_w", "fc2_w")]
            b += [self.block(i, "fc1_b"), self.block(i, "fc2_b")]
        e.append(self.params["linear_head.weight"])
        b.append(self.params["linear_head.bias"])
        return torch.cat([t.flatten(1) for t in e], 1), torch.cat(b, 1)

    def permute_hidden(self, mlp: Sequence[torch.Tensor] | None = None,
                       heads: Sequence[torch.Tensor] | None = None) -> "ViTWeights":
        """Function-preserving permutations: ``mlp[i]`` of block ``i``'s MLP hidden units,
        ``heads[i]`` of block ``i``'s attention heads (each head's q, k, v rows and its
        ``to_out`` columns move as one block)."""
        p = dict(self.params)
        s = self.spec
        for i in range(s.depth):
            pre = f"transformer.layers.{i}."
            if mlp is not None:
                m = mlp[i].to(self.device)
                p[pre + "1.net.1.weight"] = p[pre + "1.net.1.weight"][:, m]
                p[pre + "1.net.1.bias"] = p[pre + "1.net.1.bias"][:, m]
                p[pre + "1.net.3.weight"] = p[pre + "1.net.3.weight"][:, :, m]
            if heads is not None:
                hp = heads[i].to(self.device)
                rows = (torch.arange(3, device=self.device)[:, None, None] * s.inner
                        + hp[None, :, None] * s.dim_head
                        + torch.arange(s.dim_head, device=self.device)[None, None, :]).flatten()
                cols = (hp[:, None] * s.dim_head + torch.arange(s.dim_head, device=self.device)
                        ).flatten()
                p[pre + "0.to_qkv.weight"] = p[pre + "0.to_qkv.weight"][:, rows]
                p[pre + "0.to_out.weight"] = p[pre + "0.to_out.weight"][:, :, cols]
        return ViTWeights(self.spec, p)

    def __repr__(self) -> str:
        return f"ViTWeights(B={self.batch_size}, {self.spec}, dtype={self.dtype})"

    # ---------------------------------------------------------------- forward
    def run(self, images: torch.Tensor) -> torch.Tensor:
        """The networks' logits on shared images ``(N, C, H, W)`` → ``(B, N, classes)``
        (``SimpleViT``'s forward, batched over networks)."""
        s, p = self.spec, self.params
        B, (N, C, H, W) = self.batch_size, images.shape
        ps = s.patch_size
        x = images.reshape(N, C, H // ps, ps, W // ps, ps).permute(0, 2, 4, 3, 5, 1)
        x = x.reshape(1, N, -1, s.n0).expand(B, -1, -1, -1)  # (B, N, tokens, p·p·C)
        x = _ln(x, p["to_patch_embedding.1.weight"], p["to_patch_embedding.1.bias"])
        x = _linear(x, p["to_patch_embedding.2.weight"], p["to_patch_embedding.2.bias"])
        x = _ln(x, p["to_patch_embedding.3.weight"], p["to_patch_embedding.3.bias"])
        x = x + posemb_sincos_2d(H // ps, W // ps, s.dim).to(x)
        for i in range(s.depth):
            pre = f"transformer.layers.{i}."
            h = _ln(x, p[pre + "0.norm.weight"], p[pre + "0.norm.bias"])
            qkv = _linear(h, p[pre + "0.to_qkv.weight"]).chunk(3, dim=-1)
            q, k, v = (t.unflatten(-1, (s.heads, s.dim_head)).transpose(-2, -3) for t in qkv)
            att = torch.softmax(q @ k.transpose(-1, -2) * s.dim_head ** -0.5, dim=-1)
            o = (att @ v).transpose(-2, -3).flatten(-2)
            x = x + _linear(o, p[pre + "0.to_out.weight"])
            h = _ln(x, p[pre + "1.net.0.weight"], p[pre + "1.net.0.bias"])
            h = F.gelu(_linear(h, p[pre + "1.net.1.weight"], p[pre + "1.net.1.bias"]))
            x = x + _linear(h, p[pre + "1.net.3.weight"], p[pre + "1.net.3.bias"])
        x = _ln(x, p["transformer.norm.weight"], p["transformer.norm.bias"]).mean(2)
        return _linear(x, p["linear_head.weight"], p["linear_head.bias"])


def _ln(x, w, b):
    """LayerNorm over the last dim with per-network ``w, b (B, d)``; ``x (B, …, d)``."""
    shape = (w.shape[0],) + (1,) * (x.dim() - 2) + (w.shape[1],)
    return F.layer_norm(x, x.shape[-1:]) * w.view(shape) + b.view(shape)


def _linear(x, w, b=None):
    """``x (B, …, in) @ w (B, out, in)ᵀ (+ b (B, out))``."""
    y = torch.einsum("b...i,boi->b...o", x, w)
    if b is not None:
        y = y + b.view(b.shape[0], *(1,) * (x.dim() - 2), b.shape[1])
    return y


def posemb_sincos_2d(h: int, w: int, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """``SimpleViT``'s fixed positional embedding ``(h·w, dim)``."""
    if dim % 4:
        raise ShapeError(f"the sin-cos positional embedding needs dim divisible by 4, got {dim}")
    y, x = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    omega = 1.0 / temperature ** (torch.arange(dim // 4) / (dim // 4 - 1 if dim > 4 else 1))
    y = y.flatten()[:, None] * omega[None, :]
    x = x.flatten()[:, None] * omega[None, :]
    return torch.cat((x.sin(), x.cos(), y.sin(), y.cos()), dim=1).float()


__all__ = ["ViTSpec", "ViTWeights", "posemb_sincos_2d"]
