"""Image datasets: the pictures that INR zoos are fitted to.

Every loader returns an :class:`ImageSet` — all images of the dataset as one uint8 tensor
``(N, C, H, W)``, labels ``(N,)`` and the split of each image (``0`` train, ``1`` val, ``2`` test).

Splits follow the paper: the official train and test sets are concatenated (train first), then
split by index into ``train < n_train <= val < n_train + n_val <= test``:

========================  ===========  =========  ======================================
dataset                   train        val        test
========================  ===========  =========  ======================================
``mnist``                 45 000       5 000      20 000 (train 50k–60k + official test)
``fashion-mnist``         55 000       5 000      10 000 (official test)
``cifar10``, ``cifar100`` 45 000       5 000      10 000 (official test)
``digits`` (offline)      1 257        180        360
image folder / tar        90 % of      last 10 %  the ``test`` folder
                          ``train``    of train
========================  ===========  =========  ======================================
"""

from dng.data.datasets import (
    DATASETS,
    ImageSet,
    dataset_names,
    load_dataset,
    normalize_images,
)

__all__ = ["DATASETS", "ImageSet", "dataset_names", "load_dataset", "normalize_images"]
