"""``dng bench``: parameters, FLOPs, latency, memory and training throughput per model.

Counting rule for FLOPs: every matrix product and convolution executed in the forward pass
counts ``2·M·N·K`` (PyTorch's ``FlopCounterMode``, which reads the shapes of each ``mm``/``bmm``/
``conv``); elementwise work (sin/cos, GRU gates, LayerNorm, ReLU) is not counted. A batch of 64
is counted and divided by 64, so work shared by the batch (the latent generator's token part)
is amortised as it is when the model runs.

The *reference structure* rows run the same modules the way the reference implementation
does: InputLin and the GRU input map as two products, the generator's first Linear on the
concatenation ``[token ; readout]`` for every token, and classification through the decoder's
path (the reference's inference computes the full autoencoder).
"""

from __future__ import annotations

import copy
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from dng.device import synchronize
from dng.memory import peak_memory
from dng.models import INR2JLS, INR2JLSConfig, create
from dng.models.encoder import EncoderConfig
from dng.models.heads import INR2JLSClassifier
from dng.weights import MLPWeights

SHAPES = {"mnist": ((2, 32, 32, 1), (1, 28, 28)), "cifar": ((2, 32, 32, 3), (3, 32, 32))}
PAPER_ENCODER = dict(fourier_dim=128, fourier_scale=3.0, emb_dim=512)


def parse_shape(s: str):
    if s in SHAPES:
        return SHAPES[s]
    sizes = tuple(int(x) for x in s.split(","))
    C = sizes[-1]
    return sizes, (C, 28, 28) if C == 1 else (C, 32, 32)


def random_weights(sizes, batch: int, device, seed: int = 0) -> MLPWeights:
    g = torch.Generator().manual_seed(seed)
    ws = [torch.randn(batch, sizes[l + 1], sizes[l], generator=g) * 0.3 for l in range(len(sizes) - 1)]
    bs = [torch.randn(batch, sizes[l + 1], generator=g) * 0.3 for l in range(len(sizes) - 1)]
    return MLPWeights.from_layers(ws, bs).to(device)


# --------------------------------------------------------------------------- reference structure

class ReferenceStructure(torch.nn.Module):
    """Runs an :class:`INR2JLS` (or classifier) with the reference's computation structure."""

    def __init__(self, model: torch.nn.Module, classify: bool):
        super().__init__()
        self.model, self.classify = model, classify
        self.backbone = model.backbone if classify else model

    def _generator(self, r: torch.Tensor) -> torch.Tensor:
        gen = self.backbone.generator
        B = r.shape[0]
        tok = gen.tokens.unsqueeze(0).expand(B, -1, -1)
        x = torch.cat([tok, r.unsqueeze(1).expand(-1, tok.shape[1], -1)], dim=-1)
        return gen.fusion(x)

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        enc = self.backbone.encoder
        with _unfused(enc):
            r = enc(weights)
        latent = self._generator(r)
        recon = self.backbone.decoder(latent)
        if self.classify:
            return self.model.head(latent), recon
        return recon


@contextmanager
def _unfused(enc):
    layers = [l for ls in enc.layers for l in ls]
    old = [l.fuse_input for l in layers]
    for l in layers:
        l.fuse_input = False
    try:
        yield
    finally:
        for l, o in zip(layers, old):
            l.fuse_input = o


# --------------------------------------------------------------------------- measurement

