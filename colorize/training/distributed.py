"""Training across several machines: TensorFlow's MultiWorkerMirroredStrategy
driven by the standard TF_CONFIG variable, with a distributed custom training loop.

Keras 3 `fit` fails under MultiWorkerMirroredStrategy (`Attempt to convert a
value (PerReplica...)`, keras-team/keras#20585), so this module runs
the loop itself: `strategy.run` on a `tf.function` step, the per-replica loss
scaled by the GLOBAL batch, gradients all-reduced by the strategy, and the
effects of the stock callbacks (callbacks.py) re-done by hand: validation and the
model file see the weight average when the optimizer keeps one, best model written
by the chief only (atomically, as every model file: runfolder.save_model), a
ReduceLROnPlateau-like schedule, history.csv, and backup/restore through
tf.train.CheckpointManager in the run folder.

Every worker runs the same command; each gets its own TF_CONFIG (cluster + its
own task). Every collective step must be entered by every worker, so each
decision below (save, lower the rate) depends only on values all workers share.
"""

from __future__ import annotations

import contextlib
import csv
import math
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from colorize.training.cluster import WorkerRole, create_multiworker_strategy, read_tf_config
from colorize.constants import (
    BACKUP_DIR_NAME,
    HISTORY_FILE_NAME,
    LR_PLATEAU_FACTOR,
    LR_PLATEAU_MIN,
    LR_PLATEAU_PATIENCE,
    MODEL_FILE_NAME,
    MODEL_H5_FILE_NAME,
)
from colorize.errors import UsageError
from colorize.training.runfolder import BACKUP_METADATA_NAME, save_model, write_json

Notify = Callable[[str], None]
MONITORS_HERE = ("loss", "val_loss")   # the loop computes these two; others fall back to val_loss


@dataclass
class MultiWorkerResult:
    """What the multi-worker loop produced; the model and the files exist on the chief only."""
    role: WorkerRole
    history: dict[str, list[float]]       # this session's epochs: loss, val_loss, learning_rate
    model: object | None                  # the best (or last) model loaded back without the strategy; chief only
    first_epoch: int                      # 0, or the epochs a restored backup had done
    files: dict[str, Path] = field(default_factory=dict)   # model, history (, model_h5): chief only


