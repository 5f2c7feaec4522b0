"""The callbacks of a `fit`: the stock Keras ones that keep a run's books, and
small ones of ours (Ctrl-C stops after the step; TensorFlow's native noise is
kept off the screen during the first step; Keras's weight-average swap mended
for runs that resume or stop early).

Imported by train.fit_model only, after TensorFlow has been loaded quietly.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from pathlib import Path
from typing import Callable

import keras

from colorize.config import TrainConfig
from colorize.constants import (
    BACKUP_DIR_NAME,
    CHECKPOINT_FILE_NAME,
    EARLY_STOPPING_PATIENCE,
    HISTORY_FILE_NAME,
    LR_PLATEAU_FACTOR,
    LR_PLATEAU_MIN,
    LR_PLATEAU_PATIENCE,
    TENSORBOARD_DIR_NAME,
)
from colorize.training.devices import native_stderr_silenced
from colorize.training.runfolder import best_logged

Notify = Callable[[str], None]
# Every monitor a run may watch (presets.MONITORS) is a loss or an error: lower is
# better. Said explicitly: Keras cannot guess the direction of our own metrics.
MONITOR_MODE = "min"


def build_callbacks(config: TrainConfig, run_dir: Path, initial_epoch: int = 0, averaged: bool = False,
                    best_so_far: float | None = None) -> list:
    """Return the stock Keras callbacks of a run, in the order their effects depend on.

    ReduceLROnPlateau adds the epoch's learning rate to the logs before CSVLogger
    writes them (Keras 3 does; history.csv and the curves show it). history.csv
    is written before the backup, so a kill between the two repeats a row that
    `runfolder.open_run_folder` trims, never loses one. `averaged` (an optimizer
    with use_ema) puts AveragedWeightsBetweenEpochs first, so validation, the
    monitor, the checkpoint and the backup all see the averaged weights, and its
    companion last, so that a stop by any callback before it keeps them too.
    `best_so_far`: the best monitored value of the run so far when `run_dir`'s
    history.csv is not the run's (a multi-worker run's other workers).

    Under the multi-worker loop (distributed.py) every one of them works as with
    fit: each worker runs them all on the same all-reduced logs, and the ones that
    write do so into the chief's run folder, or a scratch folder on the others.
    """
    # A resumed run starts ModelCheckpoint from the best value already logged, so
    # a worse first epoch after the restart does not replace the best weights.
    if best_so_far is None and initial_epoch:
        best_so_far = best_logged(run_dir / HISTORY_FILE_NAME, config.monitor)
    callbacks = [
        keras.callbacks.ReduceLROnPlateau(monitor=config.monitor, mode=MONITOR_MODE, factor=LR_PLATEAU_FACTOR,
                                          patience=LR_PLATEAU_PATIENCE, min_lr=LR_PLATEAU_MIN),
        keras.callbacks.ModelCheckpoint(str(run_dir / CHECKPOINT_FILE_NAME), monitor=config.monitor,
                                        mode=MONITOR_MODE, save_best_only=config.save_best,
                                        save_weights_only=True, initial_value_threshold=best_so_far),
        keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE_NAME), append=initial_epoch > 0),
        keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_DIR_NAME)),
    ]
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=config.monitor, mode=MONITOR_MODE,
                                                       patience=EARLY_STOPPING_PATIENCE))
    if config.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / TENSORBOARD_DIR_NAME)))
    if averaged:
        averaging = AveragedWeightsBetweenEpochs()
        callbacks = [averaging, *callbacks, averaging.keeper()]
    return callbacks


class AveragedWeightsBetweenEpochs(keras.callbacks.SwapEMAWeights):
    """SwapEMAWeights(swap_on_epoch=True), mended for a run that resumes or stops early.

    Between epochs the model holds the optimizer's average and the optimizer the
    trained weights; when the next epoch begins they swap back. Stock Keras gets
    two cases wrong (measured: tests/test_model.py):
    - a resumed run: BackupAndRestore saved the between-epochs state, but a new
      SwapEMAWeights assumes the trained weights are in the model, so training
      went on from the average and averaged the trained weights from then on;
    - a run stopped before its last epoch (early stopping, Ctrl-C): `fit` ends by
      copying the optimizer's slot, by then the trained weights, into the model.
    """

    def __init__(self):
        super().__init__(swap_on_epoch=True)
        self._first_epoch_of_fit = True

    def on_epoch_begin(self, epoch, logs=None):
        # fit starts past epoch 0 only when BackupAndRestore restored an epoch's end.
        if self._first_epoch_of_fit and epoch > 0:
            self._ema_weights_in_model = True
        self._first_epoch_of_fit = False
        super().on_epoch_begin(epoch, logs)

    def keeper(self) -> keras.callbacks.Callback:
        """Return the callback to run last: when the epoch ends the run, the average stays in the model."""
        return _KeepAverageWhenStopping(self)

    def keep_average_if_stopping(self) -> None:
        if self.model.stop_training and self._ema_weights_in_model:
            self._finalize_ema_values()   # the optimizer's slot := the average, which fit then copies


class _KeepAverageWhenStopping(keras.callbacks.Callback):
    def __init__(self, averaging: AveragedWeightsBetweenEpochs):
        super().__init__()
        self.averaging = averaging

    def on_epoch_end(self, epoch, logs=None):
        self.averaging.keep_average_if_stopping()


class StopOnInterrupt(keras.callbacks.Callback):
    """Turn the first Ctrl-C into a stop after the current step; a second one quits at once.

    The signal handler only sets a flag: Python runs it between TensorFlow ops,
    and printing from it could collide with Keras's progress bar.

    With `agreed_across_workers` (the multi-worker loop) a Ctrl-C here only asks:
    the loop all-reduces every worker's question with each step and calls
    `agree`, and all stop after the same step; a worker that stopped alone would
    leave the others waiting in the next all-reduce.
    """

    def __init__(self, notify: Notify, agreed_across_workers: bool = False):
        super().__init__()
        self.notify = notify
        self.interrupted = False          # Ctrl-C was pressed in this process
        self.shared = agreed_across_workers
        self.agreed = False               # some worker pressed Ctrl-C, as the last step's all-reduce said
        self.announced = False

    def agree(self, anyone_asked: bool) -> None:
        """Record what the workers' all-reduce said: stop when any of them was asked to."""
        self.agreed = self.agreed or anyone_asked

    def _stop_if_asked(self) -> None:
        if (self.agreed if self.shared else self.interrupted) and self.model is not None:
            self.model.stop_training = True
            if not self.announced:
                self.announced = True
                self.notify("Ctrl-C: every worker stops after this step; the run's backup is kept "
                            "(press Ctrl-C again to quit at once)." if self.shared else
                            "Ctrl-C: stopping after this step and saving the model "
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
    fallback that reads like an error. Use it as a context manager around `fit`:
    when the first step fails, leaving the block hands the error to the
    silencer, which shows what TensorFlow wrote meanwhile (never hidden).
    """

    def __init__(self):
        super().__init__()
        self._silence = contextlib.ExitStack()
        self._started = False

    def __enter__(self) -> "QuietFirstStep":
        return self

    def __exit__(self, *failure) -> bool:
        return self._silence.__exit__(*failure)   # a no-op once the first step has ended

    def on_train_batch_begin(self, batch, logs=None):
        if not self._started:
            self._started = True
            self._silence.enter_context(native_stderr_silenced())

    def on_train_batch_end(self, batch, logs=None):
        self._silence.close()


class AnnounceFirstStep(keras.callbacks.Callback):
    """Say when the first training step has run: it builds the graph (seconds), and a log file
    (verbose=2) shows nothing else until the first epoch ends, minutes later on a big set."""

    def __init__(self, notify: Notify):
        super().__init__()
        self.notify = notify
        self._started: float | None = None

    def on_train_begin(self, logs=None):
        self._started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if self._started is not None:
            self.notify(f"Training: the first step took {time.monotonic() - self._started:.0f} s "
                        "(building the graph); the rest run faster.")
            self._started = None
