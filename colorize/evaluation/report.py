"""Plots and run artefacts: comparison grids (shared by train, predict and
evaluate), training curves, the model diagram and summary, and a training run's
report (summary.txt, metrics.json). Every file goes through runfolder's atomic
writer: new, whole, never overwriting."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from colorize.config import TrainConfig
from colorize.constants import (
    CURVES_FILE_NAME,
    DIAGRAM_FILE_NAME,
    GRID_THUMBNAIL_SIDE,
    HISTORY_FILE_NAME,
    METRICS_FILE_NAME,
    SUMMARY_FILE_NAME,
)
from colorize.errors import OutputError
from colorize.training.runfolder import read_history, write_atomically, write_json, write_new_file, write_text

Notify = Callable[[str], None]

# Grid pages are drawn at GRID_DPI, so a thumbnail (GRID_THUMBNAIL_SIDE a side at
# most) fills its cell pixel for pixel; cells are as tall as their photos.
GRID_DPI = 100
GRID_CELL_INCHES = GRID_THUMBNAIL_SIDE / GRID_DPI
GRID_GAP_INCHES = 0.06          # between photos
GRID_TITLE_INCHES = 0.32        # above the first row: the column titles
GRID_LABEL_INCHES = 0.22        # left of the first column: the file names
GRID_MARGIN_INCHES = 0.04


def _pyplot():
    """Return matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _figure_bytes(figure, dpi: int = 100) -> bytes:
    """Return a matplotlib figure as PNG bytes and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    _pyplot().close(figure)
    return buffer.getvalue()


def grid_thumbnail(rgb: np.ndarray, resample=None) -> np.ndarray:
    """Return a copy of an RGB image no larger than GRID_THUMBNAIL_SIDE a side (grids need no more)."""
    from PIL import Image

    image = Image.fromarray(rgb)
    image.thumbnail((GRID_THUMBNAIL_SIDE, GRID_THUMBNAIL_SIDE),
                    Image.Resampling.LANCZOS if resample is None else resample)
    return np.asarray(image)


def save_comparison_grids(
    rows: Sequence[Sequence[np.ndarray]],
    column_titles: Sequence[str],
    out_dir: Path,
    prefix: str = "grid",
    rows_per_page: int = 4,
    row_labels: Sequence[str] | None = None,
) -> list[Path]:
    """Save pages of side-by-side images (one row per photo) and return their paths.

    Each row holds one RGB image per column (uint8, or float in [0, 1]).
    """
    pages = []
    for page_start in range(0, len(rows), rows_per_page):
        labels = row_labels[page_start:page_start + rows_per_page] if row_labels else None
        figure = _grid_page(rows[page_start:page_start + rows_per_page], column_titles, labels)
        path = out_dir / f"{prefix}-{page_start // rows_per_page + 1:02d}.png"
        pages.append(write_new_file(path, _figure_bytes(figure, GRID_DPI)))
    return pages


def _grid_page(rows: Sequence[Sequence[np.ndarray]], column_titles: Sequence[str],
               labels: Sequence[str] | None):
    """Return one grid page as a figure sized to its photos: each row as tall as its tallest photo."""
    plt = _pyplot()
    aspects = [max(image.shape[0] / image.shape[1] for image in images) for images in rows]
    columns = len(column_titles)
    left = GRID_LABEL_INCHES if labels else GRID_MARGIN_INCHES
    width = left + columns * GRID_CELL_INCHES + (columns - 1) * GRID_GAP_INCHES + GRID_MARGIN_INCHES
    photos_height = GRID_CELL_INCHES * sum(aspects)
    height = GRID_TITLE_INCHES + photos_height + (len(rows) - 1) * GRID_GAP_INCHES + GRID_MARGIN_INCHES
    figure = plt.figure(figsize=(width, height))
    # wspace and hspace are fractions of the mean cell width and height.
    layout = figure.add_gridspec(len(rows), columns, height_ratios=aspects,
                                 left=left / width, right=1 - GRID_MARGIN_INCHES / width,
                                 top=1 - GRID_TITLE_INCHES / height, bottom=GRID_MARGIN_INCHES / height,
                                 wspace=GRID_GAP_INCHES / GRID_CELL_INCHES,
                                 hspace=GRID_GAP_INCHES * len(rows) / photos_height)
    for row_index, images in enumerate(rows):
        for column_index, image in enumerate(images):
            axis = figure.add_subplot(layout[row_index, column_index])
            axis.imshow(np.clip(image, 0, 255 if image.dtype == np.uint8 else 1.0))
            axis.set_xticks([])
            axis.set_yticks([])
            if row_index == 0:
                axis.set_title(column_titles[column_index], fontsize=10)
            if column_index == 0 and labels:
                axis.set_ylabel(labels[row_index][:30], fontsize=8)
    return figure


# --- training curves, the model diagram and summary ------------------------------

SUMMARY_LINE_LENGTH = 120    # characters per line of the layer table in summary.txt


def _curve_panels(columns: Sequence[str]) -> list[str]:
    """Return the panel names of the curves: loss first, one per metric, learning rate last."""
    metrics = sorted({name.removeprefix("val_") for name in columns}
                     - {"epoch", "loss", "learning_rate"})
    panels = ["loss", *metrics]
    return panels + (["learning_rate"] if "learning_rate" in columns else [])


def save_training_curves(history: Sequence[dict], path: Path) -> Path:
    """Plot loss, every metric (training and validation) and the learning rate per epoch; return the path."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    columns = sorted({name for row in history for name in row})
    panels = _curve_panels(columns)
    epochs = [int(row.get("epoch", index)) + 1 for index, row in enumerate(history)]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for axis, panel in zip(axes[0], panels):
        for name, label in ((panel, "training"), (f"val_{panel}", "validation")):
            if name in columns:
                values = [row.get(name, float("nan")) for row in history]
                axis.plot(epochs, values, marker="o", markersize=3, label=label)
        if panel == "learning_rate":
            axis.set_yscale("log")
        else:
            axis.legend(fontsize=8)
        axis.set_title(panel.replace("_", " "))
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return write_new_file(path, _figure_bytes(figure))


