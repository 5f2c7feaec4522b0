"""Copy the photos of a folder that are at least as colourful as the median photo of data/default.

data/models/README.md, run 11: training_photos.py's album is less colourful
than data/default (median colourfulness 34 against 45), and all of it as
--extra-data turned grass beige (run 9); this keeps the photos at or above
data/default's median (Hasler and Süsstrunk's colourfulness, as `evaluate`
reports it) and copies them, unchanged, with the album's MANIFEST.csv rows.

    python tools/albums/colourful_subset.py ~/.cache/colorize-training-photos/album \\
        ~/.cache/colorize-training-photos/colourful      # 99 of the 320 photos
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from colorize.constants import DEFAULT_DATASET_DIR
from colorize.evaluation.metrics import colorfulness


def photo_colourfulness(path: Path) -> float:
    with Image.open(path) as image:
        return colorfulness(np.asarray(image.convert("RGB")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("album", type=Path, help="a folder of .jpg photos with a MANIFEST.csv")
    parser.add_argument("output", type=Path, help="a new folder for the colourful ones")
    args = parser.parse_args()
    album, output = args.album.expanduser(), args.output.expanduser()
    if output.exists():
        parser.error(f"{output} exists; name a new folder")
    threshold = float(np.median([photo_colourfulness(path) for path in sorted(DEFAULT_DATASET_DIR.glob("*.jpg"))]))
    kept = {path.name for path in sorted(album.glob("*.jpg")) if photo_colourfulness(path) >= threshold}
    output.mkdir(parents=True)
    for name in sorted(kept):
        shutil.copy2(album / name, output / name)
    with open(album / "MANIFEST.csv", newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        rows = [row for row in reader if row["file"] in kept]
        fields = reader.fieldnames or []
    with open(output / "MANIFEST.csv", "w", newline="", encoding="utf-8") as manifest:
        writer = csv.DictWriter(manifest, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(kept)} of {len(list(album.glob('*.jpg')))} photos at colourfulness {threshold:.1f} or more "
          f"(data/default's median) copied to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
