"""Copy the photos of one split of a data set into a folder, to look at them or to train a diagnostic on them.

The split is the one `train --test-size N --seed S` makes (and compare_models.py
scores), so `--split test` gives exactly the photos a run held out. Issue 15's
ceiling check trains on them on purpose, to see what the architecture can do on
photos it has seen:

    python tools/albums/copy_split.py --split test /tmp/test-photos
    colorize train --data default --test-size 42 --seed 42 --epochs 80 --early-stopping \
        --extra-data /tmp/test-photos --run-name ceiling-trained-on-test

A model from that second command must never ship or be compared as if held out.
Photos inside a zip are written out of it; existing files are never overwritten.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset
from colorize.dataset.scan import read_file_bytes
from colorize.errors import DatasetError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="folder to copy the photos into (made if missing)")
    parser.add_argument("--data", default="default")
    parser.add_argument("--test-size", type=int, default=42)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--split", choices=("train", "validation", "test"), default="test")
    args = parser.parse_args()
    try:
        scan = scan_dataset(resolve_dataset_path(args.data))
    except DatasetError as error:
        parser.error(str(error))
    photos = getattr(split_dataset(list(scan.ok), None, args.test_size, args.seed), args.split)
    args.output.mkdir(parents=True, exist_ok=True)
    for entry in photos:
        target = args.output / Path(entry.member or entry.source).name
        if target.exists():
            parser.error(f"{target} exists; name an empty folder")
        target.write_bytes(read_file_bytes(entry))
    print(f"{len(photos)} photos of the {args.split} split in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
