"""How many training photos, decoded how small, give a stable colour prior (the class head's ab-bin prior).

The reference is the prior the way train measured it before issue 27: every
photo decoded at full size, every 4th pixel of every 4th row. Against it:
- every photo decoded small (about SIDE px on the shorter side, JPEG draft,
  every pixel counted), in a thread pool;
- seeded samples of N photos, decoded small, several seeds each (with
  --with-replacement drawn with replacement, so N can exceed the set: how a
  big set of photos like these would sample; compare with "TV to all small").
Each prior is taken over the reference's occupied bins (as a continued model
re-measures its own bins), and compared by total-variation distance,
0.5 x sum |p - q|. "missed" is how many of the reference's bins a sample
leaves empty and the share of the reference's pixels in them.

    python benchmarks/bench_prior_sample.py [--data data/default] [--side 64]
        [--sizes 25 50 100 200] [--seeds 5] [--workers 2]
"""

from __future__ import annotations

import argparse
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from _common import REPO, machine_line


def prior_over(histogram: np.ndarray, centres: np.ndarray) -> np.ndarray:
    from colorize.models.ab_classes import ab_classes_from_histogram

    return ab_classes_from_histogram(histogram, centres).prior


def main() -> None:
    from colorize.dataset.scan import load_rgb, load_small_rgb, scan_dataset
    from colorize.models import ab_classes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "data" / "default")
    parser.add_argument("--side", type=int, default=64)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--with-replacement", action="store_true",
                        help="draw samples with replacement: N may exceed the photos (a bigger set like them)")
    args = parser.parse_args()
    photos = scan_dataset(args.data).ok
    print(machine_line(), f"{len(photos)} photos in {args.data}, small decode side {args.side} px")

    started = time.perf_counter()
    full = ab_classes.ab_histogram(lambda index: load_rgb(photos[index]), count=len(photos))
    full_seconds = time.perf_counter() - started
    reference = ab_classes.ab_classes_from_histogram(full)
    grid = ab_classes._grid_index(reference.centres).T

    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        small = list(pool.map(lambda entry: load_small_rgb(entry, args.side), photos))
    small_histograms = [ab_classes.ab_histogram([image], stride=1) for image in small]
    small_seconds = time.perf_counter() - started
    all_small = np.sum(small_histograms, axis=0)
    tv = 0.5 * np.abs(prior_over(all_small, reference.centres) - reference.prior).sum()
    print(f"full size, one at a time: {full_seconds:.2f} s, {reference.count} bins occupied")
    print(f"all small, {args.workers} threads: {small_seconds:.2f} s (decode + histogram), "
          f"{int((all_small > 0).sum())} bins occupied, TV to full size {tv:.4f}")

    reference_pixels = full[tuple(grid)] / full.sum()
    small_prior = prior_over(all_small, reference.centres)
    print("N    | TV mean | TV max | TV to all small (mean) | bins missed (mean) | reference pixels in missed bins (max)")
    for size in args.sizes:
        distances, sampling, missed, missed_share = [], [], [], []
        for seed in range(args.seeds):
            if args.with_replacement:   # a big set that looks like these photos (bootstrap)
                chosen = random.Random(seed).choices(range(len(photos)), k=size)
            else:
                chosen = random.Random(seed).sample(range(len(photos)), min(size, len(photos)))
            histogram = np.sum([small_histograms[index] for index in chosen], axis=0)
            prior = prior_over(histogram, reference.centres)
            distances.append(0.5 * np.abs(prior - reference.prior).sum())
            sampling.append(0.5 * np.abs(prior - small_prior).sum())
            empty = histogram[tuple(grid)] == 0
            missed.append(int(empty.sum()))
            missed_share.append(float(reference_pixels[empty].sum()))
        print(f"{size:4d} | {np.mean(distances):.4f}  | {np.max(distances):.4f} | {np.mean(sampling):.4f}                 | {np.mean(missed):6.1f} "
              f"of {reference.count}      | {100 * max(missed_share):.3f}%")


if __name__ == "__main__":
    main()
