"""Self-training in rounds (Xie et al. 2020, "Noisy Student"), adapted to colour.

A teacher (a saved colorize model) colourises photos that have no colour, as
`predict` would and without noise; a student learns from the colour photos'
true colour and the teacher's colour together, with noise on its input and in
its network; the student becomes the next round's teacher. A student of a
smaller preset than its teacher is distillation (a fast `cpu` model taught by
the pretrained one).

Where it goes: OUTPUT/models/<run>/ holds rounds.json (the settings, the
teacher's test figures and each finished round's), summary.txt and rounds.png
(the figures per round), and pseudo-labels-round-N/ (the teacher's colour,
pseudolabel.py). Each round is a whole training run of its own in
OUTPUT/models/<run>-round-N/, with everything a run has (callbacks, resume,
report, curves, grids). The same command with the same --run-name continues a
killed self-training: finished rounds are kept, the killed round resumes at its
last epoch, pseudo-labels already written are not made again.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from colorize.training import runfolder
from colorize.config import TrainConfig
from colorize.errors import DatasetError, UsageError

Notify = Callable[[str], None]
Progress = Callable[[int, int], None]

ROUNDS_FILE_NAME = "rounds.json"
ROUNDS_PLOT_NAME = "rounds.png"
DEFAULT_RUN_NAME = "self-training"


def check_self_training(config: TrainConfig) -> list:
    """Return the usable photos of --unlabeled, or raise a one-line error for a bad teacher or album.

    Run before any work (train.validate_config calls it): the teacher must be a
    colorize colouriser (L in, ab out), and the album must hold a photo.
    """
    from colorize.dataset import resolve_dataset_path, scan_dataset
    from colorize.training.pseudolabel import check_teacher

    check_teacher(config.teacher)
    album = scan_dataset(resolve_dataset_path(config.unlabeled))
    photos = list(album.predictable)   # gray and colour alike: the teacher sees only their L
    if not photos:
        raise DatasetError(f"No usable photos in {config.unlabeled} to self-train on "
                           f"({len(album.files)} files, none of them a readable photo).")
    return photos


def train_rounds(config: TrainConfig, train_run: Callable, notify: Notify, scan=None,
                 progress: Progress | None = None, estimate=None):
    """Run (or continue) every round of a self-training; return the last round's TrainResult with `rounds`.

    `train_run(config, notify, scan, progress, estimate, pseudo_labels=...)` is one
    training run (train.train_model, which calls this for a config with a teacher:
    passed in, so that train.py imports this module and not the other way round).
    `estimate` is the time of one round the front end measured, if it did.
    """
    from colorize.models.modelfile import resolve_model_path

    unlabeled = check_self_training(config)
    scan = scan or _scan_colour_photos(config, notify)
    folder, record = open_self_training(config, notify)
    # Absolute: rounds.json and each round's config.json must name it wherever they are read from.
    teacher = Path(record["rounds"][-1]["model"]) if record["rounds"] else resolve_model_path(config.teacher).resolve()
    record.setdefault("teacher_model", str(resolve_model_path(config.teacher).resolve()))
    if "teacher_figures" not in record:
        record["teacher_figures"] = _score_teacher(config, scan, teacher, notify, progress)
        _save_record(folder, record)
    result = None
    for number in range(len(record["rounds"]) + 1, config.rounds + 1):
        notify(f"Round {number} of {config.rounds}: the teacher {teacher.parent.name}/{teacher.name} colourises "
               f"{len(unlabeled)} photos without colour.")
        labels = _label(teacher, unlabeled, folder / f"pseudo-labels-round-{number}", config, notify)
        round_config = replace(config, run_name=f"{folder.name}-round-{number}", teacher=str(teacher))
        result = train_run(round_config, notify, scan, progress, estimate, pseudo_labels=labels)
        record["rounds"].append(_round_entry(number, teacher, result))
        _save_record(folder, record)
        teacher = result.model_path
        if result.interrupted:
            notify("Ctrl-C: the rounds stop after this one; the same command continues with the next round.")
            break
    _write_rounds_report(folder, record, notify)
    result.rounds = _rounds_rows(record)
    return result


def _scan_colour_photos(config: TrainConfig, notify: Notify):
    """Return the scan of the colour photos (--data), made once for the teacher's score and every round."""
    from colorize.dataset import resolve_dataset_path, scan_dataset

    notify(f"Scanning {config.data} ...")
    return scan_dataset(resolve_dataset_path(config.data))


