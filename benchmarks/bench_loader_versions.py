"""Loader throughput of this checkout against the loader of an earlier git revision, side by side.

Both pipelines are built over the same photos in one process and read in
turns (a whole pass each, three rounds; a pass ends before the other starts, so
neither reads ahead while the other is timed), so load on a shared machine hits
both alike. Also the process's CPU time per image, which load on other processes
disturbs less than wall time. Each revision's loader runs with that revision's
colour conversion (colorize/dataset/color.py). --new compares two revisions
instead of a revision and this checkout. Used for the crop-before-resize change
and the Lab map's (BENCHMARKS.md).

    python benchmarks/bench_loader_versions.py [--rev 2eac5d7] [--new REV] [--rounds 3] [--data FOLDER]
                                               [--images 600]
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


def module_at(revision: str, paths: tuple[str, ...], name: str):
    """Import the first of `paths` that exists at `revision`, as module `name` (apart from the current one)."""
    for relative in paths:
        shown = subprocess.run(["git", "show", f"{revision}:{relative}"], cwd=REPO, capture_output=True, text=True)
        if shown.returncode == 0:
            break
    else:
        raise SystemExit(f"None of {paths} exists at {revision}")
    path = Path(tempfile.mkdtemp(prefix="loader-")) / f"{name}.py"
    path.write_text(shown.stdout)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loader_at(revision: str):
    """Return colorize/dataset/loader.py as it was at `revision`, using the colour conversion of then too."""
    tag = revision.replace("~", "_").replace("^", "_")
    module = module_at(revision, ("colorize/dataset/loader.py",), f"loader_{tag}")
    module.color = module_at(revision, ("colorize/dataset/color.py", "colorize/color.py"), f"color_{tag}")
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="2eac5d7", help="the earlier revision (default: before crop-first)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", default="default", help="folder of photos (default: data/default)")
    parser.add_argument("--images", type=int, default=600, help="the first N photos of --data")
    parser.add_argument("--new", help="a later revision to compare instead of this checkout")
    args = parser.parse_args()

    from colorize.dataset import loader as loader_now
    from colorize.dataset import resolve_dataset_path, scan_dataset

    files = list(scan_dataset(resolve_dataset_path(args.data)).ok)[:args.images]
    datasets = {}
    newer = (f"loader at {args.new}", loader_at(args.new)) if args.new else ("loader now", loader_now)
    for label, module in ((f"loader at {args.rev}", loader_at(args.rev)), newer):
        dataset = module.make_dataset(files, 128, 16, training=True, seed=1)
        for _ in dataset:   # trace once before timing
            pass
        datasets[label] = dataset
    speeds: dict[str, list[float]] = {label: [] for label in datasets}
    cpu: dict[str, list[float]] = {label: [] for label in datasets}
    for _ in range(args.rounds):
        for label, dataset in datasets.items():   # a whole pass each, in turns: no stream reads ahead
            started, cpu_started = time.perf_counter(), time.process_time()
            images = sum(int(lightness.shape[0]) for lightness, _ in dataset)
            speeds[label].append(images / (time.perf_counter() - started))
            cpu[label].append((time.process_time() - cpu_started) / images * 1000)
    print(f"{len(files)} photos of {args.data}, 128 px training crops, batch 16, a whole pass each in turns; "
          f"load average {os.getloadavg()[0]:.1f}")
    for label in datasets:
        print(f"{label:24s} " + "  ".join(f"{value:6.0f}" for value in speeds[label]) + "  images/s   CPU "
              + "  ".join(f"{value:5.2f}" for value in cpu[label]) + "  ms/image")
    then, now = (max(values) for values in speeds.values())
    cpu_then, cpu_now = (min(values) for values in cpu.values())
    print(f"best images/s now / then   {now / then:.2f}; least CPU per image then / now {cpu_then / cpu_now:.2f}")
    # Infinite tf.data iterators with Python decode functions can keep the interpreter
    # from exiting; everything is printed, so leave at once.
    os._exit(0)


if __name__ == "__main__":
    main()
