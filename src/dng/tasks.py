"""Tasks as values: each owns its target, its loss, its scores and its output size.

* :class:`Classify` — the zoo's class label; cross-entropy (per view for models that predict
  one row per view); accuracy.
* :class:`Reconstruct` — the INR's image (INR2JLS stage 1, INR→INR); MSE of the decoded views;
  mean per-INR PSNR.
* :class:`Regress` — a named numeric column of the zoo (``test_accuracy`` of a CNN, ``psnr`` of
  an INR, …); one output; ``sigmoid`` (targets in [0, 1]: BCE as the paper, or MSE) or a plain
  output on targets standardised with the train split's mean and std; scores MSE, R² and
  Kendall τ-b (scipy), kept by the best Kendall τ.
* :class:`Edit` — the stylised image (:mod:`dng.data.styles`); MSE on [-1, 1] and [0, 1].

The training loop, checkpoints, ``dng eval`` and :mod:`dng.metrics` call the task; none of them
names a model. A model only has to provide ``forward(weights)`` (training output) and
``predict(weights)`` (one row per network), plus ``targets(images)`` for reconstruction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dng.data.styles import STYLES, stylize
from dng.errors import ConfigError
from dng.zoo.fit import psnr_from_mse

TASKS = ("classify", "reconstruct", "regress", "edit")
REGRESS_LOSSES = ("bce", "mse")


def _normalize(images_u8: torch.Tensor) -> torch.Tensor:
    from dng.data.datasets import normalize_images

    return normalize_images(images_u8)


def kendall_tau(pred: torch.Tensor, true: torch.Tensor) -> float:
    """Kendall τ-b (scipy) of predictions against targets; NaN where undefined (constant
    input)."""
    from scipy.stats import kendalltau

    if len(pred) < 2:
        return float("nan")
    return float(kendalltau(pred.double().numpy(), true.double().numpy()).statistic)


def r2_score(pred: torch.Tensor, true: torch.Tensor) -> float:
    """Coefficient of determination ``1 − SS_res / SS_tot``."""
    true, pred = true.double(), pred.double()
    ss_tot = float(((true - true.mean()) ** 2).sum())
    return 1.0 - float(((true - pred) ** 2).sum()) / ss_tot if ss_tot > 0 else float("nan")


class Task:
    """What every task provides (see the module docstring)."""

    name: str = ""
    metric: str = ""  # the validation metric's name (shown in logs and curves)
    target: str | None = None  # the zoo column read as ``y`` (None: images only)
    eval_batch_size: int = 256
    needs_images: bool = False

    def output_size(self) -> int:
        raise NotImplementedError

    def prepare(self, train_targets: torch.Tensor | None) -> "Task":
        """Statistics of the train split's targets the task needs (a copy, or ``self``)."""
        return self

    def loss(self, model, weights, y, images_u8) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, model, weights) -> torch.Tensor:
        """Predictions in the target's own units, one row per network."""
        return model.predict(weights)

    def scores(self, pred: torch.Tensor, y: torch.Tensor) -> dict:
        raise NotImplementedError

    def objective(self, metrics: dict) -> float:
        """What a run maximises when it keeps its best checkpoint."""
        return metrics[self.metric]

    def to_dict(self) -> dict:
        return {"task": self.name, "target": self.target}