def open_self_training(config: TrainConfig, notify: Notify) -> tuple[Path, dict]:
    """Return (the self-training folder, its record): a killed one's to continue, or a new one."""
    from colorize.paths import models_root, new_run_dir, safe_name

    root = models_root(config.output)
    candidate = root / safe_name(config.run_name or DEFAULT_RUN_NAME)
    record = _read_record(candidate)
    settings = config.to_dict()
    if record is not None and len(record["rounds"]) < config.rounds:
        # The settings a killed training run must keep (more --rounds or --epochs only extend it).
        changed = [name for name in runfolder.RESUME_MUST_MATCH if record["settings"].get(name) != settings.get(name)]
        if changed:
            raise UsageError(f"Self-training {candidate.name!r} was started with other settings "
                             f"({', '.join(changed)}); repeat the same command to continue it, or choose "
                             "another --run-name.")
        notify(f"Continuing the self-training in {candidate} at round {len(record['rounds']) + 1}.")
        return candidate, record
    folder = new_run_dir(root, config.run_name or DEFAULT_RUN_NAME)
    notify(f"Self-training folder: {folder}")
    record = {"settings": settings, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "rounds": []}
    _save_record(folder, record)
    return folder, record


def _read_record(folder: Path) -> dict | None:
    """Return a self-training folder's rounds.json, or None when there is none (or it is unreadable)."""
    try:
        record = json.loads((folder / ROUNDS_FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("rounds"), list) else None


def _save_record(folder: Path, record: dict) -> None:
    """Write rounds.json atomically (replacing the earlier one): a kill never leaves half of it."""
    runfolder.write_json(folder / ROUNDS_FILE_NAME, record, replace=True)


def _label(teacher: Path, photos: list, folder: Path, config: TrainConfig, notify: Notify) -> list[Path]:
    """Return the teacher's pseudo-labels of `photos`, made at training resolution (those already made are kept)."""
    from colorize.constants import MAX_SCALE_OVER_CROP
    from colorize.training.pseudolabel import label_photos

    folder.mkdir(parents=True, exist_ok=True)

    # The loader scales a photo's shorter side to 1..2x the crop before cropping;
    # labels made at 2x offer the student the same range of scales.
    short_side = int(MAX_SCALE_OVER_CROP * config.image_size)
    return label_photos(teacher, photos, folder, short_side, notify=notify)


def _score_teacher(config: TrainConfig, scan, teacher: Path, notify: Notify, progress: Progress | None) -> dict:
    """Return the teacher's figures on the test split the rounds are scored on ({} without a test split)."""
    from colorize.dataset import split_dataset
    from colorize.evaluation.evaluate import evaluate_files
    from colorize.inference.colorizer import Colorizer

    split = split_dataset(scan.ok, config.train_size, config.test_size,
                          config.effective_split_seed)   # every round's split
    if not split.test:
        return {}
    notify(f"Scoring the teacher {teacher.name} on the {len(split.test)} test photos, for comparison.")
    figures = evaluate_files(Colorizer.from_path(teacher), split.test, progress=progress)
    figures.pop("grids", None)
    return figures


def _round_entry(number: int, teacher: Path, result) -> dict:
    """Return what rounds.json keeps of a finished round."""
    metrics = {key: value for key, value in result.metrics.items() if key != "grids"}
    return {"round": number, "teacher": str(teacher), "run_dir": str(result.run_dir),
            "model": str(result.model_path), "interrupted": result.interrupted, "metrics": metrics}


def _rounds_rows(record: dict) -> list[dict]:
    """Return one row per model in order, the teacher first: {"label", "model", "metrics"}."""
    rows = [{"label": "teacher", "model": record["teacher_model"], "metrics": record.get("teacher_figures", {})}]
    rows += [{"label": f"round {entry['round']}", "model": entry["model"], "metrics": entry["metrics"]}
             for entry in record["rounds"]]
    return rows


def _write_rounds_report(folder: Path, record: dict, notify: Notify) -> None:
    """Write summary.txt (the figures per round, as a table) and rounds.png (the same, plotted)."""
    from colorize.evaluation.report import rounds_table_lines, save_rounds_plot

    rows = _rounds_rows(record)
    lines = [f"Self-training: teacher {record['settings']['teacher']}, photos without colour from "
             f"{record['settings']['unlabeled']}, {len(record['rounds'])} round(s) done.", "",
             "Test split figures (the same held-out photos for every row):", *rounds_table_lines(rows)]
    runfolder.write_text(folder / "summary.txt", "\n".join(lines) + "\n", replace=True)
    if any(row["metrics"] for row in rows):
        save_rounds_plot(rows, folder / ROUNDS_PLOT_NAME)
    notify(f"Rounds report: {folder / 'summary.txt'}")

