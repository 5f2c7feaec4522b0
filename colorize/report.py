"""Plots and run artefacts: comparison grids (shared by train, predict and
evaluate), training curves, and JSON files written without overwriting."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from colorize.errors import OutputError


def _pyplot():
    """Return matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_new_file(path: Path, data: bytes) -> Path:
    """Write `data` to a new file via a temporary name; never replace an existing file."""
    if path.exists():
        raise OutputError(f"Refusing to overwrite {path}.")
    temporary = path.with_name(f".{path.name}.partial")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"Cannot write {path}: {error.strerror or error}") from error
    except BaseException:  # Ctrl-C mid-write left .name.partial behind (issue 8 test)
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, data: dict) -> Path:
    """Write `data` as indented JSON to a new file and return its path."""
    text = json.dumps(data, indent=2, default=str) + "\n"
    return write_new_file(path, text.encode("utf-8"))


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
    plt = _pyplot()
    pages = []
    for page_start in range(0, len(rows), rows_per_page):
        page_rows = rows[page_start:page_start + rows_per_page]
        columns = len(column_titles)
        figure, axes = plt.subplots(len(page_rows), columns, figsize=(3.2 * columns, 3.2 * len(page_rows)),
                                    squeeze=False)
        for row_index, images in enumerate(page_rows):
            for column_index, image in enumerate(images):
                axis = axes[row_index][column_index]
                axis.imshow(np.clip(image, 0, 255 if image.dtype == np.uint8 else 1.0))
                axis.set_xticks([])
                axis.set_yticks([])
                if row_index == 0:
                    axis.set_title(column_titles[column_index])
                if column_index == 0 and row_labels:
                    axis.set_ylabel(row_labels[page_start + row_index][:30], fontsize=8)
        figure.tight_layout()
        path = out_dir / f"{prefix}-{page_start // rows_per_page + 1:02d}.png"
        if path.exists():
            plt.close(figure)
            raise OutputError(f"Refusing to overwrite {path}.")
        figure.savefig(path, dpi=100)
        plt.close(figure)
        pages.append(path)
    return pages


# --- training run report (train.py) ---------------------------------------------

SUMMARY_LINE_LENGTH = 120    # characters per line of the layer table in summary.txt

def _figure_bytes(figure) -> bytes:
    """Return a matplotlib figure as PNG bytes and close it."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    _pyplot().close(figure)
    return buffer.getvalue()


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


def save_model_diagram(model, path: Path) -> str | None:
    """Draw the model with keras.utils.plot_model; return None, or a note saying why not and how to fix it."""
    import keras

    if path.exists():
        raise OutputError(f"Refusing to overwrite {path}.")
    temporary = path.with_name(f".partial-{path.name}")
    try:
        keras.utils.plot_model(model, to_file=str(temporary), show_shapes=True, show_layer_names=True)
        os.replace(temporary, path)
    except (ImportError, OSError, ValueError) as error:  # Keras raises ImportError without pydot or `dot`
        temporary.unlink(missing_ok=True)
        return (f"No model diagram ({type(error).__name__}): keras.utils.plot_model needs pydot and "
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


def write_text(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) to a new file and return its path."""
    return write_new_file(path, text.encode("utf-8"))
