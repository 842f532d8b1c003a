"""Every model setting a run can give, ``name → (type, default)``. A run's model section
(:attr:`dng.train.TrainConfig.model_config`) holds those its model's registry entry names
(:attr:`~dng.models.registry.ModelEntry.fields`); presets set them per model
(:mod:`dng.train.presets`), the CLI makes one flag of each."""

from __future__ import annotations

SETTINGS: dict[str, tuple[type, object]] = {
    "emb_dim": (int, 128), "fourier_dim": (int, 64), "fourier_scale": (float, 3.0),
    "passes": (int, 1), "cell": (str, "gru"), "aggregation": (str, "sum"),
    "positional_embedding": (bool, False), "activation_embedding": (bool, False),
    "probes": (int, 0), "probe_mode": (str, "post"), "att_dim": (int, 32),
    "pad_taps": (str, "zeros"), "mixed_batches": (str, "buckets"), "latent_dim": (int, 64),
    "latent_generator": (bool, True), "dropout": (float, 0.2), "encoder_dropout": (float, 0.0),
    "hidden": (int, 128)}
