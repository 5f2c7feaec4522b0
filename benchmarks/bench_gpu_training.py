"""Training images/s of the pretrained preset on a GPU: float32, mixed float16, and mirrored over all GPUs.

Each mode runs in its own process (the precision policy and the strategy are
process-wide), through the product's own steps: strategy.detect_devices,
train.prepare_model (prior measured on the training photos, model built under
the strategy's scope, compiled as train compiles it), the loader's training
pipeline, `fit`, and runfolder.save_final_model (the atomic writer). images/s =
steps x global batch x timed epochs / their seconds; the first epoch (tracing,
cuDNN autotuning) is not timed, and no validation runs.

- float32: one GPU, mixed precision held off (the capability threshold raised
  in the child, the only way to keep detect_devices from turning it on);
- mixed: one GPU, mixed_float16 as detect_devices sets it on tensor-core GPUs;
- mirrored: MirroredStrategy over every visible GPU, the product's precision.

Every saved model is then loaded and used to colourise a training photo on the
CPU, in a process with CUDA_VISIBLE_DEVICES=-1 (what a person without a GPU
gets): its size, that the colours are finite, their mean chroma, the layers'
precision policies and the seconds of the second colouring (the first traces).

    python benchmarks/bench_gpu_training.py [--data data/default] [--image-size 224]
        [--batch-size 32] [--steps 40] [--epochs 3] [--train-size N]
    python benchmarks/bench_gpu_training.py --cpu-smoke     # no GPU: tiny run, checks the script works

Without a GPU (and without --cpu-smoke) it says so and exits 0. --cpu-smoke runs
the three modes on the CPU with tiny crops and a few steps (mixed float16 forced
on, mirrored over the one CPU device); its figures say nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, machine_line

MODES = ("float32", "mixed", "mirrored")

CPU_CHECK = r"""
import json, sys, time
import numpy as np
from colorize.training.devices import load_tensorflow
tf = load_tensorflow()
from colorize.dataset.imagefile import decode_rgb
from colorize.inference.colorizer import Colorizer
from skimage.color import rgb2lab

assert not tf.config.list_physical_devices("GPU"), "a GPU is visible"
colorizer = Colorizer.from_path(sys.argv[1])
policies = sorted({layer.dtype_policy.name for layer in colorizer.model.layers})
rgb = decode_rgb(sys.argv[2])
colorizer.colorize(rgb)                    # warm-up: traces the model at this size
started = time.perf_counter()
coloured = colorizer.colorize(rgb)
seconds = time.perf_counter() - started
ab = rgb2lab(coloured)[..., 1:]
print(json.dumps({"shape": list(coloured.shape), "finite": bool(np.isfinite(ab).all()),
                  "chroma": float(np.hypot(ab[..., 0], ab[..., 1]).mean()), "policies": policies,
                  "seconds": round(seconds, 3)}))
"""


def run_mode(args: argparse.Namespace) -> None:
    """Child: train one mode, save the model, print images/s and the model's path as JSON."""
    import keras

    from colorize.config import TrainConfig
    from colorize.dataset import scan_dataset, split_dataset
    from colorize.training import runfolder, strategy as strategy_module
    from colorize.training.train import make_training_data, prepare_model

    if args.mode == "float32":
        strategy_module.MIXED_PRECISION_MIN_CAPABILITY = (1000, 0)
    devices = strategy_module.detect_devices("mirrored" if args.mode == "mirrored" else "one")
    if args.cpu_smoke and args.mode in ("mixed", "mirrored"):
        keras.mixed_precision.set_global_policy("mixed_float16")   # what a tensor-core GPU gets
    config = TrainConfig(data=args.data, epochs=args.epochs, image_size=args.image_size, test_size=0,
                         train_size=args.train_size, batch_size=args.batch_size, preset="pretrained",
                         strategy="mirrored" if args.mode == "mirrored" else "one")
    split = split_dataset(scan_dataset(args.data).ok, config.train_size, 0, config.seed)
    trainee = prepare_model(config, split, devices.strategy)
    training, _ = make_training_data(config, split)
    epoch_ends: list[float] = []
    timer = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epoch_ends.append(time.perf_counter()))
    history = trainee.fit_model.fit(training, epochs=args.epochs, steps_per_epoch=args.steps, shuffle=False,
                                    callbacks=[timer], verbose=0)
    images = args.steps * config.batch_size * (len(epoch_ends) - 1)
    run_dir = Path(args.output)
    run_dir.mkdir(parents=True)
    model_path = runfolder.save_final_model(trainee.model, config, run_dir)["model"]
    print(json.dumps({"mode": args.mode, "images_per_second": images / (epoch_ends[-1] - epoch_ends[0]),
                      "replicas": devices.replicas, "mixed_precision": keras.mixed_precision.global_policy().name,
                      "devices": devices.description, "loss": [float(x) for x in history.history["loss"]],
                      "model": str(model_path), "photo": str(split.train[0].source)}))