@dataclass
class Classify(Task):
    num_classes: int = 10
    name: str = "classify"
    metric: str = "accuracy"
    target: str = "label"

    def output_size(self) -> int:
        return self.num_classes

    def loss(self, model, weights, y, images_u8):
        logits = model(weights)  # (B, classes) or per view (B·V, classes)
        return F.cross_entropy(logits, y.repeat_interleave(logits.shape[0] // len(y)))

    def predict(self, model, weights):
        return model.predict(weights).argmax(1)

    def scores(self, pred, y):
        return {"accuracy": float((pred == y).float().mean())}


@dataclass
class Reconstruct(Task):
    augment: str = "none"
    name: str = "reconstruct"
    metric: str = "psnr"
    target: None = None
    eval_batch_size: int = 64
    needs_images: bool = True

    def output_size(self) -> int:
        return 0

    def target_images(self, images_u8: torch.Tensor) -> torch.Tensor:
        """What the model's output is compared with: the INRs' own images in [-1, 1]."""
        return _normalize(images_u8)

    def per_inr_mse(self, model, weights, images_u8):
        rec = model(weights)
        return (rec - model.targets(self.target_images(images_u8))).pow(2).flatten(1).mean(1)

    def loss(self, model, weights, y, images_u8):
        if self.augment.startswith("noise") and model.training:
            level = float(self.augment.split(":")[1]) if ":" in self.augment else 0.01
            weights = weights.map(lambda t: t + level * t.std() * torch.randn_like(t))
        from dng import distributed

        m = distributed.unwrap(model)
        return F.mse_loss(model(weights), m.targets(self.target_images(images_u8)))

    def scores(self, mse, y=None):
        return {"loss": float(mse.mean()), "psnr": float(psnr_from_mse(mse).mean())}

    def objective(self, metrics):
        return -metrics["loss"]


@dataclass
class Regress(Task):
    target: str = "test_accuracy"
    sigmoid: bool = True
    loss_name: str = "bce"
    name: str = "regress"
    metric: str = "kendall_tau"
    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self):
        if self.loss_name not in REGRESS_LOSSES:
            raise ConfigError(f"regression loss {self.loss_name!r}: choose "
                              f"{' or '.join(REGRESS_LOSSES)}")
        if self.loss_name == "bce" and not self.sigmoid:
            raise ConfigError("loss=bce needs a sigmoid output (targets in [0, 1])")

    def output_size(self) -> int:
        return 1

    def prepare(self, train_targets):
        if self.sigmoid or train_targets is None or len(train_targets) == 0:
            return self
        t = train_targets.double()
        std = float(t.std()) if len(t) > 1 else 1.0
        return Regress(self.target, self.sigmoid, self.loss_name, mean=float(t.mean()),
                       std=std if std > 0 and math.isfinite(std) else 1.0)

    def _out(self, model, weights, train: bool):
        out = (model(weights) if train else model.predict(weights)).reshape(-1)
        return out

    def loss(self, model, weights, y, images_u8):
        out = self._out(model, weights, True)
        y = y.to(out.dtype)
        if self.sigmoid:
            if self.loss_name == "bce":
                return F.binary_cross_entropy_with_logits(out, y)
            return F.mse_loss(torch.sigmoid(out), y)
        return F.mse_loss(out, (y - self.mean) / self.std)

    def to_output(self, y: torch.Tensor) -> torch.Tensor:
        """Targets on the model's output scale (a logit, or standardised): what a model
        fitted in closed form (StatNN) fits."""
        y = y.double()
        if self.sigmoid:
            y = y.clamp(1e-4, 1 - 1e-4)
            return torch.log(y / (1 - y))
        return (y - self.mean) / self.std

    def predict(self, model, weights):
        out = self._out(model, weights, False)
        return torch.sigmoid(out) if self.sigmoid else out * self.std + self.mean

    def scores(self, pred, y):
        pred, y = pred.double().cpu(), y.double().cpu()
        return {"kendall_tau": kendall_tau(pred, y), "r2": r2_score(pred, y),
                "mse": float(((pred - y) ** 2).mean())}

    def objective(self, metrics):
        v = metrics["kendall_tau"]
        return v if math.isfinite(v) else -math.inf

    def to_dict(self):
        return {"task": "regress", "target": self.target, "sigmoid": self.sigmoid,
                "loss": self.loss_name, "mean": self.mean, "std": self.std}


@dataclass
class Edit(Reconstruct):
    """Edit the image an INR stores: a reconstruction whose target is the stylised image
    (:func:`dng.data.styles.stylize`); scores are the per-pixel MSE on the [-1, 1] scale
    (``mse``) and on [0, 1] (``mse01`` = ``mse``/4)."""

    style: str = "dilate"
    name: str = "edit"
    metric: str = "mse"

    def __post_init__(self):
        if self.style not in STYLES:
            raise ConfigError(f"unknown style {self.style!r} (choose {', '.join(STYLES)})")

    def target_images(self, images_u8: torch.Tensor) -> torch.Tensor:
        return _normalize(stylize(images_u8, self.style))

    def scores(self, mse, y=None):
        return {"mse": float(mse.mean()), "mse01": float(mse.mean()) / 4}

    def objective(self, metrics):
        return -metrics["mse"]

    def to_dict(self):
        return {"task": "edit", "style": self.style}



def eval_batch_size(name: str) -> int:
    """Networks per evaluation batch for a task (decoders are memory-hungry)."""
    return 64 if name in ("reconstruct", "edit") else 256


def make_task(name: str, *, num_classes: int = 0, augment: str = "none",
              target: str | None = None, loss: str | None = None,
              sigmoid: bool | None = None, style: str | None = None) -> Task:
    """A task by name with what it needs from the config and the zoo."""
    if name == "classify":
        if num_classes < 2:
            raise ConfigError("classification needs labels (the zoo has fewer than 2 classes)")
        return Classify(num_classes)
    if name == "reconstruct":
        return Reconstruct(augment)
    if name == "regress":
        target = target or "test_accuracy"
        if sigmoid is None:
            sigmoid = target in ("test_accuracy", "train_accuracy", "accuracy")
        return Regress(target, sigmoid, loss or ("bce" if sigmoid else "mse"))
    if name == "edit":
        return Edit(style=style or "dilate")
    raise ConfigError(f"unknown task {name!r} (choose {', '.join(TASKS)})")
