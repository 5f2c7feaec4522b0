"""Ensembles: each member, the plain mean of their ab, and the mean with the members' chroma kept.

The table behind ensemble.py's default combination. On the test split that
`train --test-size 42 --seed 42` held out of data/default, each member runs
once per photo exactly as `predict` runs it (its own working size, its guided
filter); every ensemble combines those same ab arrays at the common working
size (ensemble.EnsembleColorizer.combine_members) both ways, "mean" and
"keep", and everything is merged with the full-size L and scored with
metrics.score_image beside the gray baseline (what `evaluate` does).

    python benchmarks/bench_ensemble.py new=default old=/work/runs/old-default.keras \\
        r6=RUNS/pretrained-run6-rebalance05/model.keras r7=RUNS/pretrained-run7-rebalance075/model.keras \\
        --ensemble new+old --ensemble new+r6+r7 [--test-size 42] [--seed 42] [--limit N]

Without --ensemble, the ensemble of every model given is measured.
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import machine_line
from colorize.evaluation import metrics
from colorize.evaluation.evaluate import markdown_table
from colorize.constants import ENSEMBLE_CHROMA
from colorize.dataset import load_rgb, resolve_dataset_path, scan_dataset, split_dataset
from colorize.training.devices import load_tensorflow
from colorize.inference.ensemble import EnsembleColorizer
from colorize.inference.fullres import full_lightness, merge_full_resolution


def load_members(specs: list[str]) -> dict:
    """Return {label: Colorizer} for LABEL=PATH specs."""
    from colorize.inference.colorizer import Colorizer

    members = {}
    for spec in specs:
        label, _, path = spec.partition("=")
        members[label] = Colorizer.from_path(path)
    return members


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="LABEL=PATH ('default' = the shipped model)")
    parser.add_argument("--ensemble", action="append", default=None, metavar="A+B",
                        help="labels of the members to combine (repeatable; default: every model)")
    parser.add_argument("--data", default="default")
    parser.add_argument("--test-size", type=int, default=42)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    load_tensorflow()
    members = load_members(args.models)
    ensembles = [spec.split("+") for spec in (args.ensemble or ["+".join(members)])]
    unknown = {label for spec in ensembles for label in spec} - set(members)
    if unknown:
        parser.error(f"unknown labels in --ensemble: {', '.join(sorted(unknown))}")
    photos = list(split_dataset(list(scan_dataset(resolve_dataset_path(args.data)).ok), None,
                                args.test_size, args.seed).test)[:args.limit]
    results, seconds = score_side_by_side(members, ensembles, photos, ENSEMBLE_CHROMA)
    print(f"{machine_line()}; {len(photos)} photos of the test split (--test-size {args.test_size} "
          f"--seed {args.seed}) of {args.data}\n")
    for spec in args.models:
        print(f"- {spec}")
    print()
    print("\n".join(markdown_table(results)))
    print("\nseconds per photo to predict ab (members; an ensemble costs the sum of its members'): "
          + ", ".join(f"{label} {total / max(len(photos), 1):.2f}" for label, total in seconds.items()))
    return 0


def score_side_by_side(members: dict, ensembles: list[list[str]], photos: list, combinations) -> tuple[dict, dict]:
    """Score every member and ensemble on `photos`, each photo in turn; return (figures by column, seconds by member).

    Columns are the member labels, then "A+B <how>" per ensemble and combination;
    the first column also holds the gray baseline. The members run one after
    another on each photo, so a busy machine slows them alike.
    """
    columns = list(members) + [f"{'+'.join(spec)} {how}" for spec in ensembles for how in combinations]
    totals = {column: metrics.ScoreTotals() for column in columns}
    gray_totals = metrics.ScoreTotals()
    seconds = dict.fromkeys(members, 0.0)
    if photos:   # trace every member's model once first, so its time is colourising, not tracing
        warm_up = full_lightness(metrics.gray_baseline(load_rgb(photos[0])))
        for member in members.values():
            member.predict_chroma([warm_up])
    for entry in photos:
        original = load_rgb(entry)
        gray = metrics.gray_baseline(original)
        gray_totals.add(metrics.score_image(original, gray))
        lightness = full_lightness(gray)
        chroma = {}
        for label, member in members.items():
            started = time.perf_counter()
            chroma[label] = member.predict_chroma([lightness])[0]
            seconds[label] += time.perf_counter() - started
            totals[label].add(metrics.score_image(original, merge_full_resolution(lightness, chroma[label])))
        for spec in ensembles:
            for how in combinations:
                ensemble = EnsembleColorizer([members[label] for label in spec], how)
                ab = ensemble.combine_members(lightness, [chroma[label] for label in spec])
                totals[f"{'+'.join(spec)} {how}"].add(metrics.score_image(original, merge_full_resolution(lightness, ab)))
    results = {column: totals[column].summary() for column in columns}
    results[columns[0]]["gray_baseline"] = gray_totals.summary()
    return results, seconds


if __name__ == "__main__":
    sys.exit(main())
