"""Training: devices and distribution, a measured time estimate, `fit` with stock
Keras callbacks, evaluation of the test split, and the run folder.

The pieces are separate functions so the multi-worker loop (distributed.py) can
reuse them: `detect_devices`, `prepare_model`, `make_training_data`,
`build_callbacks`, `open_run_folder`, `save_final_model`, `write_run_report`.

Run folder OUTPUT/models/<run>/: model.keras (+ model.h5), config.json,
history.csv, summary.txt, model.png, curves.png, metrics.json; comparison grids
go to OUTPUT/results/<run>/. A run killed mid-training keeps BackupAndRestore's
`backup/` folder; the same command with the same --run-name continues it.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from colorize.config import TrainConfig
from colorize.constants import (
    BACKUP_DIR_NAME,
    CHECKPOINT_FILE_NAME,
    CONFIG_FILE_NAME,
    EARLY_STOPPING_PATIENCE,
    ESTIMATE_TIMED_STEPS,
    HISTORY_FILE_NAME,
    LR_PLATEAU_FACTOR,
    LR_PLATEAU_MIN,
    LR_PLATEAU_PATIENCE,
    MIN_CROPS_PER_EPOCH,
    MIXED_PRECISION_MIN_CAPABILITY,
    MODEL_FILE_NAME,
    MODEL_H5_FILE_NAME,
    TENSORBOARD_DIR_NAME,
    TRAIN_GRID_IMAGES,
)
from colorize.errors import ModelError, OutputError, UsageError

Notify = Callable[[str], None]

# Metric names whose larger values are better; every other monitor is minimised.
MAXIMISED_METRIC_WORDS = ("psnr", "ssim", "auc", "accuracy")
# Settings a resumed run must share with the run it continues (the weights and
# the split depend on them); epochs, callbacks and --h5 may change.
RESUME_MUST_MATCH = ("data", "train_size", "test_size", "image_size", "batch_size", "preset",
                     "model", "seed", "noise")


def _quiet(message: str) -> None:
    """A notify that says nothing (the default when no front end listens)."""


# --- devices -----------------------------------------------------------------

@dataclass(frozen=True)
class DeviceSetup:
    """What training runs on: the GPUs, the distribution strategy, the precision."""
    gpus: list[dict]
    strategy: object                 # tf.distribute.Strategy
    mixed_precision: bool
    description: str                 # one line for the person: what is used and how

    @property
    def replicas(self) -> int:
        """Return how many copies of the model train in step."""
        return int(self.strategy.num_replicas_in_sync)


def _capability(gpu: dict) -> tuple[int, int]:
    """Return a GPU's compute capability as (major, minor); (0, 0) when unknown."""
    capability = gpu.get("compute_capability")
    return tuple(capability) if capability else (0, 0)


def _enable_memory_growth(tf) -> None:
    """Let TensorFlow take GPU memory as needed instead of all of it at start."""
    for device in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(device, True)
        except RuntimeError:  # the GPU is already initialised: growth is fixed by then
            pass


def _choose_strategy(tf, strategy: str, gpu_count: int):
    """Return the tf.distribute strategy that `strategy` names for this machine."""
    if strategy == "multiworker":
        from colorize.distributed import create_multiworker_strategy

        return create_multiworker_strategy()
    if strategy == "mirrored" or (strategy == "auto" and gpu_count > 1):
        if gpu_count:
            return tf.distribute.MirroredStrategy()
        # No GPU: mirror over the CPU devices (more than one only when logical CPU
        # devices were configured, which is how the strategy path is tested).
        return tf.distribute.MirroredStrategy([device.name for device in tf.config.list_logical_devices("CPU")])
    if strategy == "one":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpu_count else "/cpu:0")
    return tf.distribute.get_strategy()


def _describe_devices(gpus: list[dict], strategy, mixed_precision: bool) -> str:
    """Return one line saying what training uses."""
    if gpus:
        names = ", ".join(f"{gpu['name']} ({gpu['memory']})" for gpu in gpus)
        hardware = f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''}: {names}"
    else:
        hardware = "the CPU (no GPU visible to TensorFlow)"
    precision = "mixed float16 precision" if mixed_precision else "float32"
    replicas = strategy.num_replicas_in_sync
    spread = f", {type(strategy).__name__} over {replicas} replicas" if replicas > 1 else ""
    return f"Training on {hardware}{spread}, {precision}."


