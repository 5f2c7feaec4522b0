"""Hints through the product's own path: evaluate's simulated points, the shipped way against L edges only,
and a learned hint model (colorize/models/hint_model.py) beside them.

    python benchmarks/bench_hints_product.py default             # the 42 held-out photos (--test-size 42 --seed 42)
    python benchmarks/bench_hints_product.py ~/.cache/colorize-outside-album/album
    python benchmarks/bench_hints_product.py default --counts 0,1,5,10,30 --learned HINT_MODEL.keras

Scores the shipped model with no hints, with N points spread the shipped way
(edges in the model's feature view, colorize/hints/feature_edges.py), and with the same points
spread along L's edges only (what a model without that feature map gets), all
through evaluate.evaluate_files, so the points are `evaluate --hints N`'s.
With --learned, two more rows: the hint model as predict runs it (hints as its
input, then the same feature propagation of what is left at the hint points)
and the hint model alone (the propagation switched off, to see what it learnt).
"""

from __future__ import annotations

import argparse

from colorize.training.devices import load_tensorflow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="'default' (its held-out split) or a folder of colour photos")
    parser.add_argument("--counts", default="10", help="numbers of points, comma-separated (default 10)")
    parser.add_argument("--learned", help="a hint model file to score beside the shipped model")
    args = parser.parse_args()
    load_tensorflow()
    from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset
    from colorize.evaluation.evaluate import evaluate_files
    from colorize.inference import fullres
    from colorize.inference.colorizer import Colorizer

    files = list(scan_dataset(resolve_dataset_path(args.data)).ok)
    if args.data == "default":
        files = list(split_dataset(files, None, 42, 42).test)
    shipped = Colorizer.from_path("default")
    learned = Colorizer.from_path(args.learned) if args.learned else None
    steer = fullres.steer_with_hints
    rows = [("features (shipped)", shipped, True, True), ("L edges only", shipped, False, True)]
    if learned is not None:
        rows += [("learned + features", learned, True, True), ("learned alone", learned, True, False)]
    for count in (int(text) for text in args.counts.split(",")):
        # With no points only the model speaks: the shipped one, and the learned one (gated: the same colours).
        for label, colorizer, with_features, propagate in (rows if count else rows[:1] + rows[2:3]):
            colorizer.gives_hint_features = lambda with_features=with_features: with_features
            fullres.steer_with_hints = steer if propagate else (lambda lightness, ab, *_: ab)
            result = evaluate_files(colorizer, files, hints=count, seed=42, grid_images=0)
            name = label if count else f"none ({label.split()[0]})"
            print(f"{name:20s} {len(files)} photos, {count:2d} points: PSNR {result['psnr']:.2f}  "
                  f"SSIM {result['ssim']:.4f}  hue {100 * result['hue_recall']:.1f}%  "
                  f"green {100 * result['green_recall']:.1f}%", flush=True)


if __name__ == "__main__":
    main()
