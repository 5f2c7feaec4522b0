"""Hints (issue 26): what N simulated points do for the shipped model, propagation alone and improved.

For N in 0, 1, 5, 10, 30 points (colorize.inference.hints.simulate_hints,
seeded per photo: Zhang et al. 2017's simulated user), on the held-out split
of data/default and on the outside album, reports PSNR, SSIM, hue recall and
green recall (colorize.evaluation.metrics) for
- model: the shipped model alone, as `predict` colourises (guided filter);
- propagation: plus the plain edge-aware propagation of the hint residual
  (4-neighbour graph on L, the floor of issue 26) as `predict` ships it:
  hints.apply_hints with its defaults (pull and the small solve chosen on the
  validation split, --select);
- improved: hints.apply_hints with hints.IMPROVED (or --improved): edges to
  each pixel's nearest pixels in the class head's view (KNN), solved at the
  working size.
--select (with --split validation) instead compares the pulls 1e-3..1e-6 of
the plain propagation, solved exactly and at 1/hints.SOLVE_SCALE of the
working size, at 10 points: how the shipped setting was chosen.
The model runs once per photo (its ab and class probabilities are cached in
memory); every method then works at the model's working size and merges with
the photo's full-size L, as predict does.

    python tools/albums/outside_album.py     # once: ~/.cache/colorize-outside-album/album
    python benchmarks/bench_hints.py --split test --outside ~/.cache/colorize-outside-album/album
    python benchmarks/bench_hints.py --split validation --select
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line  # noqa: E402

from colorize.dataset import load_rgb, resolve_dataset_path, scan_dataset, split_dataset  # noqa: E402
from colorize.evaluation import metrics  # noqa: E402
from colorize.inference import hints as hint_module  # noqa: E402
from colorize.inference.fullres import full_lightness, merge_full_resolution, resize_plane  # noqa: E402

COUNTS = (0, 1, 5, 10, 30)
SHOWN = ("psnr", "ssim", "hue_recall", "green_recall")


def prepare(colorizer, probability_model, entries) -> list[dict]:
    """Return, per photo, the original, full-size L, working L, the model's smoothed ab and class probabilities."""
    from colorize.dataset import color
    from colorize.inference.predict import smooth_chroma

    photos = []
    for entry in entries:
        original = load_rgb(entry)
        lightness = full_lightness(metrics.gray_baseline(original))
        working = resize_plane(lightness, *colorizer.working_size(*lightness.shape))
        raw_ab, probabilities = probability_model(color.normalize_l(working)[None, ..., None])
        ab = smooth_chroma(working, np.asarray(raw_ab[0]) * 110.0)   # AB_SCALE: the model's ab / 110
        photos.append({"original": original, "lightness": lightness, "working": working,
                       "ab": ab, "probabilities": np.asarray(probabilities[0])})
    return photos


def score(photos, method, count: int, seed: int) -> dict:
    """Return the summary figures of `method` with `count` simulated points per photo."""
    totals = metrics.ScoreTotals()
    for index, photo in enumerate(photos):
        hints = hint_module.simulate_hints(photo["original"], count, seed + index)
        ab = method(photo, hint_module.hints_at_size(hints, *photo["working"].shape))
        totals.add(metrics.score_image(photo["original"], merge_full_resolution(photo["lightness"], ab)))
    return totals.summary()


def model_alone(photo, hints):
    return photo["ab"]


def plain_propagation(photo, hints):
    return hint_module.apply_hints(photo["working"], photo["ab"], hints)


def make_plain(**options):
    def plain(photo, hints):
        return hint_module.apply_hints(photo["working"], photo["ab"], hints, **options)
    return plain


def selection_methods() -> dict:
    """Return the plain propagation at each pull tried, solved exactly and at the shipped small size."""
    methods = {"model": model_alone}
    for scale in (1, hint_module.SOLVE_SCALE):
        for pull in (1e-3, 1e-4, 1e-5, 1e-6):
            methods[f"pull {pull:g}, scale {scale}"] = make_plain(pull=pull, scale=scale)
    return methods


def make_improved(centres, **options):
    def improved(photo, hints):
        return hint_module.apply_hints(photo["working"], photo["ab"], hints, photo["probabilities"],
                                       centres, **options)
    return improved


def settings(text: str) -> dict:
    """Return {name: number} from "name=value,name=value"."""
    pairs = (item.split("=") for item in text.split(",") if item)
    return {name.strip(): float(value) if "." in value or "e" in value else int(value) for name, value in pairs}


def table(name: str, photos, methods: dict, counts, seed: int) -> list[str]:
    lines = [f"## {name}: {len(photos)} photos\n",
             "| points | method | PSNR | SSIM | hue recall | green recall | s |", "|---:|---|---:|---:|---:|---:|---:|"]
    for count in counts:
        for label, method in methods.items():
            if count == 0 and label != "model":
                continue
            start = time.perf_counter()
            summary = score(photos, method, count, seed)
            lines.append(f"| {count} | {label} | {summary['psnr']:.2f} | {summary['ssim']:.4f} | "
                         f"{100 * summary['hue_recall']:.1f}% | {100 * summary['green_recall']:.1f}% | "
                         f"{time.perf_counter() - start:.0f} |")
            print(lines[-1], flush=True)
    return lines


def add_photo_set_arguments(parser: argparse.ArgumentParser, split: str) -> None:
    """Add the options that pick the model and the photos (a split of --data, the outside album), shared
    with bench_hint_affinities.py."""
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", default="default")
    parser.add_argument("--test-size", type=int, default=42)
    parser.add_argument("--split-seed", type=int, default=42)
    parser.add_argument("--split", choices=("test", "validation", "none"), default=split)
    parser.add_argument("--outside", type=Path, metavar="FOLDER")
    parser.add_argument("--seed", type=int, default=0, help="photo i's points use seed + i")
    parser.add_argument("--limit", type=int, help="at most this many photos per set")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_photo_set_arguments(parser, split="test")
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)))
    parser.add_argument("--select", action="store_true",
                        help="compare the plain propagation's pulls and solve sizes at 10 points instead")
    parser.add_argument("--improved", default=",".join(f"{k}={v}" for k, v in hint_module.IMPROVED.items()),
                        help="apply_hints settings of the improved method, as name=value,...")
    args = parser.parse_args()

    from colorize.inference.predict import Colorizer

    colorizer = Colorizer.from_path(args.model)
    probability_model = hint_module.probability_model(colorizer.model)
    centres = hint_module.class_centres(colorizer.model)
    methods = {"model": model_alone, "propagation": plain_propagation,
               "improved": make_improved(centres, **settings(args.improved))}
    counts = [int(count) for count in args.counts.split(",")]
    if args.select:
        methods, counts = selection_methods(), [10]
    sets = []
    if args.split != "none":
        split = split_dataset(list(scan_dataset(resolve_dataset_path(args.data)).ok), None,
                              args.test_size, args.split_seed)
        sets.append((f"{args.split} split of {args.data}", list(getattr(split, args.split))))
    if args.outside:
        sets.append((f"outside album {args.outside}", list(scan_dataset(args.outside.expanduser()).ok)))
    print(machine_line(), "\n")
    for name, entries in sets:
        photos = prepare(colorizer, probability_model, entries[:args.limit])
        table(name, photos, methods, counts, args.seed)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
