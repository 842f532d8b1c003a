"""dng — learning on neural-network weights with Dynamic Neural Graphs (Wu et al., TMLR 2026)."""

from dng.errors import DNGError
from dng.weights import MLPWeights

__version__ = "0.1.0"
__all__ = ["DNGError", "MLPWeights", "__version__"]
