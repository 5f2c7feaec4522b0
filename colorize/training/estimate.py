"""How long training will take on this machine, measured: a few real training and
validation steps of a throwaway copy of the model, scaled to the epochs asked for."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, replace

from colorize.config import TrainConfig
from colorize.constants import ESTIMATE_TIMED_STEPS


@dataclass(frozen=True)
class TimeEstimate:
    """How long training will take here, from a few measured steps."""
    seconds_per_image: float          # one training image (forward + backward + loading)
    seconds_per_epoch: float          # an epoch's training steps + its validation sample
    seconds_total: float              # every epoch still to run, the start-up and the final validation
    epochs: int = 0
    seconds_startup: float = 0.0      # graph tracing of the first train and validation steps
    seconds_final_validation: float = 0.0   # the whole validation split, scored once after training

    def for_epochs(self, epochs: int) -> "TimeEstimate":
        """Return the same measurement for `epochs` epochs."""
        return replace(self, epochs=epochs, seconds_total=self.seconds_startup + self.seconds_per_epoch * epochs
                       + self.seconds_final_validation)

    def describe(self) -> str:
        """Return e.g. 'about 40 s per epoch, 7 min total for 10 epochs on this machine'."""
        return (f"about {format_duration(self.seconds_per_epoch)} per epoch, "
                f"{format_duration(self.seconds_total)} total for {self.epochs} epoch"
                f"{'s' if self.epochs != 1 else ''} on this machine")


def format_duration(seconds: float) -> str:
    """Return a rough human duration: '40 s', '7 min', '2.5 h'."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def measure_training_time(config: TrainConfig, split, trainee, strategy=None,
                          epochs: int | None = None) -> TimeEstimate:
    """Return the time `epochs` (default: all) epochs will take, from real steps on a throwaway copy.

    `trainee` is train.ModelToTrain. The copy gets fresh weights and its own
    optimizer, so measuring never changes the model that is trained (and a
    resumed run stays reproducible).
    """
    import keras

    from colorize.dataset.loader import make_dataset, training_steps_per_epoch
    from colorize.dataset.split import validation_sample

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        probe = trainee.compile(keras.models.clone_model(trainee.fit_model))
    train_batches = iter(make_dataset(split.train, config.image_size, config.batch_size, training=True,
                                      seed=config.seed, noise=config.noise, repeat=True))
    validation_batches = iter(make_dataset(split.validation, config.image_size, config.batch_size,
                                           training=False, repeat=True))
    train_start, train_cost = _seconds_per_image(probe, train_batches, ESTIMATE_TIMED_STEPS, train=True)
    validation_start, validation_cost = _seconds_per_image(probe, validation_batches, 1, train=False)
    trained_per_epoch = training_steps_per_epoch(config, split) * config.batch_size
    # Each epoch validates on the fixed sample; the whole split is scored once at the end.
    sample = validation_sample(split.validation, config.effective_split_seed)
    per_epoch = train_cost * trained_per_epoch + validation_cost * len(sample)
    final_validation = validation_cost * len(split.validation)
    epochs = config.epochs if epochs is None else epochs
    startup = train_start + validation_start
    return TimeEstimate(train_cost, per_epoch, startup + per_epoch * epochs + final_validation, epochs, startup,
                        final_validation)


def _seconds_per_image(model, batches, steps: int, train: bool) -> tuple[float, float]:
    """Return (seconds of the first step, seconds per image of the next `steps` steps) of train (or test) steps."""
    step = model.train_on_batch if train else model.test_on_batch
    start = time.perf_counter()
    lightness, ab = next(batches)
    step(lightness, ab)  # apart: the first call traces the graph (seconds), once per run
    warm_up = time.perf_counter() - start
    images, start = 0, time.perf_counter()
    for _ in range(steps):
        lightness, ab = next(batches)  # loading counts: fit pays for it too
        step(lightness, ab)
        images += int(lightness.shape[0])
    return warm_up, (time.perf_counter() - start) / max(images, 1)
