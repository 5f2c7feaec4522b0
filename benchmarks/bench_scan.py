"""Scanner speed: scan_dataset against what a careful user writes with Pillow, on the same files in one run.

The peer opens each file with Pillow, asks JPEG for a reduced decode with
Image.draft() (DCT scaling, as the scanner does; the stream is still read to
the end, so truncation shows), then makes the same checks (readable,
grayscale, big enough) one file after another. The default photos are copied
REPLICAS times into a temporary folder (~600 files). Also times the worker
choices (1, 2, 4 threads; a 2-process pool) behind the SCAN_WORKERS constant.
The methods take turns in each round; each one's best round counts.

    python benchmarks/bench_scan.py [--replicas 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from _common import best_times, machine_line
from colorize.constants import (DEFAULT_DATASET_DIR, GRAYSCALE_CHANNEL_TOLERANCE,
                                GRAYSCALE_PEAK_TOLERANCE, MIN_TRAIN_SIDE, SCAN_PREVIEW_SIDE)
from colorize.dataset import scan_dataset
from colorize.dataset.classify import classify_entry


def replicate_default_set(folder: Path, replicas: int) -> list[Path]:
    """Copy the default dataset's files `replicas` times into `folder`; return the copies."""
    copies = []
    for replica in range(replicas):
        target = folder / f"copy{replica}"
        target.mkdir()
        for source in sorted(DEFAULT_DATASET_DIR.iterdir()):
            copies.append(Path(shutil.copy2(source, target / source.name)))
    return copies


def pillow_draft_status(path: Path) -> str:
    """The peer: Pillow with a draft-mode (reduced) JPEG decode, then the same checks."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            image.draft("RGB", (SCAN_PREVIEW_SIDE, SCAN_PREVIEW_SIDE))
            mode = image.mode
            pixels = np.asarray(image.convert("RGB"))
    except Exception:
        return "not_image_or_unreadable"
    if mode in ("L", "LA", "1", "I", "I;16"):
        return "grayscale"
    rgb = pixels.astype(np.int16)
    chroma = rgb.max(axis=2) - rgb.min(axis=2)
    if chroma.mean() < GRAYSCALE_CHANNEL_TOLERANCE and np.percentile(chroma, 99) < GRAYSCALE_PEAK_TOLERANCE:
        return "grayscale"
    if min(width, height) < MIN_TRAIN_SIDE:
        return "too_small"
    return "ok"


def classify_one(path: Path):
    return classify_entry(str(path), None, MIN_TRAIN_SIDE)


def pool_scan(files: list[Path], pool_class, workers: int) -> list:
    with pool_class(max_workers=workers) as pool:
        return list(pool.map(classify_one, files, chunksize=16) if pool_class is ProcessPoolExecutor
                    else pool.map(classify_one, files))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        files = replicate_default_set(folder, args.replicas)
        for path in files:   # warm the page cache so neither way pays for the disk
            path.read_bytes()
        methods = {
            "pillow draft": lambda: [pillow_draft_status(path) for path in files],
            "scan_dataset": lambda: scan_dataset(folder),
            "1 thread": lambda: pool_scan(files, ThreadPoolExecutor, 1),
            "2 threads": lambda: pool_scan(files, ThreadPoolExecutor, 2),
            "4 threads": lambda: pool_scan(files, ThreadPoolExecutor, 4),
            "2 processes": lambda: pool_scan(files, ProcessPoolExecutor, 2),
        }
        timings, results = best_times(methods, args.rounds)
    peer, result = results["pillow draft"], results["scan_dataset"]
    peer_seconds, scan_seconds = timings.pop("pillow draft"), timings.pop("scan_dataset")
    print(f"files: {len(files)} (data/default x{args.replicas}); best of {args.rounds} rounds; {machine_line()}")
    print(f"Pillow draft() + checks, one by one: {peer_seconds:.2f} s, {peer.count('ok')} ok")
    print(f"scan_dataset:                        {scan_seconds:.2f} s, {result.counts()['ok']} ok")
    for name, seconds in timings.items():
        print(f"  classify_entry on {name:<11}     {seconds:.2f} s")
    print(f"scan_dataset / Pillow draft speed: {peer_seconds / scan_seconds:.2f}x")


if __name__ == "__main__":
    main()
