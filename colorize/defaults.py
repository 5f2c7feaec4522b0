"""The default answers of both front ends: the CLI's flag defaults and the wizard's [brackets].

They agree with each other and with what was measured: the shipped model's
recipe (data/models/README.md: 30 epochs, 42 of the 298 default photos held
out for the test, seed 42) and BENCHMARKS.md (predict on a CPU is faster one
photo per model call than eight). TensorFlow is imported only to ask for GPUs.
"""

from __future__ import annotations

from colorize.constants import DEFAULT_SAMPLES_DIR
from colorize.errors import DatasetError

DEFAULT_EPOCHS = 30
# One usable photo in seven is held out for the final test: 42 of the 298
# default photos, the recipe's split (so the sample photos below stay unseen by
# a model trained with the defaults), and at most this many, enough for stable
# means without starving training on a big folder.
TEST_SHARE_DIVISOR = 7
MAX_DEFAULT_TEST_SIZE = 50
# Images per model call in predict: on the 2-core CPU, 20 gray 1 MP photos took
# 2.9 s at batch 1 and 3.4 s at batch 8 (BENCHMARKS.md); batching pays off on a GPU.
PREDICT_BATCH_SIZE_CPU = 1
PREDICT_BATCH_SIZE_GPU = 8

# Black-and-white sample photos shipped for a first run of predict (`--input
# default`): gray copies of photos held out of the shipped model's training.
# The photos sit one level below data/samples/ so that its MANIFEST.csv and
# LICENSES.md are not listed as "could not be used" by every run.
SAMPLES_DIR = DEFAULT_SAMPLES_DIR / "photos"
SAMPLES_ANSWER = "default"


def default_test_size(usable: int, train_size: int | None = None) -> int:
    """Return how many of `usable` photos to hold out for the test when none is asked for
    (never more than the photos `train_size` leaves)."""
    test_size = min(MAX_DEFAULT_TEST_SIZE, max(1, usable // TEST_SHARE_DIVISOR))
    return test_size if train_size is None else max(0, min(test_size, usable - train_size))


def default_predict_batch_size() -> int:
    """Return the predict batch size that is fastest on the devices TensorFlow sees."""
    from colorize.training.devices import list_gpus

    return PREDICT_BATCH_SIZE_GPU if list_gpus() else PREDICT_BATCH_SIZE_CPU


def resolve_photos_to_colourise(answer: str) -> str:
    """Return the photos `predict` should read: the sample photos for "default", else `answer` as given."""
    if answer != SAMPLES_ANSWER:
        return answer
    if not SAMPLES_DIR.is_dir():
        raise DatasetError(f"The sample photos are missing ({SAMPLES_DIR}): this install of colorize came "
                           "without its data. Install from a clone of the project with `pip install -e .`, "
                           "or give your own photos (--input PATH).")
    return str(SAMPLES_DIR)
