"""Render data/models/before-after.jpg: held-out photos as gray input, colorize's output, original.

Not a timing: the picture in the README, made by the product's own Colorizer
(smoothing included) so it shows exactly what `predict --model default` gives.
With --previous, a column for an earlier model sits between the input and
colorize's output (the README's picture shows the previous shipped model,
`git show 381ed74:data/models/default.keras > /tmp/cpu-default.keras`).

    python tools/models/make_before_after.py [--previous /tmp/cpu-default.keras]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

from colorize.evaluation import metrics
from colorize.constants import DEFAULT_DATASET_DIR, DEFAULT_MODEL_PATH
from colorize.dataset import load_rgb, scan_dataset
from colorize.training.devices import load_tensorflow

# Held-out photos (the test split of `train --test-size 42 --seed 42`) with
# foliage and sky; the last two are what the model still gets wrong.
PHOTOS = ("gcompris-0169.jpg", "gcompris-0133.jpg", "gcompris-0056.jpg",
          "gcompris-0191.jpg", "tuxpaint-0011.jpg", "tuxpaint-0016.jpg")
CELL_WIDTH, GAP = 224, 4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previous", default=None, help="an earlier model to show beside the shipped one")
    args = parser.parse_args()
    load_tensorflow()
    from colorize.inference.colorizer import Colorizer

    colorizers = [Colorizer.from_path(path) for path in (args.previous, DEFAULT_MODEL_PATH) if path]
    entries = {entry.path: entry for entry in scan_dataset(DEFAULT_DATASET_DIR).ok}
    rows = []
    for name in PHOTOS:
        original = load_rgb(entries[name])
        gray = metrics.gray_baseline(original)
        outputs = [colorizer.colorize(gray) for colorizer in colorizers]
        cells = [Image.fromarray(image) for image in (gray, *outputs, original)]
        height = round(original.shape[0] * CELL_WIDTH / original.shape[1])
        rows.append([cell.resize((CELL_WIDTH, height), Image.Resampling.LANCZOS) for cell in cells])
    columns = len(rows[0])
    width = columns * CELL_WIDTH + (columns - 1) * GAP
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
