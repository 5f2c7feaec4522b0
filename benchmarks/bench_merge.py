"""The full-resolution merge (fullres.merge_full_resolution) of this checkout against an earlier revision's.

One 12 MP (4000x3000) L plane and a 256x192 ab, as predict's last step has
them: seconds (best of --rounds, the two merges in turns in one process) and
peak memory (a fresh process per revision allocates the inputs, resets VmHWM
through /proc/self/clear_refs, merges once: the rise is the merge's own). Each
revision's merge runs with that revision's PREDICT_STRIP_PIXELS. The outputs
are compared pixel for pixel.

    python benchmarks/bench_merge.py [--rev bfe12de~1] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, best_times, machine_line  # noqa: E402
from bench_loader_versions import module_at  # noqa: E402

SIZE = (3000, 4000)
WORKING = (192, 256)


def merge_at(revision: str | None):
    """Return merge_full_resolution of `revision` (None: this checkout) with that revision's strip size."""
    if revision is None:
        from colorize.inference import fullres
        return fullres.merge_full_resolution
    tag = re.sub(r"\W", "_", revision)
    module = module_at(revision, ("colorize/inference/fullres.py",), f"fullres_{tag}")
    constants = subprocess.run(["git", "show", f"{revision}:colorize/constants.py"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout
    module.PREDICT_STRIP_PIXELS = int(re.search(r"^PREDICT_STRIP_PIXELS = ([\d_]+)", constants, re.M)
                                      .group(1).replace("_", ""))
    return module.merge_full_resolution


def inputs():
    import numpy as np

    generator = np.random.default_rng(0)
    lightness = generator.uniform(0.0, 100.0, SIZE).astype(np.float32)
    ab = generator.uniform(-40.0, 40.0, WORKING + (2,)).astype(np.float32)
    return lightness, ab


def peak_mib() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(revision: str | None) -> None:
    """Print the merge's own peak memory (MiB over the inputs) as JSON."""
    merge = merge_at(revision)
    lightness, ab = inputs()
    merge(lightness[:8, :8].copy(), ab[:2, :2].copy())   # a first small merge: imports and tables
    Path("/proc/self/clear_refs").write_text("5")   # resets VmHWM to the present size (Linux)
    before = peak_mib()
    merge(lightness, ab)
    print(json.dumps({"merge_mib": peak_mib() - before, "peak_mib": peak_mib()}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="bfe12de~1", help="the earlier revision (default: before strip-wise ab)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child or None)
        return 0
    import numpy as np

    ways = {f"at {args.rev}": merge_at(args.rev), "this checkout": merge_at(None)}
    lightness, ab = inputs()
    best, results = best_times({name: (lambda merge=merge: merge(lightness, ab)) for name, merge in ways.items()},
                               args.rounds)
    old, new = results.values()
    memory = {name: json.loads(subprocess.run([sys.executable, __file__, "--child", revision], check=True,
                                              capture_output=True, text=True).stdout)
              for name, revision in zip(ways, (args.rev, ""))}
    print(machine_line())
    print(f"12 MP L with a {WORKING[1]}x{WORKING[0]} ab; best of {args.rounds}; outputs "
          f"{'identical' if np.array_equal(old, new) else 'differ'}: {np.mean(old != new):.1e} of the values, "
          f"by at most {np.abs(old.astype(int) - new).max()} level\n")
    print("| merge | seconds | its own peak MiB | process peak MiB |\n|---|---:|---:|---:|")
    for name in ways:
        print(f"| {name} | {best[name]:.3f} | {memory[name]['merge_mib']:.0f} | {memory[name]['peak_mib']:.0f} |")
    first, second = ways
    print(f"\nthis checkout / {first}: time {best[second] / best[first]:.2f}x, "
          f"merge's own memory {memory[second]['merge_mib'] / memory[first]['merge_mib']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
