"""Data, no logic: the model names, the presets (values by role, then by model) and the
one-line help of every :class:`~dng.train.config.TrainConfig` field."""

from __future__ import annotations

from dng.models.registry import MODELS as REGISTRY

STAGE1 = "inr2jls"
STAGE2 = "inr2jls-classifier"
INR2INR_MODEL = "inr2inr"  # ablation: stage 1 decoding SIREN weights
MODELS = tuple(REGISTRY)  # the registry table is the one list of models
STAGE1_MODELS = tuple(m for m in MODELS if REGISTRY[m].role == "stage1")
CLASSIFIERS = tuple(m for m in MODELS if REGISTRY[m].role == "classifier")
AUGMENTS = ("none", "rotflip", "noise")


def _role(model: str) -> str:
    return REGISTRY[model].role


# NG-GNN as its authors train it on INR classification (mkofinas/neural-graphs,
# experiments/inr_classification: configs/base.yaml, configs/model/pna.yaml and
# scripts/mnist_cls_pna.sh): AdamW lr 1e-3, amsgrad, wd 5e-4, batch 128, linear warm-up over
# 1 000 steps, grad-norm clip 10, 200 epochs of 45 000 INRs (≈ 70 000 steps); d_hid 32,
# 128 Fourier features (σ 3), GNN dropout 0.2.
NG_GNN_PAPER = dict(steps=70_000, batch_size=128, lr=1e-3, optimizer="adamw", amsgrad=True,
                    weight_decay=5e-4, warmup_base=0.01, warmup_inc=0.01, warmup_every=10,
                    grad_clip=10.0, hidden=32, fourier_dim=128, fourier_scale=3.0,
                    dropout=0.2, probes=0)

# NFN as the INR-classification experiments build it (NP layers of 512 channels, the nfn
# package's Fourier features, head 1000-1000, dropout 0.5: see dng.models.nfn) and train it
# (training_protocols.nfn: batch 32, 200 000 steps, 10 000 warm-up steps; lr 1e-4, AdamW).
NFN_PAPER = dict(steps=200_000, batch_size=32, lr=1e-4, optimizer="adamw", weight_decay=0.0,
                 warmup_base=0.01, warmup_inc=0.01, warmup_every=100, hidden=512,
                 fourier_dim=256, fourier_scale=10.0, dropout=0.5)

# Presets as data: values by role (stage1 / stage2 / classifier), then by model. A model's
# sizes are given under its own field names (ng-gnn's `hidden` is its node width), so the
# trainer passes fields to the model registry as they are.
PRESETS: dict[str, dict[str, dict]] = {
    # The paper's hyper-parameters (Wu et al., TMLR 2026) and the reference's sizes.
    "paper": {
        "stage1": dict(steps=400_000, batch_size=64, lr=1e-4, emb_dim=512, fourier_dim=128,
                       latent_dim=128, eval_every=2000),
        "stage2": dict(steps=200_000, batch_size=64, lr=1e-4, optimizer="adamw",
                       weight_decay=0.1, warmup_base=0.3, warmup_inc=0.07, eval_every=2000),
        "classifier": dict(steps=300_000, batch_size=128, lr=1e-4, optimizer="adamw",
                           weight_decay=5e-4, emb_dim=128, fourier_dim=128, eval_every=2000),
        "dng-encoder": dict(dropout=0.5, encoder_dropout=0.5),
        "ng-gnn": NG_GNN_PAPER,
        "ng-gnn-lite": dict(hidden=64, fourier_dim=64),
        "mlp": dict(hidden=512),
        "nfn": NFN_PAPER,
    },
    # One GPU, short budgets: the paper's sizes, a higher learning rate with warm-up (the
    # paper's constant 1e-4 is made for 400k steps), bf16 autocast and no probes — the
    # paper's models. Chosen before any GPU measurement: see benchmarks/RESULTS.md §9.
    "gpu": {
        "all": dict(precision="bf16", eval_batches=8, checkpoint_dtype="bf16"),
        "stage1": dict(steps=400_000, batch_size=64, lr=3e-4, emb_dim=512, fourier_dim=128,
                       latent_dim=128, warmup_base=0.1, warmup_inc=0.1, warmup_every=200,
                       eval_every=2000),
        "stage2": dict(steps=200_000, batch_size=64, lr=3e-4, optimizer="adamw",
                       weight_decay=0.1, warmup_base=0.1, warmup_inc=0.1, warmup_every=200,
                       eval_every=2000),
        "classifier": dict(steps=300_000, batch_size=128, lr=3e-4, optimizer="adamw",
                           weight_decay=5e-4, emb_dim=128, fourier_dim=128, warmup_base=0.1,
                           warmup_inc=0.1, warmup_every=200, eval_every=2000),
        "dng-encoder": dict(dropout=0.5, encoder_dropout=0.5),
        "ng-gnn": NG_GNN_PAPER,
        "ng-gnn-lite": dict(hidden=64, fourier_dim=64, lr=1e-4),
        "mlp": dict(hidden=512),
        "nfn": NFN_PAPER,
    },
    # Sized for 2 cores: D=128, F=64, latent 64, one image view (augment=none: 3.0–3.6× the
    # stage-1 steps of the 6 views) and probe features with K = 256 (beyond the paper; on the
    # full zoos at 20 CPU-min K = 256 beat 64 by 5.6 points on MNIST and 2.5 on Fashion-MNIST
    # for ~10 % fewer steps) — see benchmarks/RESULTS.md §5.4, §7 and §16.2. Validation on a
    # fixed random 16 batches leaves the budget to training; `dng eval` scores the selected
    # checkpoint on the full splits.
    "cpu": {
        "all": dict(lr=1e-3, warmup_base=1.0, eval_batches=16, augment="none", probes=256),
        "stage1": dict(batch_size=32),
        "stage2": dict(batch_size=64, optimizer="adamw", weight_decay=0.1),
        "classifier": dict(batch_size=64, optimizer="adamw", weight_decay=5e-4, dropout=0.2),
        "dng-encoder": dict(dropout=0.5, encoder_dropout=0.5),
        "ng-gnn": dict(hidden=32, fourier_dim=128, dropout=0.2, amsgrad=True, grad_clip=10.0),
        "ng-gnn-lite": dict(hidden=64, fourier_dim=32),
        "mlp": dict(hidden=512),
        "nfn": dict(hidden=64, fourier_dim=32, fourier_scale=10.0, dropout=0.2),
    },
}


