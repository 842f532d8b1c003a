"""Score a CNN zoo's checkpoints again on a seeded random subset of the test images (zoos built
before 2026-12-01 23:10 were scored on the first N test images: two classes of a class-sorted
folder). Usage: python benchmarks/scripts/rescore_cnn_zoo.py ZOO DATASET DATA_DIR [TEST_SIZE]"""

import sys

from dng.data import load_dataset
from dng.zoo.cnnbuild import grayscale, rescore_cnn_zoo

zoo, name, data = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
gs = name.endswith("-gs")
images = load_dataset(name[:-3] if gs else name, data)
z = rescore_cnn_zoo(zoo, grayscale(images) if gs else images, n)
print(z.summary())
