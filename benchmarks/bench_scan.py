"""Scanner speed: scan_dataset against the plain way, on the same files in one run.

The plain way reads every file with skimage.io.imread (a full decode) and then
makes the same checks (readable, grayscale, big enough) one file after another.
The default photos are copied REPLICAS times into a temporary folder (~600 files).
Also times the worker choices (1, 2, 4 threads; a 2-process pool) behind the
SCAN_WORKERS constant.

    python benchmarks/bench_scan.py [--replicas 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import skimage.io

from colorize.constants import (DEFAULT_DATASET_DIR, GRAYSCALE_CHANNEL_TOLERANCE,
                                GRAYSCALE_PEAK_TOLERANCE, MIN_TRAIN_SIDE)
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


def plain_status(path: Path) -> str:
    """The plain way: full decode with skimage.io.imread, then the same checks."""
    try:
        pixels = skimage.io.imread(path)
    except Exception:
        return "not_image_or_unreadable"
    if pixels.ndim == 2:
        return "grayscale"
    rgb = pixels[..., :3].astype(np.int16)
    chroma = rgb.max(axis=2) - rgb.min(axis=2)
    if chroma.mean() < GRAYSCALE_CHANNEL_TOLERANCE and np.percentile(chroma, 99) < GRAYSCALE_PEAK_TOLERANCE:
        return "grayscale"
    if min(pixels.shape[:2]) < MIN_TRAIN_SIDE:
        return "too_small"
    return "ok"


def best_times(methods: dict, repeats: int) -> tuple[dict[str, float], dict]:
    """Run the methods round-robin `repeats` times (so a busy machine slows all alike);
    return each one's fastest time and last result."""
    best = {name: float("inf") for name in methods}
    results = {}
    for _ in range(repeats):
        for name, method in methods.items():
            start = time.perf_counter()
            results[name] = method()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def classify_one(path: Path):
    return classify_entry(str(path), None, MIN_TRAIN_SIDE)


def pool_scan(files: list[Path], pool_class, workers: int) -> list:
    with pool_class(max_workers=workers) as pool:
        return list(pool.map(classify_one, files, chunksize=16) if pool_class is ProcessPoolExecutor
                    else pool.map(classify_one, files))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        files = replicate_default_set(folder, args.replicas)
        for path in files:   # warm the page cache so neither way pays for the disk
            path.read_bytes()
        methods = {
            "plain": lambda: [plain_status(path) for path in files],
            "scan_dataset": lambda: scan_dataset(folder),
            "1 thread": lambda: pool_scan(files, ThreadPoolExecutor, 1),
            "2 threads": lambda: pool_scan(files, ThreadPoolExecutor, 2),
            "4 threads": lambda: pool_scan(files, ThreadPoolExecutor, 4),
            "2 processes": lambda: pool_scan(files, ProcessPoolExecutor, 2),
        }
        timings, results = best_times(methods, args.repeats)
    plain, result = results["plain"], results["scan_dataset"]
    plain_seconds, scan_seconds = timings.pop("plain"), timings.pop("scan_dataset")
    plain_ok = sum(status == "ok" for status in plain)
    print(f"files: {len(files)} (data/default x{args.replicas}); best of {args.repeats}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"plain way (skimage.io.imread + checks): {plain_seconds:.2f} s, {plain_ok} ok")
    print(f"scan_dataset:                          {scan_seconds:.2f} s, {result.counts()['ok']} ok")
    for name, seconds in timings.items():
        print(f"  classify_entry on {name:<11}       {seconds:.2f} s")
    print(f"speed-up: {plain_seconds / scan_seconds:.1f}x")


if __name__ == "__main__":
    main()