def preset_values(preset: str, model: str) -> dict:
    p = PRESETS[preset]
    return {**p.get("all", {}), **p.get(_role(model), {}), **p.get(model, {})}


HELP = {  # one line per field: the CLI's help text
    "model": " | ".join(MODELS),
    "task": "auto (the model's first task) | classify | reconstruct | regress | edit",
    "target": "regress: the zoo column to predict (test_accuracy, psnr, …)",
    "regress_loss": "regress: auto (bce with a sigmoid for [0, 1] targets, else mse) | bce | mse",
    "style": "edit: dilate | erode | gradient (OpenCV's conventions)",
    "att_dim": "dng-encoder on CNNs: width of each tap head",
    "pad_taps": "dng-encoder on CNNs: zeros (the reference: unmasked padded taps) | masked",
    "mixed_batches": "dng-encoder on mixed zoos: buckets of equal node counts (faster on a "
                     "CPU) | padded (one batch)",
    "preset": "cpu | paper | gpu: the values a run starts from",
    "steps": "step budget", "batch_size": "global batch (split over torchrun ranks)",
    "lr": "learning rate", "weight_decay": "weight decay", "optimizer": "adam | adamw",
    "amsgrad": "use the AMSGrad variant", "grad_clip": "clip the gradient norm (0: off)",
    "warmup_base": "warm-up: lr factor at step 0", "warmup_inc": "warm-up: factor increment",
    "warmup_every": "warm-up: steps per increment", "eval_every": "steps between validations",
    "eval_batches": "validation batches scored (default: the whole split)",
    "budget_minutes": "wall-clock budget (the best validation checkpoint is kept)",
    "seed": "seed of the model and the batch order",
    "copies": "extra random-init INR copies per training image to use",
    "augment": "stage 1 views: none | noise[:level] | rotflip",
    "emb_dim": "encoder width D", "fourier_dim": "Fourier features F",
    "fourier_scale": "Fourier feature scale", "passes": "encoder passes",
    "cell": "gru | rnn", "aggregation": "sum | mean over source neurons",
    "positional_embedding": "ablation: layer/output-neuron embeddings",
    "activation_embedding": "ablation: activation embeddings",
    "probes": "probe inputs K (0: the paper's models)", "probe_mode": "post | pre activations",
    "latent_dim": "INR2JLS latent width", "latent_generator": "INR2JLS latent generator",
    "dropout": "classifier head dropout", "encoder_dropout": "dng-encoder: encoder dropout",
    "hidden": "head width (ng-gnn, ng-gnn-lite: node width; mlp: layer width)",
    "from_run": "stage 2: the stage-1 run directory", "wandb": "also log to Weights & Biases",
    "data_on_device": "keep the train split on the device", "precision": "fp32 | bf16",
    "tf32": "TF32 matmuls on CUDA", "compile": "none | default | reduce-overhead | max-autotune",
    "checkpoint_dtype": "fp32 | bf16 (bf16: weights only, no optimizer state)",
    "cache_features": "stage 2: compute the frozen stage-1 latents once per training network "
                      "(same loss, far fewer FLOPs per step)",
}
