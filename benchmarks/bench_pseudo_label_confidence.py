"""Does a pseudo-label's confidence say where the teacher is right? (issue 16)

Each teacher colourises the 51 validation photos of data/default's shipped
split (`train --test-size 42 --seed 42`) as colorize.training.pseudolabel does: L at
the pseudo-label work size (short side 256 = 2 x the 128 px training crop),
ab smoothed along L's edges. Every confidence definition is scored against
the true ab at that size, pooled over all pixels:

- the teacher's mean ab error (Lab units) and hue recall (colorize.evaluation.metrics:
  of the vivid true pixels, the share given the right hue) in each quartile
  of confidence, lowest first: a useful confidence rises in recall and falls
  in error from quartile 1 to 4;
- Spearman's rank correlation of confidence with ab error (negative is good);
- the mean confidence beside the share of pixels within 10 ab units of the
  truth in each quartile, and the mean gap between the two (calibration gap):
  ranks do not depend on the flip-agreement scale, this does; a calibrated
  weight says how often the label is right.

Definitions: for a class-head teacher 1 - entropy / log(Q) and the largest
class probability (softmax at the model's temperature, upsampled from the
head's resolution); for any teacher exp(-|ab - ab of the mirror| / scale).

    nice -n 10 python benchmarks/bench_pseudo_label_confidence.py \\
        default=data/models/default.keras old-cpu=/work/runs/old-default.keras
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_line  # noqa: E402

from colorize.dataset import color
from colorize.evaluation import metrics
from colorize.training import pseudolabel  # noqa: E402
from colorize.dataset import load_rgb, resolve_dataset_path, scan_dataset, split_dataset  # noqa: E402
from colorize.inference.fullres import full_lightness, resize_plane
from colorize.inference.predict import smooth_chroma  # noqa: E402

SHORT_SIDE = 256           # 2 x the 128 px training crop of the shipped model
RIGHT_WITHIN = 10.0        # ab units: a pixel "right" for the calibration column
SCALES = (2.0, 3.0, 5.0, 10.0)


def validation_photos() -> tuple:
    """Return the validation files of data/default's shipped split (test 42, seed 42)."""
    scan = scan_dataset(resolve_dataset_path("default"))
    return split_dataset(scan.ok, None, 42, 42).validation


def true_ab(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Return the photo's ab (Lab units) resized to `shape`."""
    ab = color.rgb_to_lab(rgb)[..., 1:]
    return np.stack([resize_plane(ab[..., channel], *shape) for channel in (0, 1)], axis=-1)


def confidences(runner: pseudolabel.TeacherRunner, outputs: dict, shape: tuple[int, int]) -> dict:
    """Return every confidence definition the teacher allows, at `shape`."""
    found = {f"flip agreement, scale {scale:g}": pseudolabel.flip_agreement(outputs["ab"], outputs["ab_of_mirror"],
                                                                            scale) for scale in SCALES}
    if runner.teacher.class_head:
        probabilities = pseudolabel.class_probabilities(outputs["logits"], runner.teacher.temperature)
        found["1 - entropy / log Q"] = pseudolabel.entropy_confidence(probabilities)
        found["max probability"] = pseudolabel.max_probability_confidence(probabilities)
    return {name: resize_plane(value, *shape).ravel() for name, value in found.items()}


def collect(path: str, photos) -> tuple[dict, np.ndarray, np.ndarray]:
    """Return {definition: confidence}, the teacher's ab and the true ab, pooled over every pixel."""
    teacher = pseudolabel.check_teacher(path)
    runner = pseudolabel.TeacherRunner(teacher)
    pooled: dict[str, list] = {}
    predicted, truth = [], []
    for photo in photos:
        rgb = load_rgb(photo)
        lightness = full_lightness(rgb)
        shape = pseudolabel.work_size(*lightness.shape, SHORT_SIDE, teacher.info)
        lightness = resize_plane(lightness, *shape)
        outputs = runner.outputs(lightness, mirrored=True)
        predicted.append(smooth_chroma(lightness, outputs["ab"]).reshape(-1, 2))
        truth.append(true_ab(rgb, shape).reshape(-1, 2))
        for name, value in confidences(runner, outputs, shape).items():
            pooled.setdefault(name, []).append(value)
    return {name: np.concatenate(values) for name, values in pooled.items()}, \
        np.concatenate(predicted), np.concatenate(truth)


def quartile_rows(confidence: np.ndarray, predicted: np.ndarray, truth: np.ndarray) -> dict:
    """Return the error, hue recall and Spearman figures of one confidence definition."""
    from scipy.stats import spearmanr

    error = np.linalg.norm(predicted - truth, axis=-1)
    order = np.argsort(confidence, kind="stable")
    errors, recalls, means, rights = [], [], [], []
    for part in np.array_split(order, 4):       # equal pixel counts, lowest confidence first
        errors.append(float(error[part].mean()))
        recalls.append(metrics._hue_counts_of_ab(truth[part], predicted[part]).recalls()["hue_recall"])
        means.append(float(confidence[part].mean()))
        rights.append(float((error[part] <= RIGHT_WITHIN).mean()))
    sample = slice(None, None, 7)               # every 7th pixel: ranks of ~700k pixels are plenty
    rho = spearmanr(confidence[sample], error[sample]).statistic
    return {"errors": errors, "recalls": recalls, "rho": float(rho), "means": means, "rights": rights,
            "calibration": float(np.mean(np.abs(np.subtract(means, rights))))}


def table(results: dict) -> str:
    """Return the markdown table of every teacher and definition."""
    lines = ["| teacher | confidence | Spearman ρ(conf, ab error) | mean ab error by quartile (low → high conf) "
             "| hue recall by quartile | mean conf by quartile | share within 10 by quartile | calibration gap |",
             "|---|---|---|---|---|---|---|---|"]
    for teacher, rows in results.items():
        for name, row in rows.items():
            errors = " / ".join(f"{value:.1f}" for value in row["errors"])
            recalls = " / ".join("-" if value is None else f"{value:.0%}" for value in row["recalls"])
            means = " / ".join(f"{value:.2f}" for value in row["means"])
            rights = " / ".join(f"{value:.2f}" for value in row["rights"])
            lines.append(f"| {teacher} | {name} | {row['rho']:+.2f} | {errors} | {recalls} "
                         f"| {means} | {rights} | {row['calibration']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="NAME=PATH of each teacher")
    args = parser.parse_args()
    photos = validation_photos()
    print(f"{machine_line()}; {len(photos)} validation photos, short side {SHORT_SIDE}", file=sys.stderr)
    results = {}
    for spec in args.models:
        name, _, path = spec.partition("=")
        confidence, predicted, truth = collect(path, photos)
        results[name] = {definition: quartile_rows(value, predicted, truth)
                         for definition, value in confidence.items()}
        print(f"{name}: {len(truth)} pixels", file=sys.stderr)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