def time_fn(fn, device, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def matmul_peak(device, dtype=torch.float32) -> float:
    a = torch.randn(4096, 512, device=device, dtype=dtype)
    b = torch.randn(512, 1536, device=device, dtype=dtype)
    t = time_fn(lambda: a @ b, device, repeats=10, warmup=3)
    return 2 * 4096 * 512 * 1536 / t / 1e9


def _addmm_inplace_flops(self_shape, a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    return 2 * a_shape[0] * a_shape[1] * b_shape[1]


def count_flops(fn) -> int:
    mapping = {torch.ops.aten.addmm_: _addmm_inplace_flops}  # not in PyTorch's table
    with FlopCounterMode(display=False, custom_mapping=mapping) as fc:
        fn()
    return fc.get_total_flops()


@dataclass
class Row:
    name: str
    params: int
    gflops_per_inr: float
    ms_b1: float | None
    ms_b64: float | None
    mem_mib: float | None
    train_inr_s: float | None
    gflops_s: float | None
    peak_share: float | None

    def cells(self) -> list[str]:
        f = lambda v, fmt: "–" if v is None else format(v, fmt)  # noqa: E731
        return [self.name, f"{self.params / 1e6:.2f} M", f(self.gflops_per_inr, ".3f"),
                f(self.ms_b1, ".2f"), f(self.ms_b64, ".2f"), f(self.mem_mib, ".0f"),
                f(self.train_inr_s, ".1f"), f(self.gflops_s, ".1f"),
                "–" if self.peak_share is None else f"{100 * self.peak_share:.0f} %"]


HEADER = ["model", "params", "fwd GFLOP/INR", "ms/INR b1", "ms/INR b64", "peak MiB fwd b64",
          "train INR/s (b64)", "achieved GFLOP/s", "of matmul peak"]


def bench_model(name: str, model: torch.nn.Module, forward, loss_fn, sizes, device,
                peak: float, repeats: int, train: bool, batch: int = 64,
                autocast: bool = False) -> Row:
    model = model.to(device)
    make = sizes if callable(sizes) else (lambda b, dev: random_weights(sizes, b, dev))
    w64, w1 = make(batch, device), make(1, device)
    params = sum(p.numel() for p in model.parameters())
    ctx = (lambda: torch.autocast(torch.device(device).type, dtype=torch.bfloat16)) if autocast \
        else (lambda: torch.autocast("cpu", enabled=False))
    model.eval()
    with ctx():  # counted with autograd on: the flop counter's module hooks need it
        flops = count_flops(lambda: forward(model, w64)) / batch
    with torch.no_grad(), ctx():
        t1 = time_fn(lambda: forward(model, w1), device, repeats * 2)
        t64 = time_fn(lambda: forward(model, w64), device, repeats)
        mem = peak_memory(lambda: forward(model, w64), device)
    rate = None
    if train and loss_fn is not None:
        model.train()
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-5)

        def step():
            with ctx():
                loss = loss_fn(model, w64)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        rate = batch / time_fn(step, device, max(3, repeats // 2), warmup=1)
    achieved = flops * batch / t64 / 1e9
    return Row(name, params, flops / 1e9, 1e3 * t1, 1e3 * t64 / batch, mem, rate, achieved,
               achieved / peak if peak else None)


def run_bench(models: list[str], shape: str = "mnist", device: str = "cpu", repeats: int = 5,
              train: bool = True, reference: bool = True, compile_: bool = False,
              autocast: bool = False) -> dict:
    torch.manual_seed(0)
    peak = matmul_peak(device)
    if shape == "smallcnn":  # the CNN predictor and the CNN baselines
        from dng.bench_cnn import SMALLCNN, cnn_rows

        rows = cnn_rows(models, device, peak, repeats, train, reference, autocast, bench_model)
        return {"device": device, "shape": shape, "arch": SMALLCNN.describe(),
                "threads": torch.get_num_threads(), "matmul_peak_gflops": peak,
                "torch": torch.__version__, "compile": compile_, "bf16_autocast": autocast,
                "rows": [r.__dict__ for r in rows], "_rows": rows}
    sizes, image = parse_shape(shape)
    rows: list[Row] = []
    C, H, W = image
    classes = 10
    enc_cfg = EncoderConfig(**PAPER_ENCODER)
    stage1 = INR2JLS(sizes, image, INR2JLSConfig(encoder=enc_cfg, latent_dim=128))
    targets = torch.rand(64, 6 * C, H, W, device=device) * 2 - 1

    def maybe_compile(m):
        return torch.compile(m) if compile_ else m

    def s1_loss(m, w):
        return F.mse_loss(m(w), targets)

    def cls_loss(m, w):
        out = m(w)
        if out.shape[0] != w.batch_size:  # per-view logits
            y = torch.zeros(w.batch_size, dtype=torch.long, device=device).repeat_interleave(6)
        else:
            y = torch.zeros(w.batch_size, dtype=torch.long, device=device)
        return F.cross_entropy(out, y)

    for name in models:
        if name == "encoder":
            rows.append(bench_model("DNG-Encoder (F=128, D=512)", maybe_compile(stage1.encoder),
                                    lambda m, w: m(w), None, sizes, device, peak, repeats, False,
                                    autocast=autocast))
        elif name == "inr2jls":
            rows.append(bench_model("INR2JLS stage 1 (enc+gen+decoder)", maybe_compile(stage1),
                                    lambda m, w: m(w), s1_loss, sizes, device, peak, repeats,
                                    train, autocast=autocast))
            if reference:
                ref = ReferenceStructure(stage1, classify=False)
                rows.append(bench_model("  same, reference structure", ref, lambda m, w: m(w),
                                        s1_loss, sizes, device, peak, repeats, train,
                                        autocast=autocast))
        elif name == "classify":
            clf = INR2JLSClassifier(copy.deepcopy(stage1), classes)  # freezes its own copy
            rows.append(bench_model("INR2JLS classification inference (no decoder)",
                                    maybe_compile(clf), lambda m, w: m.predict(w), cls_loss,
                                    sizes, device, peak, repeats, train, autocast=autocast))
            if reference:
                ref = ReferenceStructure(clf, classify=True)
                rows.append(bench_model("  same, reference structure", ref,
                                        lambda m, w: m(w)[0], None, sizes, device, peak, repeats,
                                        False, autocast=autocast))
        elif name == "dng-encoder":
            m = create("dng-encoder", sizes, num_classes=classes, fourier_dim=128, emb_dim=128)
            rows.append(bench_model("DNG-Encoder classifier (D=128)", maybe_compile(m),
                                    lambda m, w: m(w), cls_loss, sizes, device, peak, repeats,
                                    train, autocast=autocast))
        elif name in ("ng-gnn", "ng-gnn-lite", "nfn"):
            label = {"ng-gnn": "NG-GNN (PyG PNA, as published)",
                     "ng-gnn-lite": "NG-GNN-lite (dense static graph)",
                     "nfn": "NFN (nfn package, NP 512)"}[name]
            m = create(name, sizes, num_classes=classes)  # needs dng[baselines] for two
            rows.append(bench_model(label, maybe_compile(m), lambda m, w: m(w),
                                    cls_loss, sizes, device, peak, repeats, train,
                                    autocast=autocast))
        elif name == "mlp":
            m = create("mlp", sizes, num_classes=classes)
            rows.append(bench_model("MLP on flat weights", maybe_compile(m), lambda m, w: m(w),
                                    cls_loss, sizes, device, peak, repeats, train,
                                    autocast=autocast))
        else:
            raise ValueError(f"unknown bench model {name!r}")
    return {"device": device, "shape": shape, "mlp": list(sizes), "image": list(image),
            "threads": torch.get_num_threads(), "matmul_peak_gflops": peak,
            "torch": torch.__version__, "compile": compile_, "bf16_autocast": autocast,
            "rows": [r.__dict__ for r in rows], "_rows": rows}


def markdown(result: dict) -> str:
    lines = [f"device {result['device']}, threads {result['threads']}, torch {result['torch']}, "
             + (f"networks {result['arch']}," if "arch" in result else
                f"MLP {'→'.join(map(str, result['mlp']))}, "
                f"image {'×'.join(map(str, result['image']))},")
             + f" fp32 matmul peak measured {result['matmul_peak_gflops']:.0f} GFLOP/s"
             + (", torch.compile" if result["compile"] else "")
             + (", bf16 autocast" if result["bf16_autocast"] else ""), "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in result["_rows"]:
        lines.append("| " + " | ".join(r.cells()) + " |")
    return "\n".join(lines)