def detect_devices(strategy: str = "auto") -> DeviceSetup:
    """Return the devices, strategy and precision to train with, configuring TensorFlow for them.

    Mixed float16 is turned on (globally, for models built afterwards) only when
    every GPU has tensor cores; the model's output layer stays float32.
    """
    import keras

    from colorize.devices import list_gpus, load_tensorflow

    tf = load_tensorflow()
    _enable_memory_growth(tf)
    gpus = list_gpus()
    mixed_precision = bool(gpus) and all(_capability(gpu) >= MIXED_PRECISION_MIN_CAPABILITY for gpu in gpus)
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    distribution = _choose_strategy(tf, strategy, len(gpus))
    return DeviceSetup(gpus, distribution, mixed_precision, _describe_devices(gpus, distribution, mixed_precision))


# --- settings ----------------------------------------------------------------

def validate_config(config: TrainConfig) -> None:
    """Raise a one-line error for settings that cannot work here, before any work starts.

    TrainConfig checks every setting on its own (presets.py); this adds what needs
    the disk or the preset's family.
    """
    from colorize.presets import has_class_head

    if config.strategy == "multiworker" and config.model == "new" and has_class_head(config.preset):
        raise UsageError(f"Multi-worker training supports the from-scratch presets (cpu, gpu, large), "
                         f"not {config.preset!r} yet; use --strategy auto or mirrored.")
    if config.model != "new":
        from colorize.modelfile import resolve_model_path

        try:
            resolve_model_path(config.model)   # a name too long is a ModelError there, not an OSError
        except ModelError:
            raise ModelError(f"The model to continue from does not exist: {config.model}") from None


def monitor_mode(monitor: str) -> str:
    """Return "max" for metrics where bigger is better, else "min"."""
    return "max" if any(word in monitor for word in MAXIMISED_METRIC_WORDS) else "min"


def learning_rate_for(config: TrainConfig) -> float:
    """Return the preset's learning rate."""
    from colorize.presets import preset_settings

    return float(preset_settings(config.preset)["learning_rate"])


# --- model -------------------------------------------------------------------

def _load_model_to_continue(config: TrainConfig):
    """Load a saved model for fine-tuning; ModelError unless it maps L to ab at this image size."""
    from colorize.modelfile import inspect_model, load_model_file

    model = load_model_file(config.model)
    info = inspect_model(model)
    if info.kind != "ab":
        raise ModelError(f"{config.model} predicts {info.kind} colour; training continues only models "
                         "that take L (1 channel) and predict ab (2 channels), as colorize saves them.")
    if info.input_size and info.input_size != (config.image_size, config.image_size):
        height, width = info.input_size
        raise UsageError(f"{config.model} takes {height}x{width} images only; use --image-size {height}."
                         if height == width else
                         f"{config.model} takes {height}x{width} images only; training uses square crops.")
    if config.image_size % info.size_multiple:
        raise UsageError(f"Image size {config.image_size} does not fit {config.model}: use a multiple of "
                         f"{info.size_multiple}.")
    return model


@dataclass
class ModelToTrain:
    """The model a run trains, in the two views it needs."""
    model: object                    # keras.Model, L -> ab: what is saved, scored and reported
    fit_model: object                # compiled; what fit trains (a class head's logits view, or `model`)
    classes: object = None           # ab_classes.AbClasses of a class head, else None
    rebalance: float = 1.0           # Zhang's lambda for a class head (1: no rebalancing)

    def compile(self, fit_model, learning_rate: float):
        """Compile `fit_model` (this one's, or a clone of it) with this run's loss; return it."""
        from colorize.model import compile_for_training

        return compile_for_training(fit_model, learning_rate, classes=self.classes, rebalance=self.rebalance)


def _training_photo_classes(config: TrainConfig, split, notify: Notify, centres=None):
    """Return the ab classes (bins and prior) of the training photos; `centres` keeps a saved model's bins."""
    from colorize.ab_classes import ab_classes_from_histogram, ab_histogram
    from colorize.dataset import load_rgb

    notify(f"Measuring the colours of {len(split.train)} training photos ...")
    histogram = ab_histogram(lambda index: load_rgb(split.train[index]), count=len(split.train))
    return ab_classes_from_histogram(histogram, centres)


