"""Training, as `train_model` reads top to bottom: check the settings, scan and
split, pick the devices, build (or load) the model, open the run folder, measure
how long it will take, fit, save, score the test split, write the report.

The steps live beside it, one concern each: strategy.py (devices, distribution,
precision), runfolder.py (run folders, resume, config.json, the saved model and
the atomic writer), estimate.py (the measured time estimate), callbacks.py (the
stock Keras callbacks, Ctrl-C), evaluate.py (the test split), report.py
(summary.txt, curves, diagram, metrics.json) and distributed.py (the multi-worker
loop, which Keras `fit` cannot run). What stays here is the model a run trains
(`prepare_model`) and `fit`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from colorize.training import runfolder
from colorize.config import TrainConfig
from colorize.dataset.split import validation_sample
from colorize.errors import DatasetError, ModelError, UsageError
from colorize.training.estimate import TimeEstimate, measure_training_time
from colorize.training.strategy import detect_devices

Notify = Callable[[str], None]
Progress = Callable[[int, int], None]


def _quiet(message: str) -> None:
    """A notify that says nothing (the default when no front end listens)."""


@dataclass
class TrainResult:
    """Where a training run put everything, and how it went."""
    run_dir: Path
    results_dir: Path | None          # comparison grids (None without a test split)
    model_path: Path | None           # None on a multi-worker run's other workers (the chief saves)
    metrics: dict                     # test-split figures beside the gray baseline ({} without a test split)
    interrupted: bool                 # Ctrl-C stopped training early (the model so far is saved)
    files: dict[str, Path] = field(default_factory=dict)   # every file written, by role
    resumed_from: int = 0             # epoch a killed run was continued from (0: a fresh run)
    rounds: list[dict] = field(default_factory=list)   # self-training: the teacher's and each round's figures
    validation: dict = field(default_factory=dict)     # the whole validation split scored once after training


def train_model(config: TrainConfig, notify: Notify | None = None, scan=None, progress: Progress | None = None,
                estimate: TimeEstimate | None = None, pseudo_labels: Sequence[Path] | None = None) -> TrainResult:
    """Scan, split, build or load, estimate, fit, evaluate, and write the run folder; return where it all is.

    `scan` skips the scan when the front end already did it; `progress` follows the
    final evaluation; `estimate` is a time estimate the front end already measured
    and showed for this config (the wizard does, to ask for epochs), so the ~10 s of
    measuring steps are not run twice. Ctrl-C stops after the current step and
    still saves and reports. A config with a teacher runs the self-training rounds
    (selftrain.py), each of which is one such run given its `pseudo_labels`.
    """
    from colorize.evaluation.evaluate import evaluate_test_split, format_table
    from colorize.evaluation.report import RunOutcome, write_run_report
    from colorize.paths import refuse_run_folders_inside_data

    notify = notify or _quiet
    validate_config(config)
    if config.teacher is not None and pseudo_labels is None:
        from colorize.training.selftrain import train_rounds

        return train_rounds(config, train_model, notify, scan, progress, estimate)
    scan, split, extra = _scan_and_split(config, scan, notify)
    for photos in (scan, extra) if extra else (scan,):
        refuse_run_folders_inside_data(config.output, photos.root)
    devices = detect_devices(config.strategy)
    notify(devices.description)
    trainee = prepare_model(config, split, devices.strategy, notify, student=pseudo_labels is not None)
    run_dir, initial_epoch = runfolder.open_run(
        config, lambda: runfolder.run_record(config, scan, split, devices, trainee), notify)
    if estimate is None and initial_epoch < config.epochs and config.strategy != "multiworker":
        notify("Measuring how long training will take (a few real training steps) ...")
        estimate = estimate_training_time(config, split, trainee, devices.strategy, config.epochs - initial_epoch)
        notify(f"Training will take {estimate.describe()}.")
    started = time.monotonic()
    trained, interrupted, files = fit_and_save(trainee, config, split, run_dir, devices.strategy, initial_epoch,
                                               notify, pseudo_labels)
    if trained is None:  # a multi-worker run's other worker: the chief writes the model, scores and reports
        return TrainResult(run_dir, None, None, {}, interrupted, files, initial_epoch)
    seconds = time.monotonic() - started
    notify(f"Saved the model: {files['model']}")
    validation = score_whole_validation(trained.fit_model, config, split, notify)
    metrics, results_dir = evaluate_test_split(trained.model, config, split, run_dir.name, progress,
                                               trained.fit_model, notify)
    outcome = RunOutcome(run_dir, devices.description, _describe_data(scan, split, extra),
                         int(trained.model.count_params()), initial_epoch, interrupted, seconds,
                         format_table(metrics) if metrics else [], validation)
    files.update(write_run_report(trained.model, config, outcome, metrics, notify))
    files.update(runfolder.recorded_files(run_dir, metrics.get("grids", [])))
    return TrainResult(run_dir, results_dir, files["model"], metrics, interrupted, files, initial_epoch,
                       validation=validation)


def validate_config(config: TrainConfig) -> None:
    """Raise a one-line error for settings that cannot work here, before any work starts.

    TrainConfig checks every setting on its own (presets.py); this adds what needs
    the disk. Every preset trains on every strategy, a continued model too.
    """
    if config.model != "new":
        from colorize.models.modelfile import resolve_model_path

        try:
            resolve_model_path(config.model)   # a name too long is a ModelError there, not an OSError
        except ModelError:
            raise ModelError(f"The model to continue from does not exist: {config.model}") from None
    if config.teacher is not None:
        from colorize.training.selftrain import check_self_training

        check_self_training(config)


def _scan_and_split(config: TrainConfig, scan, notify: Notify):
    """Return (scan, split, extra scan or None); DatasetError when there are too few photos.

    --extra-data only adds training photos: the split of --data is the one a run
    without them gets, so both are scored on the same validation and test photos.
    """
    from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset

    if scan is None:
        notify(f"Scanning {config.data} ...")
        scan = scan_dataset(resolve_dataset_path(config.data))
    split = split_dataset(scan.ok, config.train_size, config.test_size, config.effective_split_seed)
    extra = None
    if config.extra_data is not None:
        notify(f"Scanning the extra training photos in {config.extra_data} ...")
        extra = scan_dataset(resolve_dataset_path(config.extra_data))
        if not extra.ok:
            raise DatasetError(f"No usable colour photo in the extra training photos {config.extra_data} "
                               f"({len(extra.files)} files).")
        # The same folder, or one holding --data or inside it, would train on the held-out photos.
        shared = {(entry.source, entry.member) for entry in scan.ok} & {(entry.source, entry.member)
                                                                         for entry in extra.ok}
        if shared:
            raise DatasetError(f"The extra training photos include {len(shared)} of the photos in {config.data}; "
                               "they would train on the held-out ones. Name a folder without them.")
        split = replace(split, train=split.train + extra.ok)
    notify(f"{len(scan.ok)} usable colour photos" + (f" and {len(extra.ok)} extra" if extra else "")
           + f": {len(split.train)} to train on, {len(split.validation)} to validate, {len(split.test)} to test.")
    return scan, split, extra


def _describe_data(scan, split, extra) -> str:
    """Return the data a run trained on, in words, for summary.txt."""
    described = (f"{scan.root} ({len(scan.ok)} usable colour photos; {len(split.train)} train, "
                 f"{len(split.validation)} validation, {len(split.test)} test)")
    return described + (f", and {len(extra.ok)} extra training photos from {extra.root}" if extra else "")


# --- the model ---------------------------------------------------------------------

def _load_model_to_continue(config: TrainConfig):
    """Load a saved model for fine-tuning; ModelError unless it maps L to ab at this image size."""
    from colorize.models.hint_model import has_hint_inputs
    from colorize.models.modelfile import inspect_model, load_model_file, resolve_model_path

    model = load_model_file(resolve_model_path(config.model))   # "default": the shipped model
    info = inspect_model(model)
    if has_hint_inputs(model):
        raise ModelError(f"{config.model} takes hints as input (a hint model); training continues only models "
                         "that take L alone. Train a hint model's branch with tools/models/train_hint_model.py.")
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
    learning_rate: float             # --learning-rate, or the preset's
    classes: object = None           # ab_classes.AbClasses of a class head, else None
    rebalance: float = 1.0           # Zhang's lambda for a class head (1: no rebalancing)
    student: bool = False            # a self-training student: head dropout, per-pixel weighted loss
    ema_momentum: float | None = None  # the preset's weight averaging (None: the raw weights are kept)

    def compile(self, fit_model):
        """Compile `fit_model` (this one's, or a clone of it) with this run's loss and rate; return it."""
        from colorize.models.model import compile_for_training

        return compile_for_training(fit_model, self.learning_rate, classes=self.classes, rebalance=self.rebalance,
                                    pixel_weights=self.student, ema_momentum=self.ema_momentum)


def _training_photo_classes(split, notify: Notify, centres=None, seed: int = 0):
    """Return the ab classes (bins and prior) of the training photos; `centres` keeps a saved model's bins."""
    from concurrent.futures import ThreadPoolExecutor

    from colorize.constants import SCAN_WORKERS
    from colorize.dataset.scan import load_small_rgb
    from colorize.models.ab_classes import PRIOR_DECODE_SIDE, ab_classes_from_histogram, ab_histogram

    photos = prior_sample(split.train, seed)
    notify(f"Measuring the colours of {len(photos)} of the {len(split.train)} training photos ..."
           if len(photos) < len(split.train) else f"Measuring the colours of {len(photos)} training photos ...")
    # Small decodes in threads (Pillow releases the GIL): a 12 MP JPEG decodes at 1/8 scale.
    with ThreadPoolExecutor(SCAN_WORKERS) as pool:
        images = list(pool.map(lambda entry: load_small_rgb(entry, PRIOR_DECODE_SIDE), photos))
    return ab_classes_from_histogram(ab_histogram(images, stride=1), centres)


def prior_sample(photos: Sequence, seed: int) -> list:
    """Return the training photos the colour prior is measured on: all, or a seeded sample of PRIOR_SAMPLE_PHOTOS.

    Rare bins a sample misses are not classes of the head; their colours are
    soft-encoded onto the nearest kept bins (at 2000 photos the bootstrap missed
    none with a measurable share of pixels).
    """
    import random

    from colorize.models.ab_classes import PRIOR_SAMPLE_PHOTOS

    if len(photos) <= PRIOR_SAMPLE_PHOTOS:
        return list(photos)
    chosen = sorted(random.Random(seed).sample(range(len(photos)), PRIOR_SAMPLE_PHOTOS))
    return [photos[index] for index in chosen]


def prepare_model(config: TrainConfig, split, strategy=None, notify: Notify = _quiet,
                  student: bool = False) -> ModelToTrain:
    """Return the compiled model to train: a new one of the preset, or the --model file.

    Built under `strategy`'s scope so its variables are mirrored where needed. A
    class-head model learns the bins its training photos occupy (a continued one
    keeps its own bins and re-measures their prior on this data). A self-training
    `student` gets dropout before its head and a loss that weighs each pixel.
    """
    import keras

    from colorize.models import ab_classes
    from colorize.constants import STUDENT_DROPOUT
    from colorize.models.model import build_model, unfreeze_encoder_top
    from colorize.models.presets import has_class_head, preset_settings

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        keras.utils.set_random_seed(config.seed)
        if config.model == "new":
            classes = (_training_photo_classes(split, notify, seed=config.seed)
                       if has_class_head(config.preset) else None)
            notify(f"Building a new model of the {config.preset!r} preset ...")
            model = build_model(config.preset, classes, head_dropout=STUDENT_DROPOUT if student else 0.0)
        else:
            notify(f"Loading the model to continue: {config.model} ...")
            model = _load_model_to_continue(config)
            classes = (_training_photo_classes(split, notify,
                                               ab_classes.class_head_settings(model)["centres"], config.seed)
                       if ab_classes.has_class_head(model) else None)
        if classes is not None:   # also re-freezes an encoder a continued model fine-tuned
            unfrozen = unfreeze_encoder_top(model, config.fine_tune_blocks)
            if unfrozen:
                notify(f"Fine-tuning the encoder's top {config.fine_tune_blocks} blocks ({unfrozen:,} weights).")
        fit_model = ab_classes.logits_view(model) if classes is not None else model
        settings = preset_settings(config.preset)
        trainee = ModelToTrain(model, fit_model, config.learning_rate or float(settings["learning_rate"]),
                               classes, float(settings.get("rebalance", 1.0)), student,
                               settings.get("ema_momentum"))
        trainee.compile(fit_model)
        return trainee


def estimate_training_time(config: TrainConfig, split, trainee: ModelToTrain | None = None, strategy=None,
                           epochs: int | None = None) -> TimeEstimate:
    """Return how long `epochs` (default: all) epochs will take here (estimate.py), preparing the model if needed."""
    return measure_training_time(config, split, trainee or prepare_model(config, split), strategy, epochs)


# --- fit ------------------------------------------------------------------------------

def fit_and_save(trainee: ModelToTrain, config: TrainConfig, split, run_dir: Path, strategy, initial_epoch: int,
                 notify: Notify, pseudo_labels: Sequence[Path] | None = None
                 ) -> tuple[ModelToTrain | None, bool, dict[str, Path]]:
    """Train and save the model; return (the trained model, whether Ctrl-C stopped it, the files written).

    The trained model is None on a multi-worker run's other workers: the chief saves.
    """
    if config.strategy == "multiworker":  # Keras fit fails under MultiWorkerMirroredStrategy: a custom loop
        from colorize.models.ab_classes import logits_view
        from colorize.training.distributed import fit_multiworker

        # The chief gets back the saved model loaded without the strategy (scoring the
        # mirrored one alone would start collectives the other workers never join);
        # Ctrl-C ends every worker with KeyboardInterrupt, the run's backup kept.
        model, files = fit_multiworker(trainee, config, split, run_dir, strategy, initial_epoch, notify)
        if model is None:
            return None, False, files
        view = logits_view(model) if trainee.classes is not None else model
        return replace(trainee, model=model, fit_model=trainee.compile(view)), False, files
    interrupted = fit_model(trainee.fit_model, config, split, run_dir, initial_epoch, notify, pseudo_labels)
    return trainee, interrupted, runfolder.save_final_model(trainee.model, config, run_dir, trainee.fit_model)


def make_training_data(config: TrainConfig, split, pseudo_labels: Sequence[Path] | None = None) -> tuple:
    """Return the (training, validation) tf.data pipelines for a split; training repeats.

    With `pseudo_labels` (a self-training student) training mixes them in, noised.
    """
    from colorize.dataset.loader import make_dataset, make_student_dataset

    if pseudo_labels is not None:
        training = make_student_dataset(split.train, pseudo_labels, config.image_size, config.batch_size,
                                        unlabeled_share=config.unlabeled_share, seed=config.seed, noise=config.noise,
                                        weighted=config.pseudo_label_weights == "confidence")
    else:
        training = make_dataset(split.train, config.image_size, config.batch_size, training=True,
                                seed=config.seed, noise=config.noise, repeat=True)
    validation = make_dataset(validation_sample(split.validation, config.effective_split_seed), config.image_size,
                              config.batch_size, training=False, seed=config.seed)
    return training, validation


def score_whole_validation(fit_model, config: TrainConfig, split, notify: Notify = _quiet) -> dict:
    """Score the saved model on the whole validation split, once; return {"photos": N, "val_loss": ..., ...}.

    Each epoch validated on a fixed sample (split.validation_sample); this is the
    figure for all of the held-out validation photos.
    """
    from colorize.dataset.loader import make_dataset

    sample = len(validation_sample(split.validation, config.effective_split_seed))
    count = len(split.validation)
    notify(f"Scoring the model on all {count} validation photos ..." if sample < count else
           f"Scoring the model on the {count} validation photos ...")
    scores = fit_model.evaluate(make_dataset(split.validation, config.image_size, config.batch_size,
                                             training=False, seed=config.seed), verbose=0, return_dict=True)
    figures = {f"val_{name}": float(value) for name, value in scores.items()}
    notify(f"Validation loss on all {count} validation photos: {figures['val_loss']:.4f}"
           + (f" (each epoch validated on a fixed sample of {sample})." if sample < count else "."))
    return {"photos": count, "epoch_sample": sample, **figures}


def fit_model(model, config: TrainConfig, split, run_dir: Path, initial_epoch: int = 0,
              notify: Notify = _quiet, pseudo_labels: Sequence[Path] | None = None) -> bool:
    """Train `model` in place with the run's callbacks; return True when Ctrl-C stopped it."""
    from colorize.training.callbacks import AnnounceFirstStep, QuietFirstStep, StopOnInterrupt, build_callbacks
    from colorize.dataset.loader import training_steps_per_epoch

    stopper, quiet = StopOnInterrupt(notify), QuietFirstStep()
    training, validation = make_training_data(config, split, pseudo_labels)
    steps, epochs = training_steps_per_epoch(config, split), config.epochs - initial_epoch
    sample, count = len(validation_sample(split.validation, config.effective_split_seed)), len(split.validation)
    notify(f"Training {epochs} epoch{'s' if epochs != 1 else ''} of {steps} steps, each validated on "
           + (f"a fixed sample of {sample} of the {count} validation photos ..." if sample < count else
              f"the {count} validation photos ..."))
    # One line per epoch when the output is a log file; Keras's live bar on a terminal.
    verbose = 1 if sys.stdout.isatty() else 2
    with stopper.catching_sigint(), quiet:
        # shuffle=False: the tf.data pipeline shuffles itself (Keras would only warn).
        model.fit(training, validation_data=validation, epochs=config.epochs, shuffle=False,
                  steps_per_epoch=steps,
                  callbacks=[stopper, quiet, AnnounceFirstStep(notify),
                             *build_callbacks(config, run_dir, initial_epoch, averaged=bool(model.optimizer.use_ema))],
                  verbose=verbose)
    return stopper.interrupted