def save_on_every_worker(save: Callable[[Path], object], target: Path, role: WorkerRole) -> None:
    """Call save(path) on every worker: the chief writes `target`, the others a scratch copy they delete.

    Saving reads variables the strategy reduces across workers (collective ops),
    so a save entered by the chief alone would wait for the others forever.
    """
    if role.is_chief:
        save(target)
        return
    scratch = Path(tempfile.mkdtemp(prefix=f"colorize-worker{role.task_index}-"))
    try:
        save(scratch / target.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def save_model_on_every_worker(model, target: Path, role: WorkerRole) -> None:
    """Save the model on every worker; the chief's file replaces `target` only once it is whole."""
    save_on_every_worker(lambda path: save_model(model, path, replace=True), target, role)


def per_example_loss(loss_object, ab_true, ab_predicted):
    """Return the model's loss per image, shape (batch,), unreduced across the batch.

    `Loss.call` skips the object's own reduction; averaging every axis but the
    first keeps an empty shard (a worker with no images left) at shape (0,).
    """
    import tensorflow as tf

    ab_predicted = tf.cast(ab_predicted, tf.float32)
    compute = getattr(loss_object, "call", loss_object)
    values = compute(ab_true, ab_predicted)
    return tf.reduce_mean(values, axis=list(range(1, values.shape.rank)))


class PlateauSchedule:
    """ReduceLROnPlateau's rule on the epoch loss, with its state in tf.Variables that are checkpointed.

    Every worker sees the same all-reduced loss, so every worker takes the same
    decision without talking to the others.
    """

    def __init__(self, tf, patience: int = LR_PLATEAU_PATIENCE, factor: float = LR_PLATEAU_FACTOR,
                 minimum: float = LR_PLATEAU_MIN):
        self.best = tf.Variable(math.inf, dtype=tf.float64, trainable=False, name="plateau_best")
        self.wait = tf.Variable(0, dtype=tf.int64, trainable=False, name="plateau_wait")
        self.patience, self.factor, self.minimum = patience, factor, minimum

    def next_rate(self, monitored: float, rate: float) -> float:
        """Return the learning rate for the next epoch after an epoch that ended at `monitored`."""
        if monitored < float(self.best.numpy()):
            self.best.assign(monitored)
            self.wait.assign(0)
            return rate
        self.wait.assign_add(1)
        if int(self.wait.numpy()) < self.patience:
            return rate
        self.wait.assign(0)
        return max(rate * self.factor, self.minimum)

    @property
    def variables(self) -> list:
        return [self.best, self.wait]


def distribute_datasets(strategy, config, split, global_batch: int) -> tuple:
    """Return (train, validation) distributed datasets, each worker reading only its share of files.

    The files are sharded by worker before decoding (explicit sharding): the
    loader decodes images from a file list, which TensorFlow's FILE autoshard
    cannot split, and DATA autoshard would make every worker decode every image
    and keep 1/N of them. Training repeats, so every worker runs the same number
    of steps (a worker that ran out early would stall the all-reduce).
    """
    from colorize.dataset.loader import make_dataset

    def shard(files: Sequence, context) -> tuple:
        return tuple(files[context.input_pipeline_id::context.num_input_pipelines])

    def train_fn(context):
        return make_dataset(shard(split.train, context), config.image_size,
                            context.get_per_replica_batch_size(global_batch), training=True,
                            seed=config.seed + context.input_pipeline_id, noise=config.noise, repeat=True)

    def validation_fn(context):
        return make_dataset(shard(split.validation, context), config.image_size,
                            context.get_per_replica_batch_size(global_batch), training=False)

    return (strategy.distribute_datasets_from_function(train_fn),
            strategy.distribute_datasets_from_function(validation_fn))


def make_step_functions(strategy, model, loss_object, global_batch: int) -> tuple:
    """Return tf.functions (train_step(iterator) -> mean loss, validation_sums(batch) -> (loss sum, count))."""
    import tensorflow as tf

    optimizer = model.optimizer

    def replica_train_step(inputs):
        gray, ab = inputs
        with tf.GradientTape() as tape:
            predicted = model(gray, training=True)
            # Scaled by the GLOBAL batch: the optimizer all-reduces gradients
            # with SUM, so the replicas' shares add up to the batch mean.
            loss = tf.nn.compute_average_loss(per_example_loss(loss_object, ab, predicted),
                                              global_batch_size=global_batch)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            scaled_loss = optimizer.scale_loss(loss)  # loss scaling under mixed precision, else itself
        gradients = tape.gradient(scaled_loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    def replica_validation_sums(inputs):
        gray, ab = inputs
        losses = per_example_loss(loss_object, ab, model(gray, training=False))
        return tf.reduce_sum(losses), tf.cast(tf.shape(losses)[0], tf.float32)

    @tf.function
    def train_step(iterator):
        per_replica = strategy.run(replica_train_step, args=(next(iterator),))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    @tf.function
    def validation_sums(batch):
        loss_sum, count = strategy.run(replica_validation_sums, args=(batch,))
        return (strategy.reduce(tf.distribute.ReduceOp.SUM, loss_sum, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, count, axis=None))

    return train_step, validation_sums


def broadcast_from_chief(strategy, variables: Sequence) -> None:
    """Give every worker the chief's values of `variables` (after the chief restored a backup).

    A backup lives in the chief's run folder only; the other machines may have
    none, and a worker that kept its own fresh weights would drift apart from
    the chief for the rest of the run. Replica 0 (the chief's) contributes its
    values, every other replica zeros; the SUM all-reduce hands them to all.
    """
    import tensorflow as tf

    @tf.function
    def gather():
        def replica_fn():
            context = tf.distribute.get_replica_context()
            is_first = tf.equal(context.replica_id_in_sync_group, 0)
            values = [tf.cast(tf.convert_to_tensor(v), tf.float64) for v in variables]
            # tf.where, not a product: inf * 0 (the "best so far" before any epoch) is NaN.
            return context.all_reduce(tf.distribute.ReduceOp.SUM,
                                      [tf.where(is_first, value, tf.zeros_like(value)) for value in values])
        return strategy.run(replica_fn)

    values = gather()
    for variable, value in zip(variables, values):
        variable.assign(tf.cast(strategy.experimental_local_results(value)[0], variable.dtype))


@dataclass
class TrainingState:
    """The model and everything a backup must hold to continue where a run stopped."""
    model: object
    checkpoint: object            # tf.train.Checkpoint of all of it
    epochs_done: object           # tf.Variable(int64)
    best_monitored: object        # tf.Variable(float64): best value of the monitor so far
    plateau: PlateauSchedule

    @property
    def shared_variables(self) -> list:
        """Every variable the workers must agree on: weights, optimizer slots, loop state."""
        return [*self.model.variables, *self.model.optimizer.variables,
                self.epochs_done, self.best_monitored, *self.plateau.variables]


def build_training_state(strategy, model) -> TrainingState:
    """Add the optimizer slots and the loop state to a compiled model, inside the strategy's scope."""
    import tensorflow as tf

    if getattr(model, "optimizer", None) is None:
        raise UsageError("Multi-worker training needs a compiled model (model.compile_for_training).")
    with strategy.scope():
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        epochs_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="epochs_done")
        best_monitored = tf.Variable(math.inf, dtype=tf.float64, trainable=False, name="best_monitored")
        plateau = PlateauSchedule(tf)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer, epochs_done=epochs_done,
                                     best_monitored=best_monitored, plateau_best=plateau.best,
                                     plateau_wait=plateau.wait)
    return TrainingState(model, checkpoint, epochs_done, best_monitored, plateau)


