"""Hints (issue 26): does spreading a hint with what the network sees beat the plain propagation?

At 10 simulated points (sources.simulate_hints, photo i seeded seed + i, as
bench_hints.py), compares with the shipped plain propagation (propagation.apply_hints,
a 4-neighbour graph on L solved on a 3x coarser grid):
- feature affinities (colorize.hints.feature_edges): the same coarse solve
  with 4-neighbour edges kept where the feature vectors agree (sigma) and/or
  KNN edges in feature space, features from the frozen encoder's stride-16
  (encoder16) or stride-8 (encoder8) outputs or the decoder's last layer
  (decoder4_b_act), cosine distances projected on 8 main axes;
- polar: the residual as a hue turn and chroma scaling of the model's ab.
Choose on --split validation; report --split test and --outside once.

    python benchmarks/bench_hint_affinities.py --split validation --matching " |polar"
    python benchmarks/bench_hint_affinities.py --split test --outside ~/.cache/colorize-outside-album/album \\
        --methods "model,plain,refine: decoder4_b_act knn 2 weight 0.3 spatial 5.0"

Measured (2 shared cores, 10 points): validation (51 photos) plain 26.04 dB, the
chosen KNN 2 in decoder4_b_act's view 26.53 (every candidate: feature_edges.py's
FEATURE_EDGES comment, data/models/README.md); then once, test split (42)
plain 26.15 -> 26.62, SSIM 0.9441 -> 0.9461, green 80.8% -> 89.3%; outside
album (38) plain 23.94 -> 24.33 (issue 26's floor, pull 1e-4: 23.60), SSIM
0.9244 -> 0.9268 (model alone 0.9092), hue 81.3% -> 82.4%, green 81.2% -> 83.9%.

The "speed:" candidates solve the chosen edges on a coarser grid (issue 26's
+20% at 1 MP): validation 26.50 / 26.64 / 26.63 / 26.58 dB at 4x / 5x / 6x / 8x
against 26.53 at 3x; predict solves at 6x (feature_edges.FEATURE_SOLVE_SCALE).
    python benchmarks/bench_hint_affinities.py --split validation --matching "refine: decoder4_b_act knn 2 weight 0.3 spatial 5.0|speed:"
The "grid 6:" candidates search the edges again on that grid (KNN 2-6, weight
0.3-1, spatial 1-5; measured at 3b8e64c): a plateau at 26.55-26.67 dB, green 88.4-89.4%,
so the chosen edges stay.
    python benchmarks/bench_hint_affinities.py --split validation --matching "grid 6:"
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line  # noqa: E402
from bench_hints import add_photo_set_arguments, score  # noqa: E402

from colorize.dataset import load_rgb, resolve_dataset_path, scan_dataset, split_dataset  # noqa: E402
from colorize.evaluation import metrics  # noqa: E402
from colorize.hints import feature_edges, propagation, sources  # noqa: E402
from colorize.inference.fullres import full_lightness, resize_plane  # noqa: E402

FEATURES = ("encoder16", "encoder8", "decoder4_b_act")


def prepare(colorizer, model, entries) -> list[dict]:
    """Return, per photo, the original, full-size L, working L, the model's smoothed ab and feature maps."""
    from colorize.dataset import color
    from colorize.inference.colorizer import smooth_chroma

    photos = []
    for entry in entries:
        original = load_rgb(entry)
        lightness = full_lightness(metrics.gray_baseline(original))
        working = resize_plane(lightness, *colorizer.working_size(*lightness.shape))
        raw_ab, *maps = model(color.normalize_l(working)[None, ..., None])
        photo = {"original": original, "lightness": lightness, "working": working,
                 "ab": smooth_chroma(working, np.asarray(raw_ab[0]) * 110.0)}
        for name, feature_map in zip(FEATURES, maps):
            photo[name] = feature_edges.cosine_features(np.asarray(feature_map[0]))
        photos.append(photo)
    return photos


def apply_hints_polar(working_lightness: np.ndarray, model_ab: np.ndarray, hints: sources.Hints, *,
                      pull: float = propagation.RESIDUAL_PULL, scale: int = propagation.SOLVE_SCALE,
                      min_chroma: float = 8.0) -> np.ndarray:
    """Return the model's ab steered by `hints` with the residual as a rotation and scaling of the
    model's ab (a complex factor hint / model) where the model has colour, additive where it is gray.

    The factor (as log-chroma ratio and hue turn, via cos/sin) and the additive
    residual are spread alike; each pixel takes the factor in proportion to
    its own chroma share of min_chroma.
    """
    height, width = working_lightness.shape
    hints = sources.hints_at_size(hints, height, width)
    if not hints.count:
        return model_ab
    model = model_ab[..., 0] + 1j * model_ab[..., 1]
    wanted = hints.ab[..., 0] + 1j * hints.ab[..., 1]
    coloured = hints.mask & (np.abs(model) >= min_chroma) & (np.abs(wanted) >= 1.0)
    ratio = np.where(coloured, wanted / np.where(coloured, model, 1.0), 1.0)
    turn = np.angle(ratio)
    planes = np.stack([np.log(np.abs(ratio)), np.cos(turn) - 1.0, np.sin(turn),
                       (hints.ab - model_ab)[..., 0], (hints.ab - model_ab)[..., 1]], axis=-1)
    planes = np.where(hints.mask[..., None], planes, 0.0)
    spread = feature_edges.spread_with_features(working_lightness, sources.Hints.from_planes(hints.mask, planes),
                                  np.zeros((1, 1, 1), np.float32), pull, scale, feature_sigma=0.0,
                                  l_sigma=0.2, knn=0, knn_weight=0.0, spatial=1.0)
    angle = np.arctan2(spread[..., 2], spread[..., 1] + 1.0)
    factor = np.exp(spread[..., 0] + 1j * angle)
    share = np.clip(np.abs(model) / min_chroma, 0.0, 1.0)
    rotated = model * factor
    additive = model_ab + spread[..., 3:]
    steered = share[..., None] * np.stack([rotated.real, rotated.imag], axis=-1) + (1 - share[..., None]) * additive
    steered[hints.mask] = hints.ab[hints.mask]
    return steered.astype(np.float32)


