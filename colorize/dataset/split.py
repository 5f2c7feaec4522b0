"""Split scanned files into train / validation / test, reproducibly from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from colorize.constants import VALIDATION_FRACTION, VALIDATION_SAMPLE_PHOTOS
from colorize.dataset.scan import ScannedFile
from colorize.defaults import default_test_size
from colorize.errors import DatasetError, UsageError


@dataclass(frozen=True)
class DatasetSplit:
    """Three disjoint lists of files."""
    train: tuple[ScannedFile, ...]
    validation: tuple[ScannedFile, ...]
    test: tuple[ScannedFile, ...]


def split_dataset(files: Sequence[ScannedFile], train_size: int | None, test_size: int | None,
                  seed: int) -> DatasetSplit:
    """Return a seeded split: `test_size` for test, then `train_size` (None: the rest) split 8:2.

    A `test_size` of None holds out defaults.default_test_size of the files.
    """
    if test_size is None:
        test_size = default_test_size(len(files), train_size)
    if test_size < 0 or (train_size is not None and train_size < 2):
        raise UsageError("The test size must be 0 or more and the training size at least 2 "
                         "(one image to train on, one to validate with).")
    needed = test_size + (train_size if train_size is not None else 2)
    if len(files) < needed:
        raise DatasetError(
            f"Only {len(files)} usable colour images; need at least {needed} "
            f"({test_size} to test, {needed - test_size} to train and validate). "
            "Add colour photos or lower --test-size / --train-size.")
    # Sort first so the split depends on the seed and the files, not on list order.
    shuffled = sorted(files, key=lambda entry: (entry.path, entry.source))
    random.Random(seed).shuffle(shuffled)
    test = shuffled[:test_size]
    rest = shuffled[test_size:]
    pool = rest if train_size is None else rest[:train_size]
    validation_count = max(1, round(len(pool) * VALIDATION_FRACTION))
    return DatasetSplit(train=tuple(pool[validation_count:]),
                        validation=tuple(pool[:validation_count]), test=tuple(test))


def validation_sample(validation: Sequence[ScannedFile], seed: int) -> tuple[ScannedFile, ...]:
    """Return the validation photos every epoch is scored on: all, or a seeded sample of VALIDATION_SAMPLE_PHOTOS.

    The same photos every epoch (and with every strategy), in split order, so the
    monitor compares epochs on equal terms; the whole split is scored once after training.
    """
    if len(validation) <= VALIDATION_SAMPLE_PHOTOS:
        return tuple(validation)
    chosen = sorted(random.Random(seed).sample(range(len(validation)), VALIDATION_SAMPLE_PHOTOS))
    return tuple(validation[index] for index in chosen)