def restore_backup(state: TrainingState, strategy, backup_dir: Path, role: WorkerRole) -> int:
    """Restore the chief's latest backup, hand its values to every worker, return the epochs done."""
    import tensorflow as tf

    if role.is_chief:
        latest = tf.train.latest_checkpoint(str(backup_dir)) if backup_dir.is_dir() else None
        if latest:
            state.checkpoint.restore(latest).expect_partial()
    broadcast_from_chief(strategy, state.shared_variables)
    return int(state.epochs_done.numpy())


def write_backup(state: TrainingState, backup_dir: Path, role: WorkerRole) -> None:
    """Save the backup checkpoint (one kept) on every worker; only the chief's copy stays.

    The chief also writes Keras BackupAndRestore's training_metadata.json, so
    runfolder.py sees a resumable run the same way for both loops.
    """
    import tensorflow as tf

    def save(directory: Path) -> None:
        # The manager writes the checkpoint's files, then its index file under a temporary name.
        tf.train.CheckpointManager(state.checkpoint, str(directory), max_to_keep=1).save()
        write_json(directory / BACKUP_METADATA_NAME, {"epoch": int(state.epochs_done.numpy())}, replace=True)

    save_on_every_worker(save, backup_dir, role)


def append_history_row(path: Path, row: dict) -> None:
    """Append one epoch to history.csv (header first when new), as Keras's CSVLogger does."""
    is_new = not path.exists()
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if is_new:
            writer.writeheader()
        writer.writerow(row)


def validation_loss(validation_data, validation_sums) -> float:
    """Return the mean validation loss over every worker's share of the validation images."""
    total, count = 0.0, 0.0
    for batch in validation_data:  # the strategy agrees across workers on when data runs out
        loss_sum, batch_count = validation_sums(batch)
        total += float(loss_sum)
        count += float(batch_count)
    return total / max(count, 1.0)


def check_split_for_workers(split, role: WorkerRole) -> None:
    """Raise UsageError unless every worker gets at least one training and one validation image."""
    for name, files in (("training", split.train), ("validation", split.validation)):
        if len(files) < role.worker_count:
            raise UsageError(f"{role.worker_count} workers need at least {role.worker_count} {name} images "
                             f"(one each); this split has {len(files)}. Use more images or fewer workers.")


@contextlib.contextmanager
def averaged_weights_in(model):
    """While inside, the model holds the optimizer's weight average (Adam's use_ema).

    What fit's callbacks.AveragedWeightsBetweenEpochs gives validation and the
    saved model; the trained weights are back in place after, for the backup and
    the next epoch. Keras's own swap is used: it updates mirrored variables through
    the strategy. A plain optimizer leaves the model as it is.
    """
    import keras

    if not getattr(model.optimizer, "use_ema", False):
        yield
        return
    swap = keras.callbacks.SwapEMAWeights()
    swap.set_model(model)
    swap._swap_variables()
    try:
        yield
    finally:
        swap._swap_variables()


def save_if_improved(state: TrainingState, row: dict, monitor: str, config, run_dir: Path,
                     role: WorkerRole) -> bool:
    """ModelCheckpoint's and ReduceLROnPlateau's work (same decisions on every worker); return True if saved as best."""
    optimizer = state.model.optimizer
    optimizer.learning_rate = state.plateau.next_rate(row[monitor], row["learning_rate"])
    improved = row[monitor] < float(state.best_monitored.numpy())
    if improved:
        state.best_monitored.assign(row[monitor])
    if improved or not config.save_best:
        save_model_on_every_worker(state.model, run_dir / MODEL_FILE_NAME, role)
    return improved


