"""Write a copy of a .keras model whose weights are stored as float16: half the file.

The shipped model is 7.6 M float32 weights (31 MB); stored as float16 it is
16 MB. Nothing changes for the code that loads it: Keras assigns each stored
array to its float32 variable, converting it (Variable.assign), so the model
still computes in float32 and `load_model_file`, `predict`, `evaluate` and
`--model` take the copy as they take the original. What is lost is the
weights' last 13 bits of mantissa; the script measures what that does to the
colours, on skimage's colour photos, as `predict` colourises them.

    python tools/models/half_precision_model.py OUTPUT/models/run19/model.keras /tmp/default-half.keras
    python tools/models/half_precision_model.py SOURCE data/models/default.keras --force

It never overwrites SOURCE, and TARGET only with --force.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

WEIGHTS_ENTRY = "model.weights.h5"      # where Keras's .keras zip keeps the variables
SAMPLE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")     # the colour photos skimage ships


def half_precision_weights(weights_h5: bytes) -> bytes:
    """Return the HDF5 weights file with every float32 dataset stored as float16, all else copied."""
    import h5py
    import numpy as np

    source, target = io.BytesIO(weights_h5), io.BytesIO()
    with h5py.File(source, "r") as old, h5py.File(target, "w") as new:
        def copy(name, item):
            if isinstance(item, h5py.Dataset):
                values = item[()]
                new.create_dataset(name, data=values.astype(np.float16) if values.dtype == np.float32 else values)
            else:
                new.require_group(name)
            new[name].attrs.update(item.attrs)

        old.visititems(copy)
        new.attrs.update(old.attrs)
    return target.getvalue()


def write_half_precision_copy(source: Path, target: Path) -> None:
    """Copy the .keras zip entry by entry, its weights in float16; written to a temporary name, then renamed."""
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as new:
        for entry in old.infolist():
            data = old.read(entry.filename)
            new.writestr(entry, half_precision_weights(data) if entry.filename == WEIGHTS_ENTRY else data)
    partial.replace(target)


def colour_difference(source: Path, target: Path) -> tuple[float, float]:
    """Return the largest and the mean |ab| difference (Lab units) between the two models' colourisations."""
    import numpy as np
    import skimage.data

    from colorize.dataset import color
    from colorize.evaluation import metrics
    from colorize.models.modelfile import load_model_file
    from colorize.inference.colorizer import Colorizer

    grays = [metrics.gray_baseline(getattr(skimage.data, name)()) for name in SAMPLE_PHOTOS]
    outputs = [Colorizer(load_model_file(path)).colorize_batch(grays) for path in (source, target)]
    differences = [np.abs(color.rgb_to_lab(a)[..., 1:] - color.rgb_to_lab(b)[..., 1:])
                   for a, b in zip(*outputs)]
    return max(float(d.max()) for d in differences), float(np.mean([d.mean() for d in differences]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a .keras model file")
    parser.add_argument("target", type=Path, help="where to write the float16 copy")
    parser.add_argument("--force", action="store_true", help="replace TARGET if it exists")
    args = parser.parse_args(argv)
    if not zipfile.is_zipfile(args.source):
        print(f"Error: {args.source} is not a .keras model file.", file=sys.stderr)
        return 2
    if args.target.resolve() == args.source.resolve():
        print("Error: TARGET is SOURCE; the original is never overwritten.", file=sys.stderr)
        return 2
    if args.target.exists() and not args.force:
        print(f"Error: {args.target} exists; pass --force to replace it.", file=sys.stderr)
        return 2
    write_half_precision_copy(args.source, args.target)
    largest, mean = colour_difference(args.source, args.target)
    size = args.source.stat().st_size, args.target.stat().st_size
    print(f"{args.target}: {size[1] / 1e6:.1f} MB (was {size[0] / 1e6:.1f} MB); colours on "
          f"{len(SAMPLE_PHOTOS)} skimage photos differ by at most {largest:.2f} ab (mean {mean:.4f}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
