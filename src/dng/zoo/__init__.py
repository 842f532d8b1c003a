"""INR zoos: SIREN definition, batched fitting, on-disk storage, import of foreign zoos."""

from dng.zoo.build import build_zoo, limit_per_split
from dng.zoo.fit import FitRecipe, fit_sirens, psnr
from dng.zoo.importer import import_zoo, weights_from_state_dicts
from dng.zoo.siren import SirenSpec, grid_coords, init_siren, render
from dng.zoo.arrays import ZooArrays
from dng.zoo.store import Zoo

__all__ = ["FitRecipe", "SirenSpec", "Zoo", "ZooArrays", "build_zoo", "fit_sirens", "grid_coords",
           "import_zoo", "init_siren", "limit_per_split", "psnr", "render",
           "weights_from_state_dicts"]
