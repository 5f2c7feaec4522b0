"""Score a colouriser against colour photos, beside the gray baseline.

Each photo is turned gray (its own L, ab = 0), colourised, and both the output
and that gray baseline are scored against the original at the original
resolution (metrics.py). Totals are pooled as we go, so memory stays flat
however many photos there are; only a few thumbnails are kept for the grids.
Used by the `evaluate` command and by `train` on its test split (with the
Keras loss beside it: `evaluate_test_split`).

A model saved by `train` has its run's config.json beside it. Evaluated on the
data it trained on without --test-size, only the photos that run held out are
scored: the others were seen in training and would flatter it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from colorize.evaluation import metrics
from colorize.config import EvaluateConfig
from colorize.constants import CONFIG_FILE_NAME, DEFAULT_SEED, EVALUATE_GRID_IMAGES, TRAIN_GRID_IMAGES
from colorize.errors import DatasetError, UsageError

if TYPE_CHECKING:
    from colorize.dataset import ScannedFile
    from colorize.inference.colorizer import Colorizer

Progress = Callable[[int, int], None]
Notify = Callable[[str], None]

# Grid column name -> its title. Training shows "original,colorized,gray".
GRID_COLUMNS = {"original": "original", "colorized": "colourised", "gray": "grayscale (input)"}
RESULTS_FILE = "evaluation.json"


def parse_grid_columns(grid_columns: str) -> list[str]:
    """Return the column names of a comma-separated `grid_columns`; UsageError if unknown."""
    columns = [name.strip() for name in grid_columns.split(",") if name.strip()]
    unknown = [name for name in columns if name not in GRID_COLUMNS]
    if unknown or not columns:
        raise UsageError(f"Unknown grid column(s) {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(GRID_COLUMNS)}.")
    return columns


def _save_grids(rows: list[list[np.ndarray]], columns: list[str], labels: list[str],
                grid_dir: Path | None) -> list[str]:
    if grid_dir is None or not rows:
        return []
    from colorize.evaluation.report import save_comparison_grids

    titles = [GRID_COLUMNS[name] for name in columns]
    pages = save_comparison_grids(rows, titles, grid_dir, prefix="evaluate", row_labels=labels)
    return [str(page) for page in pages]


def evaluate_files(colorizer: "Colorizer", files: Sequence["ScannedFile"], progress: Progress | None = None,
                   grid_dir: Path | None = None, grid_columns: str = "original,colorized,gray",
                   grid_images: int = EVALUATE_GRID_IMAGES, hints: int = 0, seed: int = DEFAULT_SEED) -> dict:
    """Return {"images", <model figures>, "gray_baseline": {<figures>}, "grids"} for colour `files`.

    With `hints`, each photo is steered by that many simulated points (Zhang et
    al. 2017: seeded random places, each the mean true colour of its patch; the
    seed is `seed` plus the photo's index), as a person giving hints would.
    """
    from colorize.dataset import load_rgb
    from colorize.evaluation.report import grid_thumbnail
    from colorize.hints.sources import simulate_hints

    columns = parse_grid_columns(grid_columns)
    model_totals, baseline_totals = metrics.ScoreTotals(), metrics.ScoreTotals()
    # An ensemble (ensemble.EnsembleColorizer) has members: each is scored too, from the same run of its model.
    member_totals = [metrics.ScoreTotals() for _ in getattr(colorizer, "members", ())]
    rows, labels = [], []
    if progress:
        progress(0, len(files))
    for done, entry in enumerate(files, start=1):
        original = load_rgb(entry)
        gray = metrics.gray_baseline(original)
        image_hints = simulate_hints(original, hints, seed + done - 1) if hints else None
        if member_totals:
            colorized, members = colorizer.colorize_with_members(gray, image_hints)
            for totals, member in zip(member_totals, members):
                totals.add(metrics.score_image(original, member))
        else:
            colorized = colorizer.colorize(gray, hints=image_hints)
        model_totals.add(metrics.score_image(original, colorized))
        baseline_totals.add(metrics.score_image(original, gray))
        if len(rows) < grid_images:
            shown = {"original": original, "colorized": colorized, "gray": gray}
            rows.append([grid_thumbnail(shown[name]) for name in columns])
            labels.append(entry.path)
        if progress:
            progress(done, len(files))
    baseline = baseline_totals.summary()
    result = {
        **model_totals.summary(),
        "gray_baseline": {name: baseline[name] for name in metrics.FIGURES},
        "grids": _save_grids(rows, columns, labels, grid_dir),
    }
    if member_totals:
        result["members"] = [totals.summary() for totals in member_totals]
    return result


def beats_baseline(result: dict) -> dict[str, bool]:
    """Return, per headline figure, whether the model did better than the gray baseline."""
    # Hue and green recall stay out of the verdict, though higher is better: gray
    # scores 0 on them by construction, so "beats gray" would only mean "adds colour".
    baseline = result["gray_baseline"]
    return {
        "psnr": result["psnr"] > baseline["psnr"],
        "ssim": result["ssim"] >= baseline["ssim"],
        "delta_colorfulness": result["delta_colorfulness"] < baseline["delta_colorfulness"],
    }


# (figure, label, format, which way is better) for the readable table.
TABLE_ROWS = (
    ("psnr", "PSNR (dB)", "{:.2f}", "higher is better"),
    ("ssim", "SSIM", "{:.4f}", "higher is better"),
    ("colorfulness", "colourfulness", "{:.1f}", "originals: {colorfulness_gt:.1f}"),
    ("delta_colorfulness", "colourfulness gap", "{:.1f}", "lower is better"),
    ("auc", "AuC (ab error 0..150)", "{:.4f}", "higher is better"),
    ("auc_rebalanced", "AuC rebalanced", "{:.4f}", "higher is better, every colour counts"),
    ("hue_recall", "hue recall", "{:.1%}", "higher is better: vivid pixels given the right hue"),
    ("green_recall", "green recall", "{:.1%}", "higher is better: the same, on foliage greens"),
)
VERDICT_NAMES = {"psnr": "PSNR", "ssim": "SSIM", "delta_colorfulness": "colourfulness gap"}


def _join(names: list[str], word: str) -> str:
    """Return "a", "a and b", "a, b and c" (or with "or")."""
    return f" {word} ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def _format_figure(number: str, value: float | None) -> str:
    """Return `value` in `number`'s format, or "n/a" (a recall with no vivid pixel to judge is None)."""
    return "n/a" if value is None else number.format(value)


def _table_columns(result: dict) -> list[tuple[str, dict]]:
    """Return (title, figures) per column: the model, or each member then the ensemble; then gray."""
    members = result.get("members") or []
    columns = [(f"model {number}", member) for number, member in enumerate(members, start=1)]
    columns.append(("ensemble" if members else "model", result))
    return columns + [("gray baseline", result["gray_baseline"])]


def format_table(result: dict) -> list[str]:
    """Return the lines of a model-vs-gray-baseline table (a column per member of an ensemble) and a verdict."""
    columns = _table_columns(result)
    widths = [max(10, len(title) + 2) for title, _ in columns]
    header = f"{'':<24}" + "".join(f"{title:>{width}}" for (title, _), width in zip(columns, widths))
    lines = [header, "-" * len(header)]
    for name, label, number, note in TABLE_ROWS:
        cells = "".join(f"{_format_figure(number, figures[name]):>{width}}"
                        for (_, figures), width in zip(columns, widths))
        lines.append(f"{label:<24}{cells}   {note.format(**result)}")
    for number, member in enumerate(result.get("members") or [], start=1):
        lines.append(f"model {number}: {member.get('model', '?')}")
    verdict = beats_baseline(result)
    wins = _join([VERDICT_NAMES[name] for name, won in verdict.items() if won], "and")
    losses = _join([VERDICT_NAMES[name] for name, won in verdict.items() if not won], "or")
    subject = "The ensemble" if result.get("members") else "The model"
    if not losses:
        lines.append(f"{subject} beats the gray baseline on {wins}.")
    elif not wins:
        lines.append(f"{subject} does not beat the gray baseline on {losses}.")
    else:
        lines.append(f"{subject} beats the gray baseline on {wins}, but not on {losses}.")
    return lines


def markdown_table(results: dict[str, dict]) -> list[str]:
    """Return one Markdown table of several models' results: a row per figure, gray baseline then a column each."""
    first = next(iter(results.values()))
    lines = ["| figure | gray | " + " | ".join(results) + " |", "|---|" + "---:|" * (len(results) + 1)]
    for name, label, number, _ in TABLE_ROWS:
        def show(value):
            return "n/a" if value is None else number.format(value)
        cells = [show(first["gray_baseline"].get(name))] + [show(result.get(name)) for result in results.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def evaluate_test_split(model, config, split, run_name: str, progress: Progress | None = None,
                        fit_model=None, notify: Notify | None = None) -> tuple[dict, Path | None]:
    """Score a training run's test split beside the gray baseline and save grids; return (metrics, results folder).

    `model` maps L to ab; `fit_model` is what fit trained (a class head's logits
    view), whose Keras loss and metrics are added under "loss" and "keras_metrics".
    """
    from colorize.inference.colorizer import Colorizer
    from colorize.paths import new_run_dir, results_root

    if not split.test:
        return {}, None
    if notify:
        notify(f"Evaluating on {len(split.test)} test photos ...")
    results_dir = new_run_dir(results_root(config.output), run_name)
    figures = evaluate_files(Colorizer(model), split.test, progress=progress, grid_dir=results_dir,
                             grid_columns="original,colorized,gray", grid_images=TRAIN_GRID_IMAGES)
    keras_scores, gray_loss = _test_losses(fit_model or model, config, split)
    figures["loss"] = keras_scores.get("loss")
    figures["gray_baseline"]["loss"] = gray_loss
    figures["keras_metrics"] = keras_scores
    return figures, results_dir


def _test_losses(fit_model, config, split) -> tuple[dict, float | None]:
    """Return the Keras loss and metrics on the test crops, and the gray baseline's loss (ab = 0).

    A class head's loss is a cross-entropy over bins: gray has no logits to score,
    so its baseline loss is None there (the figures above still compare both).
    """
    from colorize.dataset.loader import make_dataset

    test_data = make_dataset(split.test, config.image_size, config.batch_size, training=False)
    scores = {name: float(value) for name, value in fit_model.evaluate(test_data, return_dict=True,
                                                                       verbose=0).items()}
    if fit_model.output_shape[-1] != 2:
        return scores, None
    gray_total, images = 0.0, 0
    for _, ab in test_data:
        count = int(ab.shape[0])
        gray_total += float(np.asarray(fit_model.loss(ab, np.zeros(ab.shape, np.float32)))) * count
        images += count
    return scores, gray_total / max(images, 1)


@dataclass(frozen=True)
class TrainingRun:
    """What a training run's config.json says about the data it scanned and the photos it held out."""

    name: str                    # the run folder's name
    record: Path                 # its config.json
    data_root: str               # dataset.root: the resolved folder, zip or file the run scanned
    test_paths: frozenset[str]   # split_files.test: paths as scanned, relative to data_root

    def trained_on(self, root: str) -> bool:
        """Return whether `root` (a resolved dataset path) is the data this run scanned."""
        if Path(root) == Path(self.data_root):
            return True
        try:   # the same folder under another name (a link, a case-insensitive disk)
            return os.path.samefile(root, self.data_root)
        except (OSError, ValueError):   # the run's data is gone, or was on another machine
            return False


def read_training_run(model_path: Path) -> TrainingRun | None:
    """Return the run recorded in the config.json beside `model_path`, or None if there is no usable one."""
    record_path = model_path.parent / CONFIG_FILE_NAME
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        data_root, test_paths = record["dataset"]["root"], record["split_files"]["test"]
    except (OSError, ValueError, KeyError, TypeError):
        # Absent, unreadable, garbled or not a colorize run: where the model came
        # from is unknown, so score the photos as asked, as before config.json was read.
        return None
    if not isinstance(data_root, str) or not isinstance(test_paths, list) \
            or not all(isinstance(path, str) for path in test_paths):
        return None
    return TrainingRun(model_path.parent.name, record_path, data_root, frozenset(test_paths))


def _held_out_by_run(run: TrainingRun, root: str, files: list["ScannedFile"]) -> list["ScannedFile"]:
    """Return the photos of `files` that `run` held out of training; DatasetError if there are none."""
    held_out = [entry for entry in files if entry.path in run.test_paths]
    if held_out:
        return held_out
    # Refused rather than scored with a warning: figures on training photos look
    # good and say nothing, and with --json a warning on stderr is easily lost.
    # Asking for --test-size N keeps the old, explicit way to score them anyway.
    if not run.test_paths:
        reason = f"run {run.name} held no test photos out of {root} (test size 0 in {run.record})"
    else:
        reason = (f"none of the {len(run.test_paths)} test photos run {run.name} held out ({run.record}) "
                  f"is still a usable colour photo in {root}")
    raise DatasetError(f"Nothing to score honestly: {reason}; evaluate on other colour photos, "
                       "or pass --test-size N to score N of these anyway.")


def _choose_files(config: EvaluateConfig, model_paths: Sequence[Path], root: str,
                  files: list["ScannedFile"]) -> tuple[list["ScannedFile"], str]:
    """Return the photos to score and how they were chosen (the end of the notice line).

    With several models, only photos that every model's training run held out
    (those trained on `root`) are scored: any other was seen by one of them.
    """
    from colorize.dataset import split_dataset

    if config.test_size is not None:   # the same seeded split train made: photos it never saw
        test = split_dataset(files, None, config.test_size, config.seed).test
        return list(test), f" (the test split of {config.test_size}, seed {config.seed})"
    runs = [run for run in map(read_training_run, model_paths) if run is not None and run.trained_on(root)]
    if not runs:
        return files, ""
    for run in runs:
        files = _held_out_by_run(run, root, files)
    held_out_by = (f"run {runs[0].name} held out ({runs[0].record})" if len(runs) == 1 else
                   "every one of runs " + ", ".join(f"{run.name} ({run.record})" for run in runs) + " held out")
    return files, f": only the test photos {held_out_by}; pass --test-size N to choose another split"


def _colour_files(config: EvaluateConfig, model_paths: Sequence[Path], notify: Notify,
                  scan_progress: Progress | None) -> tuple[str, list["ScannedFile"]]:
    """Return the scanned root and the colour photos to score (at most config.limit)."""
    from colorize.dataset import resolve_dataset_path, scan_dataset

    scan = scan_dataset(resolve_dataset_path(config.data), progress=scan_progress)
    files = list(scan.ok)
    if not files:
        counts = scan.counts()
        raise DatasetError(f"No usable colour photos in {config.data} ({counts['total']} files: "
                           f"{counts['grayscale']} grayscale, {counts['too_small']} too small, "
                           f"{counts['not_image'] + counts['unreadable']} not readable images); "
                           "evaluate needs colour photos to compare against.")
    files, how_chosen = _choose_files(config, model_paths, scan.root, files)
    if config.limit is not None:
        files = files[:config.limit]
    notify(f"Evaluating on {len(files)} colour photos from {scan.root}{how_chosen}.")
    return scan.root, files


def _check_film_evaluation(config: EvaluateConfig, model_paths: Sequence[Path]) -> None:
    """A film is scored with one model and no hints (its frames are coloured as `predict` colours films)."""
    if len(model_paths) > 1:
        raise UsageError("evaluate on a film takes one model (--model once).")
    if config.hints:
        raise UsageError("evaluate on a film takes no --hints.")


def evaluate_model(config: EvaluateConfig, progress: Progress | None = None,
                   notify: Notify | None = None, scan_progress: Progress | None = None) -> dict:
    """Run the `evaluate` command's work; return the result dict (also saved as evaluation.json).

    `progress` follows the scoring, `scan_progress` the scan of `config.data` before it.
    """
    from colorize import defaults
    from colorize.evaluation import film_eval
    from colorize.training.devices import load_tensorflow
    from colorize.inference.ensemble import check_distinct_models
    from colorize.models.modelfile import resolve_model_path
    from colorize.paths import new_run_dir, refuse_run_folders_inside_data, results_root
    from colorize.inference.colorizer import Colorizer
    from colorize.training.runfolder import write_json

    notify = notify or (lambda message: None)
    # Bad paths (missing, one named twice) fail before the slow TF import.
    model_paths = check_distinct_models([resolve_model_path(model) for model in config.models])
    film_entry = film_eval.film_to_score(config.data)   # a colour film: its frames are scored (issue 28)
    if film_entry is not None:
        _check_film_evaluation(config, model_paths)
        data_root, files = film_entry.source, []
        notify(f"Evaluating on the frames of the colour film {film_entry.source}.")
    else:
        data_root, files = _colour_files(config, model_paths, notify, scan_progress)
    refuse_run_folders_inside_data(config.output, data_root)
    load_tensorflow()   # quietly, so TensorFlow's start-up lines do not bury the results
    colorizer = Colorizer.from_paths(model_paths, config.ensemble_chroma)
    run_dir = new_run_dir(results_root(config.output), config.run_name or time.strftime("evaluate-%Y%m%d-%H%M%S"))
    if film_entry is not None:
        result = film_eval.evaluate_film(colorizer, film_entry, defaults.default_predict_batch_size(), progress)
    else:
        result = evaluate_files(colorizer, files, progress=progress, grid_dir=run_dir, hints=config.hints,
                                seed=config.seed)
    result = {"hints": config.hints, **result}
    if len(model_paths) == 1:
        result = {"model": str(model_paths[0]), "data": data_root, **result, "results_dir": str(run_dir)}
    else:   # the top-level figures are the ensemble's, so scripts reading them keep working
        result["members"] = [{"model": str(path), **member} for path, member in zip(model_paths, result["members"])]
        result = {"model": " + ".join(map(str, model_paths)), "models": list(map(str, model_paths)),
                  "ensemble_chroma": config.ensemble_chroma, "data": data_root, **result,
                  "results_dir": str(run_dir)}
    write_json(run_dir / RESULTS_FILE, result)
    return result