NO_DIAGRAM_NOTE = "No model diagram"   # how save_model_diagram's note starts (the wizard leaves it out)


def save_model_diagram(model, path: Path) -> str | None:
    """Draw the model with keras.utils.plot_model; return None, or a note saying why not and how to fix it."""
    import keras

    def draw(temporary: Path) -> None:
        keras.utils.plot_model(model, to_file=str(temporary), show_shapes=True, show_layer_names=True)

    try:
        write_atomically(path, draw)
    except OutputError as error:   # Keras raises ImportError without pydot or `dot`
        if not isinstance(error.__cause__, (ImportError, OSError, ValueError)):
            raise
        return (f"{NO_DIAGRAM_NOTE} ({type(error.__cause__).__name__}): keras.utils.plot_model needs pydot and "
                "Graphviz's `dot` program; install them (pip install pydot; apt install graphviz, "
                "brew install graphviz, or see graphviz.org) to get model.png. The layer table is in summary.txt.")
    return None


def model_summary_text(model) -> str:
    """Return Keras's layer-by-layer summary of `model` as plain text."""
    lines: list[str] = []
    # Keras renders the table with rich, which cuts it at the terminal's width (80
    # columns in a pipe, dropping "Connected to"); the file gets the full width.
    saved_columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(SUMMARY_LINE_LENGTH + 10)
    try:
        model.summary(line_length=SUMMARY_LINE_LENGTH, print_fn=lambda text, *args, **kwargs: lines.append(text))
    finally:
        if saved_columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved_columns
    return "\n".join(lines)


# --- a training run's report (train.py) ------------------------------------------------

@dataclass(frozen=True)
class RunOutcome:
    """How a training run went, for summary.txt."""
    run_dir: Path
    device: str                       # devices.description
    data: str                         # the data and its split, in words
    parameters: int
    resumed_from: int                 # epoch a killed run was continued from (0: a fresh run)
    interrupted: bool                 # stopped by Ctrl-C
    seconds: float                    # training time
    test_table: list[str]             # evaluate.format_table of the test split's metrics ([] without one)
    validation: dict = field(default_factory=dict)   # train.score_whole_validation: the whole split, once


def summary_lines(config: TrainConfig, outcome: RunOutcome, history: list[dict], metrics: dict) -> list[str]:
    """Return the human part of summary.txt: what ran, how it ended, how good it is."""
    lines = [f"colorize training run {outcome.run_dir.name}",
             f"Device: {outcome.device}",
             f"Data: {outcome.data}",
             f"Model: preset {config.preset!r} ({outcome.parameters:,} parameters), image size "
             f"{config.image_size}, batch size {config.batch_size}, seed {config.seed}"
             + (f" (split seed {config.split_seed})" if config.effective_split_seed != config.seed else ""),
             f"Epochs run: {len(history)} of {config.epochs}"
             + (f" (continued a killed run from epoch {outcome.resumed_from + 1})" if outcome.resumed_from else "")
             + (" - stopped by Ctrl-C" if outcome.interrupted else ""),
             f"Training time: {outcome.seconds:.0f} s"]
    scored = [row for row in history if config.monitor in row]
    if scored:   # every monitor is a loss or an error: the lowest is the best
        best = min(scored, key=lambda row: row[config.monitor])
        kept = "kept" if config.save_best else "the model keeps the last epoch"
        lines.append(f"Best {config.monitor}: {best[config.monitor]:.4f} at epoch {int(best.get('epoch', 0)) + 1} "
                     f"({kept})")
    if outcome.validation:
        whole = outcome.validation
        lines.append(f"Whole validation split ({whole['photos']} photos): val_loss {whole['val_loss']:.4f}"
                     + (f" (each epoch validated on a fixed sample of {whole['epoch_sample']})"
                        if whole["epoch_sample"] < whole["photos"] else ""))
    if outcome.test_table:
        lines += ["", f"Test split, {metrics.get('images', 0)} photos (model vs gray baseline):",
                  *outcome.test_table]
    return lines


