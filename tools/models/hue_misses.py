"""Where hue recall is lost: vivid pixels left gray, or given the wrong hue, and by which photos.

Hue recall (colorize.evaluation.metrics) counts the vivid pixels (true chroma at least 15)
given a colour (chroma at least 5) within 30 degrees of the true hue. A miss
is either too gray (chroma under 5: a temperature or rebalancing can fix that)
or a wrong hue (only knowing what the thing is can). This splits the misses,
on the held-out split as compare_models.py makes it, and lists the photos that
lose the most vivid pixels, since hue recall pools pixels and a few large
vivid photos can decide it.

    python tools/models/hue_misses.py data/models/default.keras
    python tools/models/hue_misses.py RUN/model.keras --split test --photos 10
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from colorize.dataset import color
from colorize.evaluation import metrics
from colorize.dataset import load_rgb, resolve_dataset_path, scan_dataset, split_dataset
from colorize.training.devices import load_tensorflow


def hue_outcomes(original: np.ndarray, colorized: np.ndarray) -> dict[str, np.ndarray]:
    """Return boolean masks over the vivid pixels: hit, gray, near (30..60 degrees off), wrong (further); foliage."""
    hues = metrics.vivid_hues(color.rgb_to_lab(original)[..., 1:].reshape(-1, 2),
                              color.rgb_to_lab(colorized)[..., 1:].reshape(-1, 2))
    near = hues.hue_gap <= 2 * metrics.HUE_TOLERANCE_DEGREES
    return {"hit": hues.hits, "gray": ~hues.coloured, "near": hues.coloured & ~hues.hits & near,
            "wrong": hues.coloured & ~near, "foliage": hues.foliage}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a saved colorize model, or 'default'")
    parser.add_argument("--data", default="default")
    parser.add_argument("--test-size", type=int, default=42)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--split", choices=("test", "validation"), default="validation")
    parser.add_argument("--photos", type=int, default=8, help="how many of the costliest photos to list")
    args = parser.parse_args()

    load_tensorflow()
    from colorize.inference.colorizer import Colorizer

    colorizer = Colorizer.from_path(args.model)
    split = split_dataset(list(scan_dataset(resolve_dataset_path(args.data)).ok), None, args.test_size, args.seed)
    files = list(getattr(split, args.split))
    totals = {"all": dict.fromkeys(("pixels", "hit", "gray", "near", "wrong"), 0)}
    totals["foliage"] = dict(totals["all"])
    missed = []
    for entry in files:
        original = load_rgb(entry)
        outcome = hue_outcomes(original, colorizer.colorize(metrics.gray_baseline(original)))
        for group, mask in (("all", np.ones_like(outcome["hit"])), ("foliage", outcome["foliage"])):
            totals[group]["pixels"] += int(mask.sum())
            for kind in ("hit", "gray", "near", "wrong"):
                totals[group][kind] += int((outcome[kind] & mask).sum())
        missed.append((int((~outcome["hit"]).sum()), entry.path, outcome["hit"].size))

    print(f"## {args.model} on the {len(files)} photos of the {args.split} split (--test-size {args.test_size} "
          f"--seed {args.seed})\n")
    print("| vivid pixels | share of them | hit (hue recall) | left gray | hue 30-60 off | hue over 60 off |")
    print("|---|---:|---:|---:|---:|---:|")
    for group, label in (("all", "all (hue recall)"), ("foliage", "foliage (green recall)")):
        counts = totals[group]
        share = counts["pixels"] / max(totals["all"]["pixels"], 1)
        print(f"| {label} | {share:.1%} | " + " | ".join(
            f"{counts[kind] / max(counts['pixels'], 1):.1%}" for kind in ("hit", "gray", "near", "wrong")) + " |")
    print(f"\nThe {args.photos} photos that miss the most vivid pixels (share of the split's vivid pixels missed, "
          "and of the photo's own vivid pixels):\n")
    for count, path, vivid in sorted(missed, reverse=True)[:args.photos]:
        print(f"- {path}: {count / max(totals['all']['pixels'], 1):.1%} of the split, "
              f"{count / max(vivid, 1):.0%} of its own")
    return 0


if __name__ == "__main__":
    sys.exit(main())
