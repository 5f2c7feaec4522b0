"""A training run's folder: where it goes, continuing a killed run, config.json,
the saved model, and the one atomic writer every file of a run goes through.

OUTPUT/models/<run>/ holds model.keras (+ model.h5), config.json, history.csv,
summary.txt, model.png, curves.png and metrics.json; the comparison grids go to
OUTPUT/results/<run>/. A run killed mid-training keeps BackupAndRestore's
`backup/` folder; the same command with the same --run-name continues it.

Every file is written under a temporary name beside its final one, flushed to
disk, then renamed (`write_atomically`): a file under its final name is always
whole, whatever kills the process, and nothing existing is overwritten unless
the caller replaces its own earlier file (the multi-worker loop's best model).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

from colorize.config import TrainConfig
from colorize.constants import (
    BACKUP_DIR_NAME,
    CHECKPOINT_FILE_NAME,
    CONFIG_FILE_NAME,
    HISTORY_FILE_NAME,
    MODEL_FILE_NAME,
    MODEL_H5_FILE_NAME,
)
from colorize.errors import ColorizeError, OutputError, UsageError

Notify = Callable[[str], None]

# The prefix of the temporary name a file is written under; the suffix stays, since
# Keras and matplotlib pick the format from it.
PARTIAL_PREFIX = ".partial-"
# Settings a resumed run must share with the run it continues (the weights and
# the split depend on them); epochs, callbacks and --h5 may change. A killed
# self-training is continued on the same list (selftrain.py): --rounds may grow.
RESUME_MUST_MATCH = ("data", "extra_data", "train_size", "test_size", "image_size", "batch_size", "preset",
                     "model", "seed", "split_seed", "noise", "fine_tune_blocks", "teacher", "unlabeled",
                     "unlabeled_share", "pseudo_label_weights")
# Files Keras's BackupAndRestore (latest.weights.h5) or the multi-worker loop's
# tf.train.Checkpoint (checkpoint) leave in backup/, and the epoch record of both.
BACKUP_WEIGHTS_NAMES = ("latest.weights.h5", "checkpoint")
BACKUP_METADATA_NAME = "training_metadata.json"


# --- the atomic writer ----------------------------------------------------------

def write_atomically(path: Path, write: Callable[[Path], object], *, replace: bool = False,
                     action: str = "write") -> Path:
    """Call write(temporary path), flush it to disk and rename it to `path`; return `path`.

    Refuses an existing `path` unless `replace`. Any failure (a full disk, Ctrl-C)
    removes the temporary file and leaves `path` as it was; errors become one
    OutputError line: "Cannot <action> <path>: <reason>".
    """
    if path.exists() and not replace:
        raise OutputError(f"Refusing to overwrite {path}.")
    temporary = path.with_name(f"{PARTIAL_PREFIX}{path.name}")
    try:
        write(temporary)
        _flush_to_disk(temporary)
        os.replace(temporary, path)
    except ColorizeError:
        _remove(temporary)
        raise
    except Exception as error:  # h5py reports a full disk as RuntimeError, not OSError (issue 8 test)
        reason = _failure_reason(error, path.parent)
        _remove(temporary)
        raise OutputError(f"Cannot {action} {path}: {reason}") from error
    except BaseException:       # Ctrl-C while writing: quit, but leave no half file
        _remove(temporary)
        raise
    return path


def _flush_to_disk(path: Path) -> None:
    """fsync a written file, so a rename after a power cut never names an empty one."""
    if not path.is_file():
        return
    descriptor = os.open(path, os.O_RDWR)   # writable: Windows cannot flush a read-only handle
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove(path: Path) -> None:
    """Remove a temporary file or folder, whatever state the failed write left it in."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _failure_reason(error: Exception, folder: Path) -> str:
    """Return why a write failed in words: the system's reason, or a full disk behind h5py's obscure one."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    with contextlib.suppress(OSError):
        if shutil.disk_usage(folder).free < 1024**2:   # measured before the partial file is removed
            return "No space left on device"
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def write_new_file(path: Path, data: bytes) -> Path:
    """Write `data` to a new file (never replacing one) and return its path."""
    return write_atomically(path, lambda temporary: temporary.write_bytes(data))


def write_text(path: Path, text: str, *, replace: bool = False) -> Path:
    """Write `text` (UTF-8) to a file, new unless `replace`, and return its path."""
    return write_atomically(path, lambda temporary: temporary.write_bytes(text.encode("utf-8")), replace=replace)


def write_json(path: Path, data: dict, *, replace: bool = False) -> Path:
    """Write `data` as indented JSON to a file, new unless `replace`, and return its path."""
    return write_text(path, json.dumps(data, indent=2, default=str) + "\n", replace=replace)


def save_model(model, path: Path, *, replace: bool = False) -> Path:
    """Save a Keras model to `path` (.keras or .h5) atomically and return the path."""
    return write_atomically(path, lambda temporary: model.save(str(temporary)), replace=replace,
                            action="save the model to")


# --- a new run, or a killed one continued ---------------------------------------------

def open_run(config: TrainConfig, record: Callable[[], dict], notify: Notify) -> tuple[Path, int]:
    """Open the run folder (new, or a killed run's) and write config.json (`record()`) into a new one.

    Return (run folder, epoch to start from).
    """
    run_dir, initial_epoch = open_run_folder(config)
    if initial_epoch or (run_dir / CONFIG_FILE_NAME).exists():
        notify(f"Continuing the killed run in {run_dir} from epoch {initial_epoch + 1}.")
    else:
        notify(f"Run folder: {run_dir}")
        write_json(run_dir / CONFIG_FILE_NAME, record())
    return run_dir, initial_epoch


def open_run_folder(config: TrainConfig) -> tuple[Path, int]:
    """Return (run folder, epoch to start from).

    --run-name reuses its folder only when that folder holds a backup of a killed
    run (which is then continued); otherwise a new folder is made (name-2, ...),
    so a finished run is never overwritten.
    """
    from colorize.paths import models_root, new_run_dir, safe_name

    root = models_root(config.output)
    if config.run_name:
        candidate = root / safe_name(config.run_name)
        epoch = _backup_epoch(candidate / BACKUP_DIR_NAME)
        if epoch is not None:
            _check_resumable(candidate, config)
            _trim_history(candidate / HISTORY_FILE_NAME, epoch)
            return candidate, epoch
    return new_run_dir(root, config.run_name), 0


def _backup_epoch(backup_dir: Path) -> int | None:
    """Return the epoch a backup folder continues from, or None if there is none."""
    if not any((backup_dir / name).is_file() for name in BACKUP_WEIGHTS_NAMES):
        return None
    try:
        return int(json.loads((backup_dir / BACKUP_METADATA_NAME).read_text())["epoch"])
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


def _trim_history(history_path: Path, epochs_done: int) -> None:
    """Drop history rows of epochs the backup does not cover (logged, then killed before the backup)."""
    if not history_path.is_file():
        return
    with open(history_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if len(rows) <= epochs_done + 1:
        return

    def write_kept(temporary: Path) -> None:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows[:epochs_done + 1])

    write_atomically(history_path, write_kept, replace=True)


def read_history(history_path: Path) -> list[dict[str, float]]:
    """Return history.csv as one dict of floats per epoch (empty when there is none)."""
    if not history_path.is_file():
        return []
    with open(history_path, newline="", encoding="utf-8") as handle:
        return [{key: float(value) for key, value in row.items() if value not in ("", None)}
                for row in csv.DictReader(handle)]


def best_logged(history_path: Path, monitor: str) -> float | None:
    """Return the lowest `monitor` value an earlier (killed) part of the run logged, if any.

    Every monitor (presets.MONITORS) is a loss or an error: lower is better.
    """
    values = [row[monitor] for row in read_history(history_path) if monitor in row]
    return min(values) if values else None


# --- what config.json records, and the saved model --------------------------------------

def run_record(config: TrainConfig, scan, split, devices, trainee) -> dict:
    """Return everything config.json records: settings, data, split, device, versions, seed."""
    from colorize.models.presets import PRESETS

    model = trainee.model
    return {
        "settings": config.to_dict(),
        "seed": config.seed,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "preset": dict(PRESETS.get(config.preset, {})),
        "learning_rate": trainee.learning_rate,
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


def _library_versions() -> dict[str, str]:
    """Return colorize's, Python's and every dependency's version."""
    import platform

    from colorize import __version__
    from colorize.frontends.info import library_versions

    return {"colorize": __version__, "python": platform.python_version(), **library_versions()}


def save_final_model(model, config: TrainConfig, run_dir: Path, fit_model=None) -> dict[str, Path]:
    """Put the best (or last) epoch's weights into `model`, save model.keras (+ model.h5); return the paths.

    The checkpoint holds `fit_model`'s weights (a class head's logits view shares
    its layers with `model`), so it is loaded there.
    """
    checkpoint = run_dir / CHECKPOINT_FILE_NAME
    if config.save_best and checkpoint.is_file():
        (fit_model or model).load_weights(str(checkpoint))
    from colorize.models.model import float32_copy

    model = float32_copy(model)   # a mixed-precision model would predict in float16 on a CPU
    files = {"model": save_model(model, run_dir / MODEL_FILE_NAME)}
    if config.save_h5:
        files["model_h5"] = save_model(model, run_dir / MODEL_H5_FILE_NAME)
    checkpoint.unlink(missing_ok=True)  # its weights now live in model.keras
    return files


def recorded_files(run_dir: Path, grids: list[str]) -> dict[str, Path]:
    """Return the files a run wrote along the way, by role: config.json, history.csv, the grid pages."""
    return {"config": run_dir / CONFIG_FILE_NAME, "history": run_dir / HISTORY_FILE_NAME,
            **{f"grid-{index}": Path(path) for index, path in enumerate(grids, start=1)}}
