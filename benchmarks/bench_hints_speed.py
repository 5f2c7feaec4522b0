"""What hints add to `predict`: seconds and peak memory at 1 MP and 12 MP, without hints and with 10 points.

The shipped model colourises a real photo of the outside album, upscaled to
1 MP (1155x866) and 12 MP (4000x3000), through Colorizer.colorize, as
`predict` does (working size, guided filter, Lab merge at full size); the
hinted run adds 10 simulated points (hints.simulate_hints, seed 0, as
`evaluate --hints 10` would) and so times hints_at_size and apply_hints too.
- seconds: best of --rounds, the two ways taken in turns in one process after
  a warm-up of each (the machine is shared: read the ratio);
- peak memory: VmHWM of a fresh process per way that colourises the 12 MP
  photo once (the hints, made before, are counted in the hinted one).

    python benchmarks/bench_hints_speed.py [--photo PATH] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line  # noqa: E402

DEFAULT_PHOTO = Path("~/.cache/colorize-outside-album/album/lomiri-forest-stream.jpg")
SIZES = {"1 MP": (866, 1155), "12 MP": (3000, 4000)}

CHILD = r"""
import json, sys, time
import numpy as np
from PIL import Image
from colorize.training.devices import load_tensorflow
load_tensorflow()
from colorize.inference.predict import Colorizer
from colorize.inference.hints import simulate_hints

def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

model, photo_path, mode, rounds, sizes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
colorizer = Colorizer.from_path(model)
result = {}
for name, (height, width) in sizes.items():
    with Image.open(photo_path) as image:
        photo = np.asarray(image.convert("RGB").resize((width, height), Image.Resampling.BICUBIC))
    hints = simulate_hints(photo, 10, seed=0)
    ways = {"none": lambda: colorizer.colorize(photo), "hints": lambda: colorizer.colorize(photo, hints=hints)}
    if mode != "both":
        ways = {mode: ways[mode]}
    for way in ways.values():
        way()                          # warm-up: traces the model at this working size
    best = {key: float("inf") for key in ways}
    for _ in range(rounds):
        for key, way in ways.items():
            start = time.perf_counter()
            way()
            best[key] = min(best[key], time.perf_counter() - start)
    result[name] = best
result["peak_mib"] = peak_mib()
print(json.dumps(result))
"""


def run_child(model: str, photo: Path, mode: str, rounds: int, sizes: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, model, str(photo), mode, str(rounds), json.dumps(sizes)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true", help="skip the two peak-memory processes")
    args = parser.parse_args()
    photo = args.photo.expanduser()
    print(machine_line())
    print(f"{photo.name} upscaled; model {args.model}; 10 simulated points; best of {args.rounds}\n")
    timed = run_child(args.model, photo, "both", args.rounds, SIZES)
    print("| photo | without hints s | with 10 points s | ratio |\n|---|---:|---:|---:|")
    for name in SIZES:
        none, hinted = timed[name]["none"], timed[name]["hints"]
        print(f"| {name} | {none:.3f} | {hinted:.3f} | {hinted / none:.2f} |")
    if not args.no_memory:
        twelve = {"12 MP": SIZES["12 MP"]}
        peaks = {mode: run_child(args.model, photo, mode, 1, twelve)["peak_mib"] for mode in ("none", "hints")}
        print(f"\npeak memory at 12 MP (VmHWM, fresh process each): without hints {peaks['none']:.0f} MiB, "
              f"with 10 points {peaks['hints']:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
