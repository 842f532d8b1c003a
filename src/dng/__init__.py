"""dng — learning on neural-network weights with Dynamic Neural Graphs (Wu et al., TMLR 2026)."""

from dng.errors import DNGError

__version__ = "0.1.0"
__all__ = ["DNGError", "MLPWeights", "__version__"]


def __getattr__(name: str):
    # torch is imported on first use, not by `import dng` (keeps `dng --help` fast)
    if name == "MLPWeights":
        from dng.weights import MLPWeights

        return MLPWeights
    raise AttributeError(f"module 'dng' has no attribute {name!r}")