def prepare_model(config: TrainConfig, split, strategy=None, notify: Notify = _quiet) -> ModelToTrain:
    """Return the compiled model to train: a new one of the preset, or the --model file.

    Built under `strategy`'s scope so its variables are mirrored where needed. A
    class-head model learns the bins its training photos occupy (a continued one
    keeps its own bins and re-measures their prior on this data).
    """
    import keras

    from colorize import ab_classes
    from colorize.model import build_model
    from colorize.presets import has_class_head, preset_settings

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        keras.utils.set_random_seed(config.seed)
        if config.model == "new":
            classes = _training_photo_classes(config, split, notify) if has_class_head(config.preset) else None
            model = build_model(config.preset, classes)
        else:
            model = _load_model_to_continue(config)
            classes = (_training_photo_classes(config, split, notify,
                                               ab_classes.class_head_settings(model)["centres"])
                       if ab_classes.has_class_head(model) else None)
        fit_model = ab_classes.logits_view(model) if classes is not None else model
        rebalance = float(preset_settings(config.preset).get("rebalance", 1.0))
        trainee = ModelToTrain(model, fit_model, classes, rebalance)
        trainee.compile(fit_model, learning_rate_for(config))
        return trainee


def training_steps_per_epoch(config: TrainConfig, split, global_batch: int | None = None) -> int:
    """Return the batches in one epoch: a pass over the photos, or MIN_CROPS_PER_EPOCH crops if more.

    `global_batch` is the images per step across all replicas (multi-worker
    training), so an epoch means the same amount of training with any strategy.
    """
    batch = global_batch or config.batch_size
    return max(math.ceil(len(split.train) / batch), math.ceil(MIN_CROPS_PER_EPOCH / batch))


def make_training_data(config: TrainConfig, split) -> tuple:
    """Return the (training, validation) tf.data pipelines for a split; training repeats."""
    from colorize.loader import make_dataset

    training = make_dataset(split.train, config.image_size, config.batch_size, training=True,
                            seed=config.seed, noise=config.noise, repeat=True)
    validation = make_dataset(split.validation, config.image_size, config.batch_size, training=False,
                              seed=config.seed)
    return training, validation


# --- time estimate ------------------------------------------------------------