def write_run_report(model, config: TrainConfig, outcome: RunOutcome, metrics: dict,
                     notify: Notify) -> dict[str, Path]:
    """Write summary.txt, model.png, curves.png and metrics.json into the run folder; return them by role."""
    run_dir = outcome.run_dir
    files: dict[str, Path] = {}
    history = read_history(run_dir / HISTORY_FILE_NAME)
    if history:
        files["curves"] = save_training_curves(history, run_dir / CURVES_FILE_NAME)
    diagram_note = save_model_diagram(model, run_dir / DIAGRAM_FILE_NAME)
    if diagram_note:
        notify(diagram_note)
    else:
        files["diagram"] = run_dir / DIAGRAM_FILE_NAME
    summary = [*summary_lines(config, outcome, history, metrics), "", diagram_note or "", model_summary_text(model)]
    files["summary"] = write_text(run_dir / SUMMARY_FILE_NAME, "\n".join(summary) + "\n")
    record = {**metrics, "interrupted": outcome.interrupted, "epochs_run": len(history), "monitor": config.monitor,
              **({"validation": outcome.validation} if outcome.validation else {})}
    files["metrics"] = write_json(run_dir / METRICS_FILE_NAME, record)
    return files


# --- self-training rounds (selftrain.py) ----------------------------------------------

# (figure, column title, format): what the rounds table and plot compare.
ROUND_FIGURES = (("psnr", "PSNR", "{:.2f}"), ("ssim", "SSIM", "{:.4f}"),
                 ("delta_colorfulness", "colour gap", "{:.1f}"), ("auc", "AuC", "{:.4f}"),
                 ("auc_rebalanced", "AuC reb.", "{:.4f}"), ("hue_recall", "hue", "{:.1%}"),
                 ("green_recall", "green", "{:.1%}"))


def _figure_text(metrics: dict, name: str, form: str) -> str:
    """Return one figure formatted, or '-' when the run has none (no test split, no vivid pixels)."""
    value = metrics.get(name)
    return "-" if value is None else form.format(value)


def rounds_table_lines(rows: Sequence[dict]) -> list[str]:
    """Return a text table of the teacher's and each round's test figures, the gray baseline last."""
    header = f"{'':<12}" + "".join(f"{title:>12}" for _, title, _ in ROUND_FIGURES)
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(f"{row['label']:<12}" + "".join(f"{_figure_text(row['metrics'], name, form):>12}"
                                                     for name, _, form in ROUND_FIGURES))
    baseline = next((row["metrics"]["gray_baseline"] for row in rows if row["metrics"].get("gray_baseline")), None)
    if baseline:
        lines.append(f"{'gray':<12}" + "".join(f"{_figure_text(baseline, name, form):>12}"
                                               for name, _, form in ROUND_FIGURES))
    return lines


def save_rounds_plot(rows: Sequence[dict], path: Path) -> Path:
    """Plot each test figure per model (teacher, round 1, ...) with the gray baseline as a line; return the path."""
    plt = _pyplot()
    labels = [row["label"] for row in rows]
    figure, axes = plt.subplots(1, len(ROUND_FIGURES), figsize=(2.6 * len(ROUND_FIGURES), 3.0), squeeze=False)
    baseline = next((row["metrics"]["gray_baseline"] for row in rows if row["metrics"].get("gray_baseline")), {})
    for axis, (name, title, _) in zip(axes[0], ROUND_FIGURES):
        values = [row["metrics"].get(name) for row in rows]
        axis.plot(range(len(rows)), [np.nan if value is None else value for value in values], marker="o")
        if baseline.get(name) is not None:
            axis.axhline(baseline[name], color="gray", linestyle="--", linewidth=1, label="gray")
            axis.legend(fontsize=7)
        axis.set_xticks(range(len(rows)), labels, rotation=45, fontsize=7)
        axis.set_title(title)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return write_atomically(path, lambda temporary: temporary.write_bytes(_figure_bytes(figure)), replace=True)
