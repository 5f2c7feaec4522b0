"""Loader throughput of this checkout against the loader of an earlier git revision, side by side.

Both pipelines are built over the same photos in one process and read in
turns (40 batches each, three rounds), so load on a shared machine hits both
alike. Used for the crop-before-resize change (BENCHMARKS.md).

    python benchmarks/bench_loader_versions.py [--rev 2eac5d7] [--rounds 3] [--batches 40]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def loader_at(revision: str):
    """Import colorize/dataset/loader.py as it was at `revision` (a module apart from the current one)."""
    source = subprocess.run(["git", "show", f"{revision}:colorize/dataset/loader.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix="loader-")) / "loader_then.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("loader_then", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="2eac5d7", help="the earlier revision (default: before crop-first)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()

    from colorize.dataset import loader as loader_now
    from colorize.dataset import resolve_dataset_path, scan_dataset

    files = list(scan_dataset(resolve_dataset_path("default")).ok)
    streams = {}
    for label, module in ((f"loader at {args.rev}", loader_at(args.rev)), ("loader now", loader_now)):
        stream = iter(module.make_dataset(files, 128, 16, training=True, seed=1, repeat=True))
        next(stream)   # trace once before timing
        streams[label] = stream
    speeds: dict[str, list[float]] = {label: [] for label in streams}
    for _ in range(args.rounds):
        for label, stream in streams.items():
            started, images = time.perf_counter(), 0
            for _ in range(args.batches):
                images += int(next(stream)[0].shape[0])
            speeds[label].append(images / (time.perf_counter() - started))
    print(f"{len(files)} photos of data/default, 128 px training crops, batch 16")
    for label, values in speeds.items():
        print(f"{label:24s} " + "  ".join(f"{value:6.0f}" for value in values) + "  images/s")
    then, now = (sum(values) / len(values) for values in speeds.values())
    print(f"ratio now / then          {now / then:.2f}")
    # Infinite tf.data iterators with Python decode functions can keep the interpreter
    # from exiting; everything is printed, so leave at once.
    os._exit(0)


if __name__ == "__main__":
    main()
