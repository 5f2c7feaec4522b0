"""Training crops/s with 1 vs 2 multi-worker processes on this machine, side by side.

Each run starts N `colorize` workers on localhost ports with their own TF_CONFIG
(as two machines would), trains the same synthetic photos through
distributed.train_multiworker, and times the epochs after the first (the first
one traces the graphs). crops/s = crops per epoch x timed epochs / seconds,
where an epoch is a pass over the training photos or MIN_CROPS_PER_EPOCH crops
if that is more (loader.training_steps_per_epoch; before it, an epoch was one
pass and the figure was training images/s).

    python benchmarks/bench_workers.py [--images 48] [--image-size 64]
        [--preset cpu] [--batch-size 4] [--epochs 4]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def make_photos(folder: Path, count: int, side: int) -> None:
    """Write `count` colourful synthetic PNGs of side x side pixels."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from conftest import colorful_image, save_image

    for index in range(count):
        save_image(folder / f"photo{index:03d}.png", colorful_image(side, side, seed=index))


def free_ports(count: int) -> list[int]:
    """Return `count` distinct free localhost ports."""
    sockets = [socket.socket() for _ in range(count)]
    for handle in sockets:
        handle.bind(("localhost", 0))
    ports = [handle.getsockname()[1] for handle in sockets]
    for handle in sockets:
        handle.close()
    return ports


def run_worker(args: argparse.Namespace) -> None:
    """Worker mode: train through the multi-worker loop, print epoch end times and crops per epoch as JSON."""
    from colorize.config import TrainConfig
    from colorize.dataset import scan_dataset, split_dataset
    from colorize.training.distributed import create_multiworker_strategy, train_multiworker
    from colorize.dataset.loader import training_steps_per_epoch
    from colorize.training.train import prepare_model

    config = TrainConfig(data=args.data, epochs=args.epochs, image_size=args.image_size, test_size=0,
                         batch_size=args.batch_size, preset=args.preset, strategy="multiworker")
    split = split_dataset(scan_dataset(args.data).ok, None, 0, config.seed)
    strategy = create_multiworker_strategy()
    trainee = prepare_model(config, split, strategy)   # compiled under the strategy's scope
    epoch_ends: list[float] = []

    def notify(message: str) -> None:
        if message.startswith("Epoch "):
            epoch_ends.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as run_dir:
        train_multiworker(trainee, config, split, Path(run_dir), strategy, 0, notify)
    global_batch = config.batch_size * strategy.num_replicas_in_sync
    crops_per_epoch = training_steps_per_epoch(config, split, global_batch) * global_batch
    print(json.dumps({"epoch_ends": epoch_ends, "crops_per_epoch": crops_per_epoch}))


def crops_per_second(workers: int, args: argparse.Namespace, data: Path) -> float:
    """Start `workers` local workers, wait for them, return the chief's training crops/s."""
    ports = free_ports(workers)
    processes = []
    for index in range(workers):
        tf_config = {"cluster": {"worker": [f"localhost:{port}" for port in ports]},
                     "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(tf_config), TF_CPP_MIN_LOG_LEVEL="2")
        command = [sys.executable, __file__, "--worker", "--data", str(data), "--epochs", str(args.epochs),
                   "--image-size", str(args.image_size), "--preset", args.preset,
                   "--batch-size", str(args.batch_size)]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          text=True, cwd=REPO_ROOT))
    outputs = [process.communicate(timeout=1800)[0] for process in processes]
    if any(process.returncode for process in processes):
        raise SystemExit(f"a worker failed: {[process.returncode for process in processes]}")
    chief = json.loads(outputs[0].strip().splitlines()[-1])
    ends = chief["epoch_ends"]
    return chief["crops_per_epoch"] * (len(ends) - 1) / (ends[-1] - ends[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--batch-size", type=int, default=4, help="per worker")
    parser.add_argument("--epochs", type=int, default=4, help="at least 2: the first is not timed")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch traces the graphs and is not timed")
    if args.worker:
        run_worker(args)
        return
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "photos"
        make_photos(data, args.images, args.image_size)
        results = {workers: crops_per_second(workers, args, data) for workers in (1, 2)}
    print(f"preset {args.preset}, {args.image_size}x{args.image_size}, batch {args.batch_size} per worker, "
          f"{args.images} photos (80% train), {args.epochs} epochs (first untimed), {os.cpu_count()} CPU cores")
    for workers, rate in results.items():
        print(f"  {workers} worker{'s' if workers > 1 else ' '}: {rate:6.2f} training crops/s")
    print(f"  2 workers / 1 worker: {results[2] / results[1]:.2f}x")


if __name__ == "__main__":
    main()
