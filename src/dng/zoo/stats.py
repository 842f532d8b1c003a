"""Per-layer weight and bias statistics of a zoo, and the published statistics of the field's
INR datasets to compare them with.

The published figures below are copied (not read at run time) from the ``stats`` blocks of
mkofinas/neural-graphs' data configs, which normalise inputs with them:
``experiments/style_editing/configs/data/nfn_mnist.yaml`` (the NFN / DNG-paper MNIST SIREN
zoo) and ``experiments/inr_classification/configs/data/mnist.yaml`` (DWSNets' MNIST INRs).
"""

from __future__ import annotations

from dng.errors import ConfigError
from dng.weights import MLPWeights

# layer sizes 2→32→32→1; one entry per layer (first, hidden, output)
REFERENCE_STATS: dict[str, dict] = {
    "nfn_mnist": {
        "layer_sizes": (2, 32, 32, 1),
        "source": "mkofinas/neural-graphs experiments/style_editing/configs/data/nfn_mnist.yaml",
        "weight_mean": (0.00012268121645320207, -8.858834803504578e-07, 2.4448696422041394e-05),
        "weight_std": (0.2868247926235199, 0.017109761014580727, 0.06391365826129913),
        "bias_mean": (0.0006445261533372104, -3.312843546154909e-05, -0.03267413377761841),
        "bias_std": (0.40904879570007324, 0.10408575087785721, 0.09695733338594437),
    },
    "dwsnets_mnist": {
        "layer_sizes": (2, 32, 32, 1),
        "source": "mkofinas/neural-graphs experiments/inr_classification/configs/data/mnist.yaml",
        "weight_mean": (-4.215954686515033e-05, -7.55547659991862e-07, 7.886120874900371e-05),
        "weight_std": (0.06281130015850067, 0.018268151208758354, 0.11791174858808517),
        "bias_mean": (5.419965418695938e-06, 3.7173406326473923e-06, -0.01239530649036169),
        "bias_std": (0.021334609016776085, 0.011004417203366756, 0.09989194571971893),
    },
}
KEYS = ("weight_mean", "weight_std", "bias_mean", "bias_std")


def layer_stats(weights: MLPWeights) -> list[dict[str, float]]:
    """Mean and std of every layer's weights and biases over all INRs (float64)."""
    out = []
    for w, b in zip(weights.weights, weights.biases):
        w, b = w.double(), b.double()
        out.append({"weight_mean": float(w.mean()), "weight_std": float(w.std()),
                    "bias_mean": float(b.mean()), "bias_std": float(b.std())})
    return out


def compare(stats: list[dict], layer_sizes: tuple[int, ...], reference: str | None = "auto",
            init: str = "siren") -> dict:
    """``{"layers", "reference", "ratios"}``: ``ratios[l][key]`` = ours / published for the std
    fields (means are near 0; their ratio says little, so it is not given). ``reference``:
    a name of :data:`REFERENCE_STATS`, ``"auto"`` (when the shapes match: ``dwsnets_mnist``
    for INRs of the DWSNets kind, ``init="dwsnets"``, else ``nfn_mnist`` — the paper's zoo)
    or ``None``."""
    if reference == "auto":
        guess = "dwsnets_mnist" if init == "dwsnets" else "nfn_mnist"
        reference = guess if tuple(layer_sizes) == REFERENCE_STATS[guess]["layer_sizes"] \
            else None
    if reference is not None and reference not in REFERENCE_STATS:
        raise ConfigError(f"unknown reference statistics {reference!r} "
                          f"(choose {', '.join(REFERENCE_STATS)} or none)")
    ratios = None
    if reference is not None:
        ref = REFERENCE_STATS[reference]
        if tuple(layer_sizes) != ref["layer_sizes"]:
            raise ConfigError(f"{reference} describes MLPs {ref['layer_sizes']}, the zoo holds "
                              f"{tuple(layer_sizes)}")
        ratios = [{k: s[k] / ref[k][l] for k in ("weight_std", "bias_std")}
                  for l, s in enumerate(stats)]
    return {"layers": stats, "reference": reference, "ratios": ratios}


def stats_table(report: dict) -> str:
    lines = ["layer | weight mean | weight std | bias mean | bias std"
             + (" | std ratio W / b (ours ÷ " + report["reference"] + ")"
                if report["reference"] else "")]
    for l, s in enumerate(report["layers"]):
        row = (f"{l:5d} | {s['weight_mean']:+.3e} | {s['weight_std']:.4f} | "
               f"{s['bias_mean']:+.3e} | {s['bias_std']:.4f}")
        if report["ratios"]:
            r = report["ratios"][l]
            row += f" | {r['weight_std']:.3f} / {r['bias_std']:.3f}"
        lines.append(row)
    return "\n".join(lines)


__all__ = ["REFERENCE_STATS", "compare", "layer_stats", "stats_table"]
