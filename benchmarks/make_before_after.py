"""Render data/models/before-after.jpg: held-out photos as gray input, colorize's output, original.

Not a timing: the picture in the README, made by the product's own Colorizer
(smoothing included) so it shows exactly what `predict --model default` gives.

    python benchmarks/make_before_after.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from colorize import metrics
from colorize.constants import DEFAULT_DATASET_DIR, DEFAULT_MODEL_PATH
from colorize.dataset import load_rgb, scan_dataset
from colorize.devices import load_tensorflow

# Held-out photos (the test split of `train --test-size 42 --seed 42`).
PHOTOS = ("gcompris-0101.jpg", "gcompris-0174.jpg", "gcompris-0179.jpg",
          "lxqt-0003.jpg", "tuxpaint-0011.jpg", "gcompris-0108.jpg")
CELL_WIDTH, GAP = 224, 4


def main() -> int:
    load_tensorflow()
    from colorize.predict import Colorizer

    colorizer = Colorizer.from_path(DEFAULT_MODEL_PATH)
    entries = {entry.path: entry for entry in scan_dataset(DEFAULT_DATASET_DIR).ok}
    rows = []
    for name in PHOTOS:
        original = load_rgb(entries[name])
        gray = metrics.gray_baseline(original)
        cells = [Image.fromarray(image) for image in (gray, colorizer.colorize(gray), original)]
        height = round(original.shape[0] * CELL_WIDTH / original.shape[1])
        rows.append([cell.resize((CELL_WIDTH, height), Image.Resampling.LANCZOS) for cell in cells])
    width = 3 * CELL_WIDTH + 2 * GAP
    total_height = sum(row[0].height for row in rows) + GAP * (len(rows) - 1)
    sheet = Image.new("RGB", (width, total_height), "white")
    top = 0
    for row in rows:
        for column, cell in enumerate(row):
            sheet.paste(cell, (column * (CELL_WIDTH + GAP), top))
        top += row[0].height + GAP
    target = Path(DEFAULT_MODEL_PATH).parent / "before-after.jpg"
    sheet.save(target, quality=85)
    print(f"wrote {target} ({sheet.width}x{sheet.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