def _format_duration(seconds: float) -> str:
    """Return a rough human duration: '40 s', '7 min', '2.5 h'."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class TimeEstimate:
    """How long training will take here, from a few measured steps."""
    seconds_per_image: float          # one training image (forward + backward + loading)
    seconds_per_epoch: float          # training split + validation split
    seconds_total: float              # every epoch still to run, plus the start-up
    epochs: int = 0
    seconds_startup: float = 0.0      # graph tracing of the first train and validation steps

    def for_epochs(self, epochs: int) -> "TimeEstimate":
        """Return the same measurement for `epochs` epochs."""
        return replace(self, epochs=epochs, seconds_total=self.seconds_startup + self.seconds_per_epoch * epochs)

    def describe(self) -> str:
        """Return e.g. 'about 40 s per epoch, 7 min total for 10 epochs on this machine'."""
        return (f"about {_format_duration(self.seconds_per_epoch)} per epoch, "
                f"{_format_duration(self.seconds_total)} total for {self.epochs} epoch"
                f"{'s' if self.epochs != 1 else ''} on this machine")


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


def estimate_training_time(config: TrainConfig, split, trainee: ModelToTrain | None = None, strategy=None,
                           epochs: int | None = None) -> TimeEstimate:
    """Return the time `epochs` (default: all) epochs will take, from real steps on a throwaway copy.

    The copy gets fresh weights and its own optimizer, so measuring never changes
    the model that is trained (and a resumed run stays reproducible).
    """
    import keras

    from colorize.loader import make_dataset

    trainee = trainee or prepare_model(config, split)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        probe = trainee.compile(keras.models.clone_model(trainee.fit_model), learning_rate_for(config))
    train_batches = iter(make_dataset(split.train, config.image_size, config.batch_size, training=True,
                                      seed=config.seed, noise=config.noise, repeat=True))
    validation_batches = iter(make_dataset(split.validation, config.image_size, config.batch_size,
                                           training=False, repeat=True))
    train_start, train_cost = _seconds_per_image(probe, train_batches, ESTIMATE_TIMED_STEPS, train=True)
    validation_start, validation_cost = _seconds_per_image(probe, validation_batches, 1, train=False)
    trained_per_epoch = training_steps_per_epoch(config, split) * config.batch_size
    per_epoch = train_cost * trained_per_epoch + validation_cost * len(split.validation)
    epochs = config.epochs if epochs is None else epochs
    startup = train_start + validation_start
    return TimeEstimate(train_cost, per_epoch, startup + per_epoch * epochs, epochs, startup)


# --- run folder ----------------------------------------------------------------

def _backup_epoch(backup_dir: Path) -> int | None:
    """Return the epoch a BackupAndRestore folder continues from, or None if there is none."""
    # latest.weights.h5: Keras's BackupAndRestore; checkpoint: the multi-worker loop's tf.train.Checkpoint
    if not any((backup_dir / name).is_file() for name in ("latest.weights.h5", "checkpoint")):
        return None
    try:
        return int(json.loads((backup_dir / "training_metadata.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _check_resumable(run_dir: Path, config: TrainConfig) -> None:
    """Raise UsageError when a run folder was started with settings this run cannot continue."""
    try:
        earlier = json.loads((run_dir / CONFIG_FILE_NAME).read_text())["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # killed before config.json: nothing to compare with
    current = config.to_dict()
    changed = [name for name in RESUME_MUST_MATCH if earlier.get(name) != current.get(name)]
    if changed:
        details = ", ".join(f"{name} {earlier.get(name)!r} -> {current.get(name)!r}" for name in changed)
        raise UsageError(f"Run {run_dir.name!r} was started with other settings ({details}); "
                         "repeat the same command to continue it, or choose another --run-name.")


def models_root(config: TrainConfig) -> Path:
    """Return OUTPUT/models (or <--output>/models)."""
    from colorize.paths import output_root

    return (Path(config.output) if config.output else output_root()) / "models"


def open_run_folder(config: TrainConfig) -> tuple[Path, int]:
    """Return (run folder, epoch to start from).

    --run-name reuses its folder only when that folder holds a backup of a killed
    run (which is then continued); otherwise a new folder is made (name-2, ...),
    so a finished run is never overwritten.
    """
    from colorize.paths import new_run_dir, safe_name

    root = models_root(config)
    if config.run_name:
        candidate = root / safe_name(config.run_name)
        epoch = _backup_epoch(candidate / BACKUP_DIR_NAME)
        if epoch is not None:
            _check_resumable(candidate, config)
            _trim_history(candidate / HISTORY_FILE_NAME, epoch)
            return candidate, epoch
    return new_run_dir(root, config.run_name), 0


def _trim_history(history_path: Path, epochs_done: int) -> None:
    """Drop history rows of epochs the backup does not cover (logged, then killed before the backup)."""
    if not history_path.is_file():
        return
    with open(history_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if len(rows) <= epochs_done + 1:
        return
    with open(history_path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows[:epochs_done + 1])


def read_history(history_path: Path) -> list[dict[str, float]]:
    """Return history.csv as one dict of floats per epoch (empty when there is none)."""
    if not history_path.is_file():
        return []
    with open(history_path, newline="", encoding="utf-8") as handle:
        return [{key: float(value) for key, value in row.items() if value not in ("", None)}
                for row in csv.DictReader(handle)]


def _best_logged(history_path: Path, monitor: str) -> float | None:
    """Return the best `monitor` value an earlier (killed) part of the run logged, if any."""
    values = [row[monitor] for row in read_history(history_path) if monitor in row]
    if not values:
        return None
    return max(values) if monitor_mode(monitor) == "max" else min(values)


# --- callbacks -------------------------------------------------------------------

def _callback_classes():
    """Return the small callbacks of this module; defined lazily so importing train.py stays cheap."""
    import keras

    class LearningRateLogger(keras.callbacks.Callback):
        """Add the epoch's learning rate to the logs, so history.csv and the curves show it."""

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    class StopOnInterrupt(keras.callbacks.Callback):
        """Turn the first Ctrl-C into a stop after the current step; a second one quits at once.

        The signal handler only sets a flag: Python runs it between TensorFlow ops,
        and printing from it could collide with Keras's progress bar.
        """

        def __init__(self, notify: Notify):
            super().__init__()
            self.notify = notify
            self.interrupted = False
            self.announced = False

        def _stop_if_asked(self) -> None:
            if self.interrupted and self.model is not None:
                self.model.stop_training = True
                if not self.announced:
                    self.announced = True
                    self.notify("Ctrl-C: stopping after this step and saving the model "
                                "(press Ctrl-C again to quit without saving).")

        def on_train_batch_end(self, batch, logs=None):
            self._stop_if_asked()

        def on_epoch_end(self, epoch, logs=None):
            self._stop_if_asked()

        @contextlib.contextmanager
        def catching_sigint(self):
            """Install the Ctrl-C handler for the duration of the block (main thread only)."""
            if threading.current_thread() is not threading.main_thread():
                yield
                return

            def handle(signum, frame):
                if self.interrupted:
                    raise KeyboardInterrupt
                self.interrupted = True

            previous = signal.signal(signal.SIGINT, handle)
            try:
                yield
            finally:
                signal.signal(signal.SIGINT, previous)

    class QuietFirstStep(keras.callbacks.Callback):
        """Keep TensorFlow's native stderr quiet during the first training step only.

        Compiling the training function logs "E0000 ... oneDNN supports DT_INT32
        only on platforms with AVX-512" with the stock wheel on CPUs: a harmless
        fallback that reads like an error. `restore` must run in a finally, so an
        exception in that step still reaches the screen.
        """

        def __init__(self):
            super().__init__()
            self._silence = contextlib.ExitStack()
            self._done = False

        def on_train_batch_begin(self, batch, logs=None):
            if not self._done:
                from colorize.devices import native_stderr_silenced

                self._done = True
                self._silence.enter_context(native_stderr_silenced())

        def on_train_batch_end(self, batch, logs=None):
            self.restore()

        def restore(self) -> None:
            self._done = True
            self._silence.close()   # a no-op once closed

    return LearningRateLogger, StopOnInterrupt, QuietFirstStep


