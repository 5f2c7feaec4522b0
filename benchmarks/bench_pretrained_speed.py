"""The pretrained preset beside the cpu preset: training images/s at 128 px, predict time and peak memory.

Side by side in one run (the machine is shared and noisy, so read the ratios):
- training: `fit` on in-memory random batches of 16 crops at 128 px (the loader
  excluded), after one warm-up step, for a new model of each preset; the
  pretrained one with 256 ab classes, about what data/default gives;
- predict: one 12 MP (4000x3000) and one 1 MP (1155x866) photo colourised the
  way `predict` does it (working size, guided filter, Lab merge at full size),
  best of three after a warm-up, each model file in its own fresh process so
  its peak memory (VmHWM) is its own.

    python benchmarks/bench_pretrained_speed.py --cpu-model OLD.keras --pretrained-model data/models/default.keras

The cpu model of the comparison can be the previous shipped file:
`git show 381ed74:data/models/default.keras > /tmp/cpu-default.keras`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

from _common import fit_images_per_second

PREDICT_CHILD = r"""
import json, sys, time
import numpy as np
from colorize.training.devices import load_tensorflow
load_tensorflow()
from colorize.inference.colorizer import Colorizer

def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

colorizer = Colorizer.from_path(sys.argv[1])
rng = np.random.default_rng(0)
result = {}
for name, (height, width) in (("1 MP", (866, 1155)), ("12 MP", (3000, 4000))):
    photo = np.clip(np.linspace(0, 255, width)[None, :] + rng.normal(0, 20, (height, width)), 0, 255).astype(np.uint8)
    colorizer.colorize(photo)                  # warm-up: traces the model at this working size
    times = []
    for _ in range(3):
        start = time.perf_counter()
        colorizer.colorize(photo)
        times.append(time.perf_counter() - start)
    result[name] = min(times)
result["peak_mib"] = peak_mib()
print(json.dumps(result))
"""


def training_images_per_second(preset: str, steps: int, batch: int = 16, size: int = 128) -> float:
    """Return images/s of fit on random batches for a new model of `preset`."""
    from colorize.models import ab_classes
    from colorize.models.model import build_model, compile_for_training

    classes = None
    if preset == "pretrained":
        grid = np.stack(np.meshgrid(np.arange(-80, 81, 10), np.arange(-70, 81, 10), indexing="ij"), -1)
        centres = grid.reshape(-1, 2)[:256].astype(np.float32)
        classes = ab_classes.AbClasses(centres, np.full(len(centres), 1 / len(centres), np.float32))
    model = build_model(preset, classes)
    fit_model = ab_classes.logits_view(model) if classes is not None else model
    compile_for_training(fit_model, classes=classes)
    return fit_images_per_second(fit_model, size, batch, steps)


def predict_figures(model_path: str) -> dict:
    """Return {"1 MP": s, "12 MP": s, "peak_mib": MiB} from a fresh process."""
    output = subprocess.run([sys.executable, "-c", PREDICT_CHILD, model_path], capture_output=True, text=True,
                            check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-model", required=True, help="a saved cpu-preset model (e.g. the previous default)")
    parser.add_argument("--pretrained-model", default="data/models/default.keras")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    training = {preset: training_images_per_second(preset, args.steps) for preset in ("cpu", "pretrained")}
    predict = {"cpu": predict_figures(args.cpu_model), "pretrained": predict_figures(args.pretrained_model)}
    print("| | cpu | pretrained | pretrained / cpu |")
    print("|---|---:|---:|---:|")
    print(f"| training images/s, 128 px, batch 16 | {training['cpu']:.1f} | {training['pretrained']:.1f} | "
          f"{training['pretrained'] / training['cpu']:.2f} |")
    for name in ("12 MP", "1 MP"):
        cpu, pretrained = predict["cpu"][name], predict["pretrained"][name]
        print(f"| predict one {name} photo (s) | {cpu:.2f} | {pretrained:.2f} | {pretrained / cpu:.2f} |")
    cpu, pretrained = predict["cpu"]["peak_mib"], predict["pretrained"]["peak_mib"]
    print(f"| predict peak memory (MiB) | {cpu:.0f} | {pretrained:.0f} | {pretrained / cpu:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
