"""How to smooth the predicted ab: none, Gaussian blurs, guided filters of several radii and eps.

The sweep behind predict's guided-filter settings (constants.py,
CHROMA_FILTER_*), on the validation photos of the shipped model's split
(`train --test-size 42 --seed 42` trained on the rest), never on its test
photos. Each photo is colourised once (raw ab at the working size); every
variant smooths that same ab, merges it with the full-size L as predict does,
and is scored with metrics.score_image at the photo's own resolution, beside
the gray baseline. Radii and sigmas are in pixels of a 256 px working long
side (scaled for smaller photos); the shipped row is colorizer.smooth_chroma
itself.

    python benchmarks/bench_chroma_smoothing.py [--model default] [--test-size 42] [--seed 42] [--limit N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.ndimage import gaussian_filter

from _common import machine_line
from colorize.dataset import color
from colorize.evaluation import metrics
from colorize.constants import PREDICT_LONG_SIDE
from colorize.dataset import load_rgb, resolve_dataset_path, scan_dataset, split_dataset
from colorize.training.devices import load_tensorflow
from colorize.inference.guided_filter import guided_filter

SHIPPED = "guided filter, radius 8, eps 0.01 (shipped: colorizer.smooth_chroma)"


def blur(sigma: float):
    return lambda working, ab, scale: gaussian_filter(ab, sigma=(sigma * scale, sigma * scale, 0))


def guided(radius: int, eps: float):
    return lambda working, ab, scale: guided_filter(working / 100.0, ab, max(1, round(radius * scale)), eps)


def variants() -> dict[str, tuple]:
    """Return name -> (smoothing of (working L, raw ab, scale), saturation)."""
    from colorize.inference.colorizer import smooth_chroma

    return {
        "none": (lambda working, ab, scale: ab, 1.0),
        "Gaussian blur, sigma 4": (blur(4), 1.0),
        "Gaussian blur, sigma 8": (blur(8), 1.0),
        "guided filter, radius 4, eps 0.01": (guided(4, 0.01), 1.0),
        SHIPPED: (lambda working, ab, scale: smooth_chroma(working, ab), 1.0),
        "guided filter, radius 8, eps 0.002": (guided(8, 0.002), 1.0),
        "guided filter, radius 8, eps 0.04": (guided(8, 0.04), 1.0),
        "guided filter, radius 16, eps 0.01": (guided(16, 0.01), 1.0),
        "guided filter, radius 8, then saturation 1.1": (lambda working, ab, scale: smooth_chroma(working, ab), 1.1),
    }


def raw_ab(colorizer, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (full-size L, working-size L, the model's raw ab at the working size, Lab units)."""
    from colorize.inference.fullres import full_lightness, resize_plane

    lightness = full_lightness(rgb)
    working = resize_plane(lightness, *colorizer.working_size(*lightness.shape))
    output = colorizer.model(color.normalize_l(working)[None, :, :, None], training=False)
    return lightness, working, color.denormalize_ab(np.asarray(output[0], dtype=np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", default="default")
    parser.add_argument("--test-size", type=int, default=42, help="the test size the model's training run used")
    parser.add_argument("--seed", type=int, default=42, help="the seed the model's training run used")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    files = split_dataset(scan_dataset(resolve_dataset_path(args.data)).ok, None, args.test_size,
                          args.seed).validation[:args.limit]
    load_tensorflow()
    from colorize.inference.colorizer import Colorizer
    from colorize.inference.fullres import merge_full_resolution

    colorizer = Colorizer.from_path(args.model)
    smoothings = variants()
    scores = {name: [] for name in ["gray baseline", *smoothings]}
    seconds = dict.fromkeys(smoothings, 0.0)
    for entry in files:
        rgb = load_rgb(entry)
        lightness, working, ab = raw_ab(colorizer, rgb)
        scale = max(working.shape) / PREDICT_LONG_SIDE
        scores["gray baseline"].append(metrics.score_image(rgb, metrics.gray_baseline(rgb)))
        for name, (smooth, saturation) in smoothings.items():
            start = time.perf_counter()
            smoothed = smooth(working, ab, scale).astype(np.float32)
            seconds[name] += time.perf_counter() - start
            scores[name].append(metrics.score_image(rgb, merge_full_resolution(lightness, smoothed, saturation)))
    print(f"model {args.model}; {len(files)} validation photos of {args.data} (split: test size "
          f"{args.test_size}, seed {args.seed}); {machine_line()}\n")
    gray = metrics.summarize_scores(scores.pop("gray baseline"))
    print(f"| ab smoothing at the 256 px working size | PSNR | SSIM | colourfulness gap (gray "
          f"{gray['delta_colorfulness']:.1f}) | ms per photo |")
    print("|---|---:|---:|---:|---:|")
    print(f"| gray baseline | {gray['psnr']:.2f} | {gray['ssim']:.4f} | {gray['delta_colorfulness']:.1f} | |")
    for name, per_image in scores.items():
        summary = metrics.summarize_scores(per_image)
        print(f"| {name} | {summary['psnr']:.2f} | {summary['ssim']:.4f} | {summary['delta_colorfulness']:.1f} "
              f"| {1000 * seconds[name] / len(files):.0f} |")


if __name__ == "__main__":
    main()