def build_callbacks(config: TrainConfig, run_dir: Path, initial_epoch: int = 0) -> list:
    """Return the stock Keras callbacks of a run, in the order their effects depend on.

    The learning rate is logged before ReduceLROnPlateau changes it; history.csv
    is written before the backup, so a kill between the two repeats a row that
    `open_run_folder` trims, never loses one.
    """
    import keras

    learning_rate_logger, _, _ = _callback_classes()
    mode = monitor_mode(config.monitor)
    # A resumed run starts ModelCheckpoint from the best value already logged, so
    # a worse first epoch after the restart does not replace the best weights.
    best_so_far = _best_logged(run_dir / HISTORY_FILE_NAME, config.monitor) if initial_epoch else None
    callbacks = [
        learning_rate_logger(),
        keras.callbacks.ReduceLROnPlateau(monitor=config.monitor, mode=mode, factor=LR_PLATEAU_FACTOR,
                                          patience=LR_PLATEAU_PATIENCE, min_lr=LR_PLATEAU_MIN),
        keras.callbacks.ModelCheckpoint(str(run_dir / CHECKPOINT_FILE_NAME), monitor=config.monitor, mode=mode,
                                        save_best_only=config.save_best, save_weights_only=True,
                                        initial_value_threshold=best_so_far),
        keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE_NAME), append=initial_epoch > 0),
        keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_DIR_NAME)),
    ]
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=config.monitor, mode=mode,
                                                       patience=EARLY_STOPPING_PATIENCE))
    if config.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / TENSORBOARD_DIR_NAME)))
    return callbacks


def fit_model(model, config: TrainConfig, split, run_dir: Path, initial_epoch: int = 0,
              notify: Notify = _quiet) -> bool:
    """Train `model` in place with the run's callbacks; return True when Ctrl-C stopped it."""
    _, stop_on_interrupt, quiet_first_step = _callback_classes()
    stopper, quiet = stop_on_interrupt(notify), quiet_first_step()
    training, validation = make_training_data(config, split)
    # One line per epoch when the output is a log file; Keras's live bar on a terminal.
    verbose = 1 if sys.stdout.isatty() else 2
    with stopper.catching_sigint():
        try:
            # shuffle=False: the tf.data pipeline shuffles itself (Keras would only warn).
            model.fit(training, validation_data=validation, epochs=config.epochs, shuffle=False,
                      steps_per_epoch=training_steps_per_epoch(config, split),
                      callbacks=[stopper, quiet, *build_callbacks(config, run_dir, initial_epoch)],
                      verbose=verbose)
        finally:
            quiet.restore()
    return stopper.interrupted


def _save_atomically(model, path: Path) -> Path:
    """Save `model` under a temporary name, then rename: never a half-written file under `path`."""
    if path.exists():
        raise OutputError(f"Refusing to overwrite {path}.")
    # Keras picks the format from the suffix, so the temporary name keeps it.
    temporary = path.with_name(f".partial-{path.name}")
    try:
        model.save(str(temporary))
        os.replace(temporary, path)
    except KeyboardInterrupt:   # a second Ctrl-C while saving: quit, but leave no half file
        temporary.unlink(missing_ok=True)
        raise
    except Exception as error:  # h5py reports a full disk as RuntimeError, not OSError (issue 8 test)
        reason = _save_failure_reason(error, path.parent)
        temporary.unlink(missing_ok=True)
        raise OutputError(f"Cannot save the model to {path}: {reason}") from error
    return path


