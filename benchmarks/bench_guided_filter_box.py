"""The guided filter's box means: numpy integral images (before) vs scipy.ndimage.uniform_filter (shipped).

Issue 25 asked whether scipy (already installed: scikit-image needs it) should
do the box sums; guided_filter.box_mean now does, and the integral images it
replaced are kept here to compare. Both give the mean over each pixel's window
clipped at the border (uniform_filter with mode="constant" sums zeros past the
border, so its mean is rescaled by the in-image pixel count). Timed on one (H, W) float64
plane and on the whole guided filter with a two-channel ab, at predict's
working size (256 px long side) and at 12 MP (4000 x 3000), with the radius
colorizer.smooth_chroma uses for that size; the largest difference between the
two is printed beside the times.

    python benchmarks/bench_guided_filter_box.py [--rounds 3]
"""

from __future__ import annotations

import argparse

import numpy as np

from _common import best_times, machine_line
from colorize.constants import CHROMA_FILTER_EPS, CHROMA_FILTER_RADIUS_SHARE
from colorize.inference import guided_filter as shipped


def _box_sum(values: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Return the sum over a window of 2*radius+1 along `axis`, clipped at the borders."""
    cumulative = np.cumsum(values, axis=axis)
    zero = np.zeros_like(np.take(cumulative, [0], axis=axis))
    cumulative = np.concatenate([zero, cumulative], axis=axis)
    length = values.shape[axis]
    index = np.arange(length)
    upper = np.minimum(index + radius + 1, length)
    lower = np.maximum(index - radius, 0)
    return np.take(cumulative, upper, axis=axis) - np.take(cumulative, lower, axis=axis)


def integral_box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """guided_filter.box_mean as it was before scipy: integral images along each axis."""
    sums = _box_sum(_box_sum(values, radius, 0), radius, 1)
    height, width = values.shape[:2]
    counts = np.outer(_box_sum(np.ones(height), radius, 0), _box_sum(np.ones(width), radius, 0))
    if values.ndim == 3:
        counts = counts[..., None]
    return sums / counts


def guided_filter_with(box_mean, guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """guided_filter.guided_filter with its box mean swapped for `box_mean`."""
    saved = shipped.box_mean
    shipped.box_mean = box_mean
    try:
        return shipped.guided_filter(guide, source, radius, eps)
    finally:
        shipped.box_mean = saved


def compare(height: int, width: int, rounds: int) -> None:
    rng = np.random.default_rng(0)
    radius = max(1, round(max(height, width) * CHROMA_FILTER_RADIUS_SHARE))
    plane = rng.random((height, width))
    guide = rng.random((height, width)).astype(np.float32)
    ab = rng.normal(0, 20, (height, width, 2)).astype(np.float32)
    for what, methods in (
            ("box mean, one plane", {"integral": lambda: integral_box_mean(plane, radius),
                                     "scipy": lambda: shipped.box_mean(plane, radius)}),
            ("guided filter, ab", {
                "integral": lambda: guided_filter_with(integral_box_mean, guide, ab, radius, CHROMA_FILTER_EPS),
                "scipy": lambda: shipped.guided_filter(guide, ab, radius, CHROMA_FILTER_EPS)})):
        times, results = best_times(methods, rounds)
        difference = float(np.abs(results["integral"] - results["scipy"]).max())
        print(f"{width}x{height} r={radius:3d} {what:20s} integral {times['integral'] * 1000:8.1f} ms  "
              f"scipy {times['scipy'] * 1000:8.1f} ms  scipy/integral {times['scipy'] / times['integral']:.2f}  "
              f"max difference {difference:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    for height, width in ((192, 256), (3000, 4000)):
        compare(height, width, args.rounds)


if __name__ == "__main__":
    main()