def with_features(name: str, **options):
    def method(photo, hints):
        return feature_edges.apply_hints_with_features(photo["working"], photo["ab"], hints, photo[name], **options)
    return method


def methods() -> dict:
    """Return every method tried, by name."""
    found = {"model": lambda photo, hints: photo["ab"],
             "plain": lambda photo, hints: propagation.apply_hints(photo["working"], photo["ab"], hints),
             "same graph, no features": with_features("encoder16", feature_sigma=0.0),
             "polar": lambda photo, hints: apply_hints_polar(photo["working"], photo["ab"], hints)}
    for name in FEATURES:
        for sigma in (0.3, 0.6):
            found[f"{name} sigma {sigma}"] = with_features(name, feature_sigma=sigma)
        found[f"{name} knn 6"] = with_features(name, feature_sigma=0.0, knn=6, knn_weight=1.0)
        found[f"{name} knn 6 sigma 0.3"] = with_features(name, feature_sigma=0.3, knn=6, knn_weight=1.0)
    found["encoder16 knn 6 weak"] = with_features("encoder16", feature_sigma=0.0, knn=6, knn_weight=0.1)
    found["encoder16 knn 6 pull 1e-6"] = with_features("encoder16", feature_sigma=0.0, knn=6, pull=1e-6)
    for knn in (3, 6, 12):
        for weight in (0.1, 0.3, 1.0):
            for spatial in (0.1, 0.2, 0.5):
                found[f"decoder4_b_act knn {knn} weight {weight} spatial {spatial}"] = with_features(
                    "decoder4_b_act", feature_sigma=0.0, knn=knn, knn_weight=weight, spatial=spatial)
    for name in ("encoder16", "decoder4_b_act"):
        for segments in (100, 300):
            for weight in (0.1, 1.0):
                found[f"{name} superpixels {segments} hub {weight}"] = with_features(
                    name, feature_sigma=0.0, segments=segments, hub_weight=weight)
    for knn in (2, 3):   # the second round, around the first round's best (knn 3, spatial 0.5)
        for spatial in (0.5, 1.0, 2.0, 5.0):
            found[f"refine: decoder4_b_act knn {knn} weight 0.3 spatial {spatial}"] = with_features(
                "decoder4_b_act", feature_sigma=0.0, knn=knn, knn_weight=0.3, spatial=spatial)
    found["refine: decoder4_b_act knn 3 weight 0.3 spatial 1.0 superpixels 100 hub 0.1"] = with_features(
        "decoder4_b_act", feature_sigma=0.0, knn=3, knn_weight=0.3, spatial=1.0, segments=100, hub_weight=0.1)
    for scale in (4, 5, 6, 8):   # speed (issue 26's +20% at 1 MP): the solve on the feature map's own grid or coarser
        found[f"speed: decoder4_b_act knn 2 weight 0.3 spatial 5.0 scale {scale}"] = with_features(
            "decoder4_b_act", feature_sigma=0.0, knn=2, knn_weight=0.3, spatial=5.0, scale=scale)
    for knn in (2, 3, 4, 6):   # the third round: the edges again on the 6x grid
        for weight in (0.3, 1.0):
            for spatial in (1.0, 5.0):
                found[f"grid 6: decoder4_b_act knn {knn} weight {weight} spatial {spatial}"] = with_features(
                    "decoder4_b_act", feature_sigma=0.0, knn=knn, knn_weight=weight, spatial=spatial, scale=6)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_photo_set_arguments(parser, split="validation")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--methods", help="comma-separated names (default: all)")
    parser.add_argument("--matching",
                        help="only the methods whose name holds one of these texts, a|b (and model, plain)")
    args = parser.parse_args()

    from colorize.inference.colorizer import Colorizer

    colorizer = Colorizer.from_path(args.model)
    model = feature_edges.feature_model(colorizer.model, FEATURES)
    chosen = methods()
    if args.methods:
        chosen = {name: chosen[name] for name in args.methods.split(",")}
    if args.matching:
        chosen = {name: method for name, method in chosen.items()
                  if name in ("model", "plain") or any(part in name for part in args.matching.split("|"))}
    sets = []
    if args.split != "none":
        split = split_dataset(list(scan_dataset(resolve_dataset_path(args.data)).ok), None,
                              args.test_size, args.split_seed)
        sets.append((f"{args.split} split of {args.data}", list(getattr(split, args.split))))
    if args.outside:
        sets.append((f"outside album {args.outside}", list(scan_dataset(args.outside.expanduser()).ok)))
    print(machine_line(), "\n")
    for title, entries in sets:
        photos = prepare(colorizer, model, entries[:args.limit])
        print(f"## {title}: {len(photos)} photos, {args.count} points\n")
        print("| method | PSNR | SSIM | hue recall | green recall | s |\n|---|---:|---:|---:|---:|---:|")
        for label, method in chosen.items():
            start = time.perf_counter()
            summary = score(photos, method, 0 if label == "model" else args.count, args.seed)
            print(f"| {label} | {summary['psnr']:.2f} | {summary['ssim']:.4f} | {100 * summary['hue_recall']:.1f}% | "
                  f"{100 * summary['green_recall']:.1f}% | {time.perf_counter() - start:.0f} |", flush=True)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
