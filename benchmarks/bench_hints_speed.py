"""What hints add to `predict`: seconds and peak memory at 1 MP and 12 MP, without hints and with 10 points.

The shipped model colourises the gray version of a real photo of the outside
album, upscaled to 1 MP (1155x866) and 12 MP (4000x3000), through
Colorizer.colorize, as `predict` does (working size, guided filter, Lab merge
at full size); the hinted run adds 10 points read from a points file as
`predict --hints` reads it (seeded places, each the photo's true colour
there), so it times hints_at_size and apply_hints too.
- seconds: best of --rounds, the two ways taken in turns in one process after
  a warm-up of each (the machine is shared: read the ratio); and, best of
  --rounds too, the one step a hinted photo adds (fullres.steer_with_hints:
  the working L, hints_at_size, apply_hints), timed alone, since on a busy
  machine two whole predict times differ by more than that step;
- peak memory: VmHWM of a fresh process per way that colourises the 12 MP
  photo once (the hinted one holds the hints, as predict does; a third reads
  the same ten patches from a painted stroke layer, a 12 MP RGBA PNG), beside
  VmHWM once the model is loaded and traced.

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
import json, sys, tempfile, time
import numpy as np
from PIL import Image
from colorize.training.devices import load_tensorflow
load_tensorflow()
from colorize.inference.colorizer import Colorizer
from colorize.hints.sources import read_hints

def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

model, photo_path, mode, rounds, sizes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
colorizer = Colorizer.from_path(model)
colorizer.colorize(np.zeros((48, 64), np.uint8))
result = {"loaded_mib": peak_mib()}
for name, (height, width) in sizes.items():
    with Image.open(photo_path) as image:
        colour = image.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    gray = np.asarray(colour.convert("L"))
    rng = np.random.default_rng(0)
    points = [{"x": int(x), "y": int(y), "color": "#%02x%02x%02x" % colour.getpixel((int(x), int(y)))}
              for x, y in zip(rng.integers(0, width, 10), rng.integers(0, height, 10))]
    del colour
    if mode == "painted":   # the same ten patches painted on a transparent layer, read as predict reads it
        from colorize.hints.sources import patch_side
        layer, side = np.zeros((height, width, 4), np.uint8), patch_side(height, width)
        for point in points:
            top, left = point["y"] - (side - 1) // 2, point["x"] - (side - 1) // 2
            layer[max(0, top):top + side, max(0, left):left + side] = [int(point["color"][i:i + 2], 16)
                                                                       for i in (1, 3, 5)] + [255]
        with tempfile.NamedTemporaryFile(suffix=".png") as file:
            Image.fromarray(layer).save(file.name)
            del layer
            hints = read_hints(file.name, gray)
        mode = "hints"
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
            json.dump({"points": points}, file)
            file.flush()
            hints = read_hints(file.name, gray) if mode != "none" else None
    ways = {"none": lambda: colorizer.colorize(gray), "hints": lambda: colorizer.colorize(gray, hints=hints)}
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
    if mode == "both":   # the hinted run's own extra step, alone: steadier than a difference of two noisy times
        from colorize.inference.fullres import full_lightness, steer_with_hints
        lightness = full_lightness(gray)
        if colorizer.gives_hint_features():   # the shipped model: hints also follow its feature map
            (ab,), (features,) = colorizer.predict_chroma_and_features([lightness])
        else:
            ab, features = colorizer.predict_chroma([lightness])[0], None
        best["steer"] = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            steer_with_hints(lightness, ab, hints, features)
            best["steer"] = min(best["steer"], time.perf_counter() - start)
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
    parser.add_argument("--no-memory", action="store_true", help="skip the three peak-memory processes")
    args = parser.parse_args()
    photo = args.photo.expanduser()
    print(machine_line())
    print(f"gray {photo.name} upscaled; model {args.model}; 10 points (a points file); best of {args.rounds}\n")
    timed = run_child(args.model, photo, "both", args.rounds, SIZES)
    print("| photo | without hints s | with 10 points s | ratio | hints' own step s | (without + step) / without |\n"
          "|---|---:|---:|---:|---:|---:|")
    for name in SIZES:
        none, hinted, step = (timed[name][key] for key in ("none", "hints", "steer"))
        print(f"| {name} | {none:.3f} | {hinted:.3f} | {hinted / none:.2f} | {step:.3f} | {(none + step) / none:.2f} |")
    if not args.no_memory:
        twelve = {"12 MP": SIZES["12 MP"]}
        runs = {mode: run_child(args.model, photo, mode, 0, twelve) for mode in ("none", "hints", "painted")}
        print(f"\npeak memory at 12 MP (VmHWM, fresh process each): without hints {runs['none']['peak_mib']:.0f} MiB, "
              f"with 10 points {runs['hints']['peak_mib']:.0f} MiB, the same painted on a layer (a PNG) "
              f"{runs['painted']['peak_mib']:.0f} MiB "
              f"(model loaded and traced: {runs['none']['loaded_mib']:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
