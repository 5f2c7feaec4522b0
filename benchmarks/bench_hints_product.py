"""Hints through the product's own path: evaluate's simulated points, the shipped way against L edges only.

    python benchmarks/bench_hints_product.py default             # the 42 held-out photos (--test-size 42 --seed 42)
    python benchmarks/bench_hints_product.py ~/.cache/colorize-outside-album/album

Scores the shipped model with no hints, with 10 points spread the shipped way
(edges in the model's feature view, hint_features), and with the same points
spread along L's edges only (what a model without that feature map gets), all
through evaluate.evaluate_files, so the points are `evaluate --hints 10`'s.
"""

from __future__ import annotations

import argparse

from colorize.training.devices import load_tensorflow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="'default' (its held-out split) or a folder of colour photos")
    parser.add_argument("--hints", type=int, default=10)
    args = parser.parse_args()
    load_tensorflow()
    from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset
    from colorize.evaluation.evaluate import evaluate_files
    from colorize.inference.predict import Colorizer

    files = list(scan_dataset(resolve_dataset_path(args.data)).ok)
    if args.data == "default":
        files = list(split_dataset(files, None, 42, 42).test)
    colorizer = Colorizer.from_path("default")
    rows = [("none", 0, True), ("features (shipped)", args.hints, True), ("L edges only", args.hints, False)]
    for label, count, with_features in rows:
        colorizer.gives_hint_features = lambda with_features=with_features: with_features
        result = evaluate_files(colorizer, files, hints=count, seed=42, grid_images=0)
        print(f"{label:20s} {len(files)} photos, {count} points: PSNR {result['psnr']:.2f}  SSIM {result['ssim']:.4f}  "
              f"hue {100 * result['hue_recall']:.1f}%  green {100 * result['green_recall']:.1f}%", flush=True)


if __name__ == "__main__":
    main()