def _save_failure_reason(error: Exception, folder: Path) -> str:
    """Return why a save failed in words: the system's reason, or a full disk behind h5py's obscure one."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    with contextlib.suppress(OSError):
        if shutil.disk_usage(folder).free < 1024**2:   # measured before the partial file is removed
            return "No space left on device"
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def save_final_model(model, config: TrainConfig, run_dir: Path, fit_model=None) -> dict[str, Path]:
    """Put the best (or last) epoch's weights into `model`, save model.keras (+ model.h5); return the paths.

    The checkpoint holds `fit_model`'s weights (a class head's logits view shares
    its layers with `model`), so it is loaded there.
    """
    checkpoint = run_dir / CHECKPOINT_FILE_NAME
    if config.save_best and checkpoint.is_file():
        (fit_model or model).load_weights(str(checkpoint))
    files = {"model": _save_atomically(model, run_dir / MODEL_FILE_NAME)}
    if config.save_h5:
        files["model_h5"] = _save_atomically(model, run_dir / MODEL_H5_FILE_NAME)
    checkpoint.unlink(missing_ok=True)  # its weights now live in model.keras
    return files


# --- evaluation and report -----------------------------------------------------------

def results_root(config: TrainConfig) -> Path:
    """Return OUTPUT/results (or <--output>/results)."""
    return models_root(config).parent / "results"


def _test_losses(fit_model, config: TrainConfig, split) -> tuple[dict, float | None]:
    """Return the Keras loss and metrics on the test crops, and the gray baseline's loss (ab = 0).

    A class head's loss is a cross-entropy over bins: gray has no logits to score,
    so its baseline loss is None there (evaluate's figures still compare both).
    """
    import numpy as np

    from colorize.loader import make_dataset

    test_data = make_dataset(split.test, config.image_size, config.batch_size, training=False)
    scores = fit_model.evaluate(test_data, return_dict=True, verbose=0)
    if fit_model.output_shape[-1] != 2:
        return {name: float(value) for name, value in scores.items()}, None
    model = fit_model
    gray_total, images = 0.0, 0
    for _, ab in test_data:
        count = int(ab.shape[0])
        gray_total += float(np.asarray(model.loss(ab, np.zeros(ab.shape, np.float32)))) * count
        images += count
    return {name: float(value) for name, value in scores.items()}, gray_total / max(images, 1)


def evaluate_test_split(model, config: TrainConfig, split, run_name: str,
                        progress: Callable[[int, int], None] | None = None,
                        fit_model=None) -> tuple[dict, Path | None]:
    """Score the test split beside the gray baseline and save grids; return (metrics, results folder)."""
    from colorize.evaluate import evaluate_files
    from colorize.paths import new_run_dir
    from colorize.predict import Colorizer

    if not split.test:
        return {}, None
    results_dir = new_run_dir(results_root(config), run_name)
    figures = evaluate_files(Colorizer(model), split.test, progress=progress, grid_dir=results_dir,
                             grid_columns="original,colorized,gray", grid_images=TRAIN_GRID_IMAGES)
    keras_scores, gray_loss = _test_losses(fit_model or model, config, split)
    figures["loss"] = keras_scores.get("loss")
    figures["gray_baseline"]["loss"] = gray_loss
    figures["keras_metrics"] = keras_scores
    return figures, results_dir


def _library_versions() -> dict[str, str]:
    """Return colorize's, Python's and every dependency's version."""
    import platform

    from colorize import __version__
    from colorize.info import library_versions

    return {"colorize": __version__, "python": platform.python_version(), **library_versions()}


def run_settings(config: TrainConfig, scan, split, devices: DeviceSetup, trainee: ModelToTrain) -> dict:
    """Return everything config.json records: settings, data, split, device, versions, seed."""
    from colorize.presets import PRESETS

    model = trainee.model

    return {
        "settings": config.to_dict(),
        "seed": config.seed,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "preset": {key: value for key, value in PRESETS.get(config.preset, {}).items()},
        "learning_rate": learning_rate_for(config),
        "model": {"name": model.name, "parameters": int(model.count_params()),
                  "loss": type(trainee.fit_model.loss).__name__,
                  "ab_classes": None if trainee.classes is None else trainee.classes.count},
        "dataset": {"root": scan.root, "kind": scan.kind, "counts": scan.counts(),
                    "split": {"train": len(split.train), "validation": len(split.validation),
                              "test": len(split.test)}},
        "device": {"description": devices.description, "gpus": devices.gpus,
                   "mixed_precision": devices.mixed_precision, "replicas": devices.replicas,
                   "strategy": type(devices.strategy).__name__},
        "versions": _library_versions(),
        "split_files": {"train": [entry.path for entry in split.train],
                        "validation": [entry.path for entry in split.validation],
                        "test": [entry.path for entry in split.test]},
    }


def _summary_lines(config: TrainConfig, outcome: dict, history: list[dict], metrics: dict) -> list[str]:
    """Return the human part of summary.txt: what ran, how it ended, how good it is."""
    lines = [f"colorize training run {outcome['run_dir'].name}",
             f"Device: {outcome['device']}",
             f"Data: {outcome['data']}",
             f"Model: preset {config.preset!r} ({outcome['parameters']:,} parameters), image size "
             f"{config.image_size}, batch size {config.batch_size}, seed {config.seed}",
             f"Epochs run: {len(history)} of {config.epochs}"
             + (f" (continued a killed run from epoch {outcome['resumed_from'] + 1})" if outcome["resumed_from"] else "")
             + (" - stopped by Ctrl-C" if outcome["interrupted"] else ""),
             f"Training time: {outcome['seconds']:.0f} s"]
    scored = [row for row in history if config.monitor in row]
    if scored:
        pick = max if monitor_mode(config.monitor) == "max" else min
        best = pick(scored, key=lambda row: row[config.monitor])
        kept = "kept" if config.save_best else "the model keeps the last epoch"
        lines.append(f"Best {config.monitor}: {best[config.monitor]:.4f} at epoch {int(best.get('epoch', 0)) + 1} ({kept})")
    if metrics:
        from colorize.evaluate import format_table

        lines += ["", f"Test split, {metrics.get('images', 0)} photos (model vs gray baseline):",
                  *format_table(metrics)]
    return lines


def write_run_report(model, config: TrainConfig, run_dir: Path, outcome: dict, metrics: dict,
                     notify: Notify = _quiet) -> dict[str, Path]:
    """Write summary.txt, model.png, curves.png and metrics.json into the run folder; return their paths."""
    from colorize import report
    from colorize.constants import CURVES_FILE_NAME, DIAGRAM_FILE_NAME, METRICS_FILE_NAME, SUMMARY_FILE_NAME

    files: dict[str, Path] = {}
    history = read_history(run_dir / HISTORY_FILE_NAME)
    if history:
        files["curves"] = report.save_training_curves(history, run_dir / CURVES_FILE_NAME)
    diagram_note = report.save_model_diagram(model, run_dir / DIAGRAM_FILE_NAME)
    if diagram_note:
        notify(diagram_note)
    else:
        files["diagram"] = run_dir / DIAGRAM_FILE_NAME
    summary = _summary_lines(config, outcome, history, metrics)
    summary += ["", diagram_note or "", report.model_summary_text(model)]
    files["summary"] = report.write_text(run_dir / SUMMARY_FILE_NAME, "\n".join(summary) + "\n")
    record = {**metrics, "interrupted": outcome["interrupted"], "epochs_run": len(history),
              "monitor": config.monitor}
    files["metrics"] = report.write_json(run_dir / METRICS_FILE_NAME, record)
    return files


# --- the whole run ----------------------------------------------------------------

@dataclass
class TrainResult:
    """Where a training run put everything, and how it went."""
    run_dir: Path
    results_dir: Path | None          # comparison grids (None without a test split)
    model_path: Path
    metrics: dict                     # test-split figures beside the gray baseline ({} without a test split)
    interrupted: bool                 # Ctrl-C stopped training early (the model so far is saved)
    files: dict[str, Path] = field(default_factory=dict)   # every file written, by role
    resumed_from: int = 0             # epoch a killed run was continued from (0: a fresh run)


def _scan_and_split(config: TrainConfig, scan, notify: Notify):
    """Return (scan, split) of the training data; DatasetError when there are too few photos."""
    from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset

    if scan is None:
        notify(f"Scanning {config.data} ...")
        scan = scan_dataset(resolve_dataset_path(config.data))
    split = split_dataset(scan.ok, config.train_size, config.test_size, config.seed)
    notify(f"{len(scan.ok)} usable colour photos: {len(split.train)} to train on, "
           f"{len(split.validation)} to validate, {len(split.test)} to test.")
    return scan, split


def check_output_outside_data(config: TrainConfig, scan) -> None:
    """Refuse an output root that puts run folders inside the training data folder.

    Never write into a user's input: and the grids and curves.png written there
    would be scanned as training photos next time (`cd photos && colorize train --data .`).
    """
    from colorize.paths import refuse_output_inside_data

    if scan.kind != "folder":
        return
    for folder in (models_root(config), results_root(config)):
        refuse_output_inside_data(folder, Path(scan.root))


def _open_and_record(config: TrainConfig, scan, split, devices: DeviceSetup, trainee: ModelToTrain,
                     notify: Notify) -> tuple[Path, int]:
    """Open the run folder (new, or a killed run's) and write config.json into a new one."""
    from colorize import report

    run_dir, initial_epoch = open_run_folder(config)
    if initial_epoch or (run_dir / CONFIG_FILE_NAME).exists():
        notify(f"Continuing the killed run in {run_dir} from epoch {initial_epoch + 1}.")
    else:
        notify(f"Run folder: {run_dir}")
        report.write_json(run_dir / CONFIG_FILE_NAME, run_settings(config, scan, split, devices, trainee))
    return run_dir, initial_epoch


def train_model(config: TrainConfig, notify: Notify | None = None, scan=None,
                progress: Callable[[int, int], None] | None = None,
                estimate: TimeEstimate | None = None) -> TrainResult:
    """Scan, split, build or load, estimate, fit, evaluate, and write the run folder; return where it all is.

    `scan` skips the scan when the front end already did it; `progress` follows the
    final evaluation; `estimate` is a time estimate the front end already measured
    and showed for this config (the wizard does, to ask for epochs), so the ~10 s of
    measuring steps are not run twice. Ctrl-C stops after the current step and
    still saves and reports.
    """
    notify = notify or _quiet
    validate_config(config)
    scan, split = _scan_and_split(config, scan, notify)
    check_output_outside_data(config, scan)
    devices = detect_devices(config.strategy)
    notify(devices.description)
    trainee = prepare_model(config, split, devices.strategy, notify)
    model = trainee.model
    run_dir, initial_epoch = _open_and_record(config, scan, split, devices, trainee, notify)
    if initial_epoch < config.epochs and config.strategy != "multiworker" and estimate is None:
        estimate = estimate_training_time(config, split, trainee, devices.strategy,
                                          epochs=config.epochs - initial_epoch)
        notify(f"Training will take {estimate.describe()}.")
    started = time.monotonic()
    if config.strategy == "multiworker":  # Keras fit fails under MultiWorkerMirroredStrategy: a custom loop
        from colorize.distributed import fit_multiworker

        model, interrupted, files = fit_multiworker(model, config, split, run_dir, devices.strategy, notify)
        if model is None:  # not the chief: the chief writes the model, the evaluation and the report
            return TrainResult(run_dir, None, None, {}, interrupted, files, initial_epoch)
    else:
        interrupted = fit_model(trainee.fit_model, config, split, run_dir, initial_epoch, notify)
        files = save_final_model(model, config, run_dir, trainee.fit_model)
    seconds = time.monotonic() - started
    notify(f"Saved the model: {files['model']}")
    if split.test:
        notify(f"Evaluating on {len(split.test)} test photos ...")
    metrics, results_dir = evaluate_test_split(model, config, split, run_dir.name, progress,
                                               trainee.fit_model)
    outcome = {"run_dir": run_dir, "device": devices.description, "resumed_from": initial_epoch,
               "interrupted": interrupted, "seconds": seconds, "parameters": int(model.count_params()),
               "data": f"{scan.root} ({len(scan.ok)} usable colour photos; {len(split.train)} train, "
                       f"{len(split.validation)} validation, {len(split.test)} test)"}
    files.update(write_run_report(model, config, run_dir, outcome, metrics, notify))
    files.update({"config": run_dir / CONFIG_FILE_NAME, "history": run_dir / HISTORY_FILE_NAME})
    files.update({f"grid-{index}": Path(path) for index, path in enumerate(metrics.get("grids", []), start=1)})
    return TrainResult(run_dir, results_dir, files["model"], metrics, interrupted, files, initial_epoch)
