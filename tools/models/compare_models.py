"""Score several models side by side with the gray baseline, on held-out photos and on photos from elsewhere.

The table in data/models/README.md: every model is run the way `predict` runs
it (guided filter included) on
- the test split that `train --test-size 42 --seed 42` held out of data/default
  (or --split validation, which is what choices such as the temperature are
  made on, so the test split stays untouched; --no-held-out skips it), and
- with --outside FOLDER, a folder of colour photos from sources data/default
  does not use, so no model here was trained on them or on their kin. The
  outside album is made (fetched from Debian packages into a cache, nothing
  committed) by

      python tools/albums/outside_album.py      # prints the folder: ~/.cache/colorize-outside-album/album

  38 photographs (landscapes, foliage, sky, water, animals, objects) from
  lomiri-wallpapers-16.04/-20.04, palapeli-data and opencv-doc. scikit-image's
  astronaut, coffee, chelsea and rocket are no longer used here: they are in
  data/default (skimage-0001..0004). Without --outside that part is skipped.

A model given as `LABEL@T=PATH` is a class-head model decoded at temperature T
(the file's own temperature otherwise), so one command compares temperatures.
`LABEL=A.keras+B.keras+...` scores the models as one ensemble, combined as
`predict --model A.keras --model B.keras` combines them (`--ensemble-chroma keep`).

    python tools/models/compare_models.py --outside ~/.cache/colorize-outside-album/album \
        before=OLD.keras after=data/models/default.keras
    python tools/models/compare_models.py --split validation new@1.0=RUN/model.keras new@0.7=RUN/model.keras
    python tools/models/compare_models.py --no-held-out --outside ALBUM old=OLD.keras
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset
from colorize.training.devices import load_tensorflow
from colorize.errors import DatasetError
from colorize.evaluation.evaluate import evaluate_files, markdown_table

ENSEMBLE_SEPARATOR = "+"


def load_colorizer(spec: str):
    """Return (label, colouriser) for LABEL=PATH, LABEL@T=PATH or LABEL=PATH+PATH+... (an ensemble)."""
    from colorize.models import ab_classes
    from colorize.models.modelfile import load_model_file, resolve_model_path
    from colorize.inference.colorizer import Colorizer

    label, _, path = spec.partition("=")
    if ENSEMBLE_SEPARATOR in path:   # as `predict --model A --model B` combines them (chroma kept)
        return label, Colorizer.from_paths(path.split(ENSEMBLE_SEPARATOR), "keep")
    model = load_model_file(resolve_model_path(path))
    if "@" in label:
        model = ab_classes.with_temperature(model, float(label.partition("@")[2]))
    return label, Colorizer(model)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+",
                        help="LABEL=PATH, LABEL@T=PATH (T: decoding temperature) or LABEL=PATH+PATH+... (an ensemble)")
    parser.add_argument("--data", default="default")
    parser.add_argument("--test-size", type=int, default=42)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--no-held-out", action="store_true", help="skip the held-out split of --data")
    parser.add_argument("--outside", type=Path, metavar="FOLDER",
                        help="colour photos from outside the data (python tools/albums/outside_album.py makes them)")
    args = parser.parse_args()

    outside = None
    if args.outside:
        try:
            outside = list(scan_dataset(args.outside.expanduser()).ok)
        except DatasetError as error:
            parser.error(str(error))
        if not outside:
            parser.error(f"no colour photos in {args.outside}")
    load_tensorflow()
    colorizers = dict(load_colorizer(spec) for spec in args.models)
    if not args.no_held_out:
        split = split_dataset(list(scan_dataset(resolve_dataset_path(args.data)).ok), None, args.test_size, args.seed)
        held_out = list(getattr(split, args.split))
        print(f"## {len(held_out)} photos of the {args.split} split "
              f"(--test-size {args.test_size} --seed {args.seed})\n")
        print("\n".join(markdown_table({label: evaluate_files(colorizer, held_out)
                                        for label, colorizer in colorizers.items()})), flush=True)
    if outside is None:
        print("\n(no --outside FOLDER: photos from outside the data skipped; "
              "python tools/albums/outside_album.py makes them)")
    else:
        print(f"\n## {len(outside)} photos from outside the data ({args.outside})\n")
        print("\n".join(markdown_table({label: evaluate_files(colorizer, outside)
                                        for label, colorizer in colorizers.items()})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
