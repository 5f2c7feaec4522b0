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