def last_json(stdout: str) -> dict:
    """Return the last line of a child's stdout that is a JSON object."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"No result in the child's output:\n{stdout[-2000:]}")


def run_child(args: argparse.Namespace, mode: str, output: Path) -> dict:
    """Run one mode in its own process and return its JSON result."""
    command = [sys.executable, __file__, "--child", mode, "--output", str(output), "--data", str(args.data),
               "--image-size", str(args.image_size), "--batch-size", str(args.batch_size),
               "--steps", str(args.steps), "--epochs", str(args.epochs)]
    command += ["--train-size", str(args.train_size)] if args.train_size else []
    command += ["--cpu-smoke"] if args.cpu_smoke else []
    finished = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if finished.returncode:
        raise RuntimeError(f"{mode} failed:\n{finished.stderr[-4000:]}")
    return last_json(finished.stdout)


def check_on_cpu(model: str, photo: str) -> dict:
    """Load the saved model with no GPU visible and colourise one photo; return what came out."""
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "-1"}
    finished = subprocess.run([sys.executable, "-c", CPU_CHECK, model, photo], capture_output=True, text=True,
                              env=environment, cwd=REPO)
    if finished.returncode:
        return {"error": finished.stderr.strip().splitlines()[-1]}
    return last_json(finished.stdout)


def gpu_count() -> int:
    """Return how many GPUs TensorFlow sees (in a child, so this process stays free of TensorFlow)."""
    probe = "from colorize.training.devices import list_gpus; print(len(list_gpus()))"
    finished = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)
    return int(finished.stdout.strip().splitlines()[-1]) if finished.returncode == 0 else 0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "data" / "default")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=40, help="training steps per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="the first is not timed")
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny run on the CPU: checks the script works")
    parser.add_argument("--child", choices=MODES, dest="mode", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cpu_smoke and not args.mode:
        args.image_size, args.batch_size, args.steps, args.epochs = 64, 2, 2, 2
        args.train_size = args.train_size or 10
    return args


def main() -> int:
    args = parse_arguments()
    if args.mode:
        run_mode(args)
        return 0
    gpus = gpu_count()
    if not gpus and not args.cpu_smoke:
        print("No GPU visible to TensorFlow: nothing to measure (--cpu-smoke checks that the script works).")
        return 0
    print(machine_line(), f"GPUs: {gpus}" if gpus else "CPU smoke run: the figures say nothing about speed")
    print(f"pretrained preset, {args.image_size} px crops, batch {args.batch_size} per step, "
          f"{args.steps} steps x {args.epochs - 1} timed epochs, data {args.data}")
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for mode in MODES:
            result = run_child(args, mode, Path(scratch) / mode)
            cpu = check_on_cpu(result["model"], result["photo"])
            failures += "error" in cpu or not cpu.get("finite")
            print(f"{mode:9s} {result['images_per_second']:8.1f} images/s  replicas {result['replicas']}  "
                  f"policy {result['mixed_precision']}  loss {result['loss'][0]:.3f} -> {result['loss'][-1]:.3f}")
            print(f"          {result['devices']}")
            print(f"          on the CPU: {json.dumps(cpu)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
