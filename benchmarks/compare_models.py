"""Score several models side by side with the gray baseline, on held-out photos and on photos from elsewhere.

The table in data/models/README.md: every model is run the way `predict` runs
it (guided filter included) on
- the test split that `train --test-size 42 --seed 42` held out of data/default
  (or --split validation, which is what choices such as the temperature are
  made on, so the test split stays untouched), and
- photos from outside data/default's sources: the colour photos scikit-image
  ships (astronaut, coffee, chelsea, rocket, motorcycle), which no model here
  was trained on.

A model given as `LABEL=PATH@T` is a class-head model decoded at temperature T
(the file's own temperature otherwise), so one command compares temperatures.

    python benchmarks/compare_models.py before=OLD.keras after=data/models/default.keras
    python benchmarks/compare_models.py --split validation new@1.0=RUN/model.keras new@0.7=RUN/model.keras
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset
from colorize.devices import load_tensorflow
from colorize.evaluate import TABLE_ROWS, evaluate_files

OUTSIDE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "stereo_motorcycle")


def outside_photo_files(folder: Path) -> list:
    """Write scikit-image's colour photos into `folder` as PNG and return them scanned."""
    from skimage import data

    for name in OUTSIDE_PHOTOS:
        image = getattr(data, name)()
        image = image[0] if isinstance(image, tuple) else image   # the motorcycle is a stereo pair
        Image.fromarray(np.asarray(image, np.uint8)).save(folder / f"{name}.png")
    return list(scan_dataset(folder).ok)


def load_colorizer(spec: str):
    """Return (label, Colorizer) for LABEL=PATH or LABEL@T=PATH."""
    from colorize import ab_classes
    from colorize.modelfile import load_model_file, resolve_model_path
    from colorize.predict import Colorizer

    label, _, path = spec.partition("=")
    model = load_model_file(resolve_model_path(path))
    if "@" in label:
        model = ab_classes.with_temperature(model, float(label.partition("@")[2]))
    return label, Colorizer(model)


def markdown_table(results: dict[str, dict]) -> list[str]:
    """Return one Markdown table: a row per figure, the gray baseline then a column per model."""
    first = next(iter(results.values()))
    lines = ["| figure | gray | " + " | ".join(results) + " |", "|---|" + "---:|" * (len(results) + 1)]
    for name, label, number, _ in TABLE_ROWS:
        def show(value):
            return "n/a" if value is None else number.format(value)
        cells = [show(first["gray_baseline"].get(name))] + [show(result.get(name)) for result in results.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="LABEL=PATH or LABEL@T=PATH (T: decoding temperature)")
    parser.add_argument("--data", default="default")
    parser.add_argument("--test-size", type=int, default=42)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--no-outside", action="store_true", help="skip the photos from outside the data")
    args = parser.parse_args()

    load_tensorflow()
    split = split_dataset(list(scan_dataset(resolve_dataset_path(args.data)).ok), None, args.test_size, args.seed)
    held_out = list(getattr(split, args.split))
    colorizers = dict(load_colorizer(spec) for spec in args.models)
    print(f"## {len(held_out)} photos of the {args.split} split (--test-size {args.test_size} --seed {args.seed})\n")
    print("\n".join(markdown_table({label: evaluate_files(colorizer, held_out)
                                    for label, colorizer in colorizers.items()})), flush=True)
    if not args.no_outside:
        with tempfile.TemporaryDirectory() as folder:
            outside = outside_photo_files(Path(folder))
            print(f"\n## {len(outside)} photos from outside the data (scikit-image: {', '.join(OUTSIDE_PHOTOS)})\n")
            print("\n".join(markdown_table({label: evaluate_files(colorizer, outside)
                                            for label, colorizer in colorizers.items()})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
