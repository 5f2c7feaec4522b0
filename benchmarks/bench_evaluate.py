"""Evaluate a model on colour photos and print its figures beside the gray baseline.

For BENCHMARKS.md: the shipped model on the photos held out from its training.
With --test-size and --seed it rebuilds train's split of --data and scores only
the test part (the photos `train --test-size N --seed S` never trained on);
without them it scores every usable colour photo of --data.

It scores the model twice in one run: as `predict` uses it (ab smoothed along
L's edges by the guided filter) and its raw ab (Colorizer(smooth=False)), so
the filter's effect is measured side by side.

    python benchmarks/bench_evaluate.py --model default --data default --test-size 42 --seed 42
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from colorize.frontends import console
from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset
from colorize.training.devices import load_tensorflow
from colorize.evaluation.evaluate import TABLE_ROWS, beats_baseline, evaluate_files, format_table
from colorize.models.modelfile import resolve_model_path


def markdown_table(result: dict) -> list[str]:
    """Return the figures as a Markdown table for BENCHMARKS.md."""
    lines = ["| figure | model | gray baseline |", "|---|---:|---:|"]
    for name, label, number, _ in TABLE_ROWS:
        lines.append(f"| {label} | {number.format(result[name])} | {number.format(result['gray_baseline'][name])} |")
    lines.append(f"| colourfulness of the originals | {result['colorfulness_gt']:.1f} | |")
    return lines


def raw_versus_smoothed(raw: dict, smoothed: dict) -> list[str]:
    """Return a Markdown table of the model's raw and smoothed figures."""
    lines = ["| figure | raw ab | smoothed ab (what predict gives) |", "|---|---:|---:|"]
    for name, label, number, _ in TABLE_ROWS:
        lines.append(f"| {label} | {number.format(raw[name])} | {number.format(smoothed[name])} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", default="default")
    parser.add_argument("--test-size", type=int, default=None, help="score only train's test split of this size")
    parser.add_argument("--seed", type=int, default=42, help="the seed train used for its split")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--grids", default=None, help="folder for the comparison grids (default: a temporary one)")
    args = parser.parse_args()

    scan = scan_dataset(resolve_dataset_path(args.data))
    files = list(scan.ok)
    if args.test_size is not None:
        files = list(split_dataset(files, None, args.test_size, args.seed).test)
    files = files[:args.limit] if args.limit else files
    load_tensorflow()
    from colorize.inference.colorizer import Colorizer

    model_path = resolve_model_path(args.model)
    colorizer = Colorizer.from_path(model_path)
    grid_dir = Path(args.grids) if args.grids else Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    grid_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = evaluate_files(colorizer, files, progress=console.ProgressBar("Evaluating"), grid_dir=grid_dir)
    seconds = time.perf_counter() - start
    split = f"test split of {args.test_size} (seed {args.seed})" if args.test_size is not None else "all colour photos"
    print(f"model {model_path}\ndata {scan.root}: {split}, {result['images']} photos at their own resolution")
    print(f"{seconds:.1f} s in all, {seconds / max(result['images'], 1):.3f} s per photo "
          "(load, colourise, score model and baseline)\n")
    print("\n".join(format_table(result)))
    print("\n" + "\n".join(markdown_table(result)))
    verdict = beats_baseline(result)
    gap_ratio = result["delta_colorfulness"] / max(result["gray_baseline"]["delta_colorfulness"], 1e-9)
    print(f"\ncolourfulness gap ratio model / baseline: {gap_ratio:.2f} (bar: at most 0.5)")
    print(f"quality bar met: {verdict['psnr'] and verdict['ssim'] and gap_ratio <= 0.5}")
    print(f"grids: {', '.join(result['grids'])}")
    colorizer.smooth = False
    raw = evaluate_files(colorizer, files, progress=console.ProgressBar("Evaluating raw ab"), grid_dir=None)
    print("\n" + "\n".join(raw_versus_smoothed(raw, result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
