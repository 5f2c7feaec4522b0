"""Seconds and peak memory (RSS) to colourise one 12 MP photo with the cpu preset.

Each working long side runs in its own fresh Python process, so ru_maxrss is
that run's peak alone; the baseline line is the same process after importing
TensorFlow and loading the model, before any photo. Random weights: timing only.

    /work/venv/bin/python benchmarks/bench_predict_12mp.py [LONG_SIDE ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
import numpy as np
from colorize.training.devices import load_tensorflow
load_tensorflow()
from colorize.models.model import build_unet
from colorize.inference.colorizer import Colorizer

def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

model_path, long_side = sys.argv[1], int(sys.argv[2])
colorizer = Colorizer.from_path(model_path)
colorizer.working_long_side = long_side
colorizer.colorize(np.zeros((48, 64), np.uint8))           # trace the model once
baseline = rss_mib()
rng = np.random.default_rng(0)
photo = np.clip(np.linspace(0, 255, 4000)[None, :] + rng.normal(0, 20, (3000, 4000)), 0, 255).astype(np.uint8)
times, cpu_times = [], []
for _ in range(2):
    start, cpu_start = time.perf_counter(), time.process_time()
    output = colorizer.colorize(photo)
    times.append(time.perf_counter() - start)
    cpu_times.append(time.process_time() - cpu_start)
assert output.shape == (3000, 4000, 3)
print(json.dumps({"long_side": long_side, "working_size": colorizer.working_size(3000, 4000),
                  "seconds_first": times[0], "seconds_second": times[1], "cpu_seconds_second": cpu_times[1],
                  "peak_rss_mib": rss_mib(), "baseline_rss_mib": baseline}))
"""


def main() -> None:
    long_sides = [int(side) for side in sys.argv[1:]] or [256, 384, 512]
    with tempfile.TemporaryDirectory() as folder:
        model_path = Path(folder) / "cpu.keras"
        subprocess.run([sys.executable, "-c",
                        "import sys; from colorize.training.devices import load_tensorflow; load_tensorflow(); "
                        "from colorize.models.model import build_unet; build_unet('cpu').save(sys.argv[1])",
                        str(model_path)], check=True, capture_output=True)
        print("12 MP (4000x3000) gray photo, cpu preset, random weights, one fresh process per row")
        print("(cpu s = CPU time of all threads: compare it with wall time when the machine is shared)")
        print(f"{'long side':>9} {'model sees':>11} {'1st s':>6} {'2nd s':>6} {'2nd cpu s':>9} {'peak RSS MiB':>13} {'baseline MiB':>13}")
        for side in long_sides:
            done = subprocess.run([sys.executable, "-c", CHILD, str(model_path), str(side)],
                                  check=True, capture_output=True, text=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            working = "x".join(str(value) for value in row["working_size"])
            print(f"{side:>9} {working:>11} {row['seconds_first']:>6.2f} {row['seconds_second']:>6.2f} {row['cpu_seconds_second']:>9.2f} "
                  f"{row['peak_rss_mib']:>13.0f} {row['baseline_rss_mib']:>13.0f}")


if __name__ == "__main__":
    main()
