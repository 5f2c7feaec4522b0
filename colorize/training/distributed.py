"""Training across several machines: TensorFlow's MultiWorkerMirroredStrategy
driven by the standard TF_CONFIG variable, with a distributed custom training loop.

Keras 3 `fit` fails under MultiWorkerMirroredStrategy (`Attempt to convert a
value (PerReplica...)`, keras-team/keras#20585), so this module runs the epoch
loop itself: `strategy.run` of the model's own `train_step` / `test_step` (its
compiled loss, scaled for the replicas, and metrics, all-reduced), and drives
the very callbacks `fit` gets (callbacks.build_callbacks: ReduceLROnPlateau,
ModelCheckpoint, CSVLogger, BackupAndRestore, EarlyStopping, TensorBoard, the
weight-average swap) through keras.callbacks.CallbackList, so both paths keep
the same books. What the model trains is `ModelToTrain.fit_model` (a class
head's logits view); what is saved is its inference model, by
runfolder.save_final_model as after `fit`.

Every worker runs the same command; each gets its own TF_CONFIG (cluster + its
own task). Every collective step must be entered by every worker, so every
worker runs every callback on the same all-reduced logs and takes the same
decisions (lower the rate, save the best, stop early). Only the chief's files
are the run's: the other workers point the callbacks that write at a scratch
folder they delete (saving reads mirrored variables, so a save the chief
entered alone could wait for the others forever).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from colorize.constants import HISTORY_FILE_NAME
from colorize.errors import UsageError
from colorize.training.cluster import WorkerRole, create_multiworker_strategy, read_tf_config
from colorize.training.runfolder import best_logged, save_model

Notify = Callable[[str], None]


@dataclass
class MultiWorkerResult:
    """What the multi-worker loop produced; the model and the files exist on the chief only."""
    role: WorkerRole
    history: dict[str, list[float]]       # this session's epochs, as fit's History: loss, val_loss, ...
    model: object | None                  # the saved inference model loaded back without the strategy; chief only
    first_epoch: int                      # 0, or the epochs a restored backup had done
    files: dict[str, Path] = field(default_factory=dict)   # model (, model_h5): chief only


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


def distribute_datasets(strategy, config, split, global_batch: int) -> tuple:
    """Return (train, validation) distributed datasets, each worker reading only its share of files.

    The files are sharded by worker before decoding (explicit sharding): the
    loader decodes images from a file list, which TensorFlow's FILE autoshard
    cannot split, and DATA autoshard would make every worker decode every image
    and keep 1/N of them. Training repeats, so every worker runs the same number
    of steps (a worker that ran out early would stall the all-reduce).
    """
    from colorize.dataset.loader import make_dataset
    from colorize.dataset.split import validation_sample

    validation = validation_sample(split.validation, config.effective_split_seed)   # each epoch's fixed sample

    def shard(files: Sequence, context) -> tuple:
        return tuple(files[context.input_pipeline_id::context.num_input_pipelines])

    def train_fn(context):
        return make_dataset(shard(split.train, context), config.image_size,
                            context.get_per_replica_batch_size(global_batch), training=True,
                            seed=config.seed + context.input_pipeline_id, noise=config.noise, repeat=True)

    def validation_fn(context):
        return make_dataset(shard(validation, context), config.image_size,
                            context.get_per_replica_batch_size(global_batch), training=False)

    return (strategy.distribute_datasets_from_function(train_fn),
            strategy.distribute_datasets_from_function(validation_fn))


def make_step_functions(strategy, fit_model) -> tuple:
    """Return tf.functions train_step(iterator, stop_asked) -> workers asking to stop, and test_step(batch).

    Both run the model's own steps, as `fit` does: Keras scales the loss by the
    replicas and the optimizer all-reduces the gradients. Each worker passes 1.0
    when Ctrl-C was pressed there; the SUM comes back to all, so every worker
    stops after the same step (one that stopped alone would leave the others
    waiting in the next all-reduce).
    """
    import tensorflow as tf

    def replica_train_step(batch, stop_asked):
        fit_model.train_step(batch)
        return stop_asked

    @tf.function
    def train_step(iterator, stop_asked):
        asked = strategy.run(replica_train_step, args=(next(iterator), stop_asked))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, asked, axis=None)

    @tf.function
    def test_step(batch):
        strategy.run(fit_model.test_step, args=(batch,))

    return train_step, test_step


def broadcast_from_chief(strategy, variables: Sequence) -> None:
    """Give every worker the chief's values of `variables` (after the chief restored a backup).

    A backup lives in the chief's run folder only; the other machines may have
    none, and a worker that kept its own weights would drift apart from the
    chief for the rest of the run. Replica 0 (the chief's) contributes its
    values, every other replica zeros; the SUM all-reduce hands them to all.
    """
    import tensorflow as tf

    @tf.function
    def gather():
        def replica_fn():
            context = tf.distribute.get_replica_context()
            is_first = tf.equal(context.replica_id_in_sync_group, 0)
            values = [tf.cast(tf.convert_to_tensor(v), tf.float64) for v in variables]
            # tf.where, not a product: inf * 0 (no best value yet) is NaN.
            return context.all_reduce(tf.distribute.ReduceOp.SUM,
                                      [tf.where(is_first, value, tf.zeros_like(value)) for value in values])
        return strategy.run(replica_fn)

    values = gather()
    for variable, value in zip(variables, values):
        variable.assign(tf.cast(strategy.experimental_local_results(value)[0], variable.dtype))


def agree_on_start(strategy, config, run_dir: Path, initial_epoch: int, role: WorkerRole) -> tuple[int, float | None]:
    """Return the chief's (epochs its backup had done, best monitored value logged) on every worker.

    Only the chief's run folder holds the backup and history.csv; the other
    workers need both so that their ModelCheckpoint decides as the chief's does.
    """
    import math

    import tensorflow as tf

    best = best_logged(run_dir / HISTORY_FILE_NAME, config.monitor) if role.is_chief and initial_epoch else None
    with strategy.scope():
        epochs = tf.Variable(float(initial_epoch if role.is_chief else 0), dtype=tf.float64, trainable=False)
        best_value = tf.Variable(math.inf if best is None else best, dtype=tf.float64, trainable=False)
    broadcast_from_chief(strategy, [epochs, best_value])
    best = float(best_value.numpy())
    return int(epochs.numpy()), (None if math.isinf(best) else best)


def check_split_for_workers(split, role: WorkerRole) -> None:
    """Raise UsageError unless every worker gets at least one training and one validation image."""
    for name, files in (("training", split.train), ("validation", split.validation)):
        if len(files) < role.worker_count:
            raise UsageError(f"{role.worker_count} workers need at least {role.worker_count} {name} images "
                             f"(one each); this split has {len(files)}. Use more images or fewer workers.")


def metric_logs(fit_model, prefix: str = "") -> dict[str, float]:
    """Return the model's metrics so far as a logs dict (all-reduced: the same on every worker)."""
    return {f"{prefix}{name}": float(value) for name, value in fit_model.get_metrics_result().items()}


def validate(fit_model, callbacks, validation_data, test_step) -> dict[str, float]:
    """Run the validation split through the model as fit's evaluate does; return the val_ logs."""
    callbacks.on_test_begin()     # the weight-average swap puts the average in for validation
    fit_model.reset_metrics()
    for batch in validation_data:   # the strategy agrees across workers on when data runs out
        test_step(batch)
    logs = metric_logs(fit_model)
    callbacks.on_test_end(logs)
    return {f"val_{name}": value for name, value in logs.items()}


def run_epochs(fit_model, callbacks, stopper, steps: tuple[int, int, int], data: tuple, notify: Notify) -> dict:
    """fit's epoch loop over (first epoch, last epoch, steps per epoch); return this session's logs by name.

    Ends early when a callback sets stop_training (EarlyStopping) or after the
    step every worker agreed to stop at (Ctrl-C on any of them). A stop by
    Ctrl-C leaves its epoch unfinished: not validated, logged nor backed up, so
    the same command repeats it from the last backup.
    """
    import tensorflow as tf

    first_epoch, epochs, steps_per_epoch = steps
    train_data, validation_data, train_step, test_step = data
    iterator, history = iter(train_data), {}
    for epoch in range(first_epoch, epochs):
        fit_model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        for step in range(steps_per_epoch):
            callbacks.on_train_batch_begin(step)
            asked = train_step(iterator, tf.constant(1.0 if stopper.interrupted else 0.0))
            stopper.agree(float(asked) > 0)
            callbacks.on_train_batch_end(step, {})
            if fit_model.stop_training:
                break
        if stopper.agreed:
            return history
        logs = {**metric_logs(fit_model), **validate(fit_model, callbacks, validation_data, test_step)}
        callbacks.on_epoch_end(epoch, logs)   # ReduceLROnPlateau adds the learning rate before CSVLogger writes
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        notify(f"Epoch {epoch + 1}/{epochs}: loss {logs['loss']:.4f}, val_loss {logs['val_loss']:.4f}")
        if fit_model.stop_training:
            break
    return history


def train_multiworker(trainee, config, split, run_dir: Path, strategy=None, initial_epoch: int = 0,
                      notify: Notify | None = None) -> MultiWorkerResult:
    """Train a train.ModelToTrain across the workers in $TF_CONFIG; the chief writes the run files.

    The trainee must have been built and compiled inside `strategy.scope()`
    (train.prepare_model does). `--batch-size` is per replica: a step trains on
    batch_size x replicas images. A killed or Ctrl-C'd run continues from the
    chief's backup (`initial_epoch`: what the chief's run folder says). Ctrl-C
    raises KeyboardInterrupt on every worker once all have stopped.
    """
    from colorize.dataset.loader import training_steps_per_epoch

    notify = notify or (lambda message: None)
    role = read_tf_config()
    strategy = strategy or create_multiworker_strategy()
    check_split_for_workers(split, role)
    global_batch = config.batch_size * strategy.num_replicas_in_sync
    steps = training_steps_per_epoch(config, split, global_batch)
    from colorize.dataset.split import validation_sample

    sample = len(validation_sample(split.validation, config.effective_split_seed))
    notify(f"Multi-worker training: this is {role.describe()}; {strategy.num_replicas_in_sync} replicas, "
           f"{global_batch} images per step, {steps} steps per epoch, each validated on {sample} of the "
           f"{len(split.validation)} validation photos.")
    fit_model = trainee.fit_model
    with strategy.scope():   # BackupAndRestore and the broadcast need the optimizer's slots
        if not fit_model.optimizer.built:
            fit_model.optimizer.build(fit_model.trainable_variables)
    first_epoch, best = agree_on_start(strategy, config, run_dir, initial_epoch, role)
    files_dir = run_dir if role.is_chief else Path(tempfile.mkdtemp(prefix=f"colorize-worker{role.task_index}-"))
    try:
        history = _train_in(fit_model, config, split, files_dir, strategy, (first_epoch, steps, global_batch),
                            best, notify)
        from colorize.training.runfolder import save_final_model

        files = save_final_model(trainee.model, config, files_dir, fit_model)
    finally:
        if not role.is_chief:
            shutil.rmtree(files_dir, ignore_errors=True)
    return finish_run(role, history, first_epoch, files)


def _train_in(fit_model, config, split, files_dir: Path, strategy, plan: tuple[int, int, int], best: float | None,
              notify: Notify) -> dict:
    """Drive fit's callbacks (writing into `files_dir`) through the epochs; return the logs by name."""
    import keras

    from colorize.training.callbacks import AnnounceFirstStep, StopOnInterrupt, build_callbacks

    # Every stock callback works here as under fit, with these differences, each for a reason:
    # - BackupAndRestore finds a backup on the chief only (the others write theirs to scratch),
    #   so the chief's restored weights and slots are broadcast; after Ctrl-C its on_train_end
    #   must not delete the backup, or the same command could not continue.
    # - TensorBoard writes the epoch scalars, but no graph: it draws `model.train_function`,
    #   which only fit builds (the loop's step is its own tf.function).
    # - ProgbarLogger is left out: the loop passes no per-step logs, and each worker would
    #   draw its own bar; notify says one line per epoch instead. History too: run_epochs
    #   returns the logs.
    first_epoch, steps, global_batch = plan
    stopper = StopOnInterrupt(notify, agreed_across_workers=True)
    stock = build_callbacks(config, files_dir, first_epoch, averaged=bool(fit_model.optimizer.use_ema),
                            best_so_far=best)
    callbacks = keras.callbacks.CallbackList([stopper, AnnounceFirstStep(notify), *stock], model=fit_model,
                                             epochs=config.epochs, steps=steps, verbose=0)
    train_data, validation_data = distribute_datasets(strategy, config, split, global_batch)
    step_functions = make_step_functions(strategy, fit_model)
    fit_model.stop_training = False
    with stopper.catching_sigint():
        callbacks.on_train_begin()   # the chief's BackupAndRestore puts its backup into the model
        if first_epoch:
            broadcast_from_chief(strategy, [*fit_model.variables, *fit_model.optimizer.variables])
            notify(f"Continuing from the chief's backup: {first_epoch} epochs done.")
        history = run_epochs(fit_model, callbacks, stopper, (first_epoch, config.epochs, steps),
                             (train_data, validation_data, *step_functions), notify)
        if stopper.agreed:
            for callback in stock:   # keep the backup: the same command continues the run
                if isinstance(callback, keras.callbacks.BackupAndRestore):
                    callback.delete_checkpoint = False
        elif history:
            fit_model.optimizer.finalize_variable_values(fit_model.trainable_weights)   # as fit ends
        callbacks.on_train_end(logs={name: values[-1] for name, values in history.items()})
    if stopper.agreed:
        done = first_epoch + len(next(iter(history.values()), []))
        notify(f"Stopped by Ctrl-C with {done} epochs done and backed up; the same command continues "
               f"from epoch {done + 1}." if done else
               "Stopped by Ctrl-C before the first epoch ended; nothing was backed up to continue from.")
        raise KeyboardInterrupt
    return history


def finish_run(role: WorkerRole, history: dict, first_epoch: int, files: dict) -> MultiWorkerResult:
    """On the chief, load model.keras back without the strategy, through the product's loader.

    The loaded copy is what train.py evaluates and reports on: calling the
    mirrored model on the chief alone would start collectives the other workers
    never join.
    """
    if not role.is_chief:
        return MultiWorkerResult(role, history, None, first_epoch)
    from colorize.models.modelfile import load_model_file

    return MultiWorkerResult(role, history, load_model_file(files["model"]), first_epoch, files)


def fit_multiworker(trainee, config, split, run_dir: Path, strategy, initial_epoch: int,
                    notify: Notify | None = None) -> tuple:
    """train.fit_and_save's hook: return (trained inference model, or None off the chief; the files)."""
    result = train_multiworker(trainee, config, split, run_dir, strategy, initial_epoch, notify)
    return result.model, result.files