def end_epoch(state: TrainingState, row: dict, run_dir: Path, role: WorkerRole) -> None:
    """CSVLogger's and BackupAndRestore's work, in that order as with fit."""
    if role.is_chief:
        append_history_row(run_dir / HISTORY_FILE_NAME, row)
    state.epochs_done.assign(row["epoch"] + 1)
    write_backup(state, run_dir / BACKUP_DIR_NAME, role)


def train_multiworker(model, config, split, run_dir: Path, strategy=None, notify: Notify | None = None,
                      progress: Callable[[int, int], None] | None = None) -> MultiWorkerResult:
    """Train a compiled model across the workers in $TF_CONFIG; the chief writes the run files.

    `model` must have been built and compiled inside `strategy.scope()`
    (train.prepare_model does). `--batch-size` is per replica: a step trains on
    batch_size x replicas images. A killed run continues from the chief's backup.
    """
    notify = notify or (lambda message: None)
    role = read_tf_config()
    strategy = strategy or create_multiworker_strategy()
    check_split_for_workers(split, role)
    global_batch = config.batch_size * strategy.num_replicas_in_sync
    from colorize.dataset.loader import training_steps_per_epoch

    steps = training_steps_per_epoch(config, split, global_batch)
    monitor = config.monitor if config.monitor in MONITORS_HERE else "val_loss"
    if monitor != config.monitor:
        notify(f"Multi-worker training watches loss or val_loss; using val_loss instead of {config.monitor}.")
    notify(f"Multi-worker training: this is {role.describe()}; {strategy.num_replicas_in_sync} replicas, "
           f"{global_batch} images per step, {steps} steps per epoch.")
    state = build_training_state(strategy, model)
    first_epoch = restore_backup(state, strategy, run_dir / BACKUP_DIR_NAME, role)
    if first_epoch:
        notify(f"Continuing from the chief's backup: {first_epoch} epochs done.")
    train_data, validation_data = distribute_datasets(strategy, config, split, global_batch)
    train_step, validation_sums = make_step_functions(strategy, model, model.loss, global_batch)
    iterator = iter(train_data)
    history: dict[str, list[float]] = {}
    for epoch in range(first_epoch, config.epochs):
        row = {"epoch": epoch, "loss": 0.0, "val_loss": 0.0,
               "learning_rate": float(model.optimizer.learning_rate.numpy())}
        for step in range(steps):
            row["loss"] += float(train_step(iterator)) / steps
            if progress:
                progress((epoch - first_epoch) * steps + step + 1, (config.epochs - first_epoch) * steps)
        with averaged_weights_in(model):   # as with fit: validation and the model file see the average
            row["val_loss"] = validation_loss(validation_data, validation_sums)
            improved = save_if_improved(state, row, monitor, config, run_dir, role)
        end_epoch(state, row, run_dir, role)
        for key in ("loss", "val_loss", "learning_rate"):
            history.setdefault(key, []).append(row[key])
        notify(f"Epoch {epoch + 1}/{config.epochs}: loss {row['loss']:.4f}, val_loss {row['val_loss']:.4f}"
               f"{', saved as best' if improved and role.is_chief else ''}")
    return finish_run(role, history, config, run_dir, first_epoch)


def finish_run(role: WorkerRole, history: dict, config, run_dir: Path, first_epoch: int) -> MultiWorkerResult:
    """Drop the backup of the finished run; on the chief, load model.keras back without the strategy.

    The loaded copy is what train.py evaluates and reports on: calling the
    mirrored model on the chief alone would start collectives the other
    workers never join. The backup goes, as Keras's BackupAndRestore's does
    after a finished run, so the same --run-name later starts a new run.
    """
    import keras

    if not role.is_chief:
        return MultiWorkerResult(role, history, None, first_epoch)
    shutil.rmtree(run_dir / BACKUP_DIR_NAME, ignore_errors=True)
    model_path = run_dir / MODEL_FILE_NAME
    plain_model = keras.models.load_model(model_path)
    files = {"model": model_path, "history": run_dir / HISTORY_FILE_NAME}
    if config.save_h5:
        files["model_h5"] = save_model(plain_model, run_dir / MODEL_H5_FILE_NAME)
    return MultiWorkerResult(role, history, plain_model, first_epoch, files)


def fit_multiworker(model, config, split, run_dir: Path, strategy, notify: Notify | None = None) -> tuple:
    """train.train_model's hook: return (trained plain model, or None off the chief; interrupted; files)."""
    result = train_multiworker(model, config, split, run_dir, strategy, notify)
    return result.model, False, result.files
