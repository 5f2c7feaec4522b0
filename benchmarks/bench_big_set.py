"""Big-set figures (issue 27): `python -m colorize train` on 20,000 synthetic 640x480 photos.

The photos come from tools/albums/synthetic_photos.py (seeded gradients, shapes and
grain; nothing is downloaded), made in --folder unless they are there already.

1. `python -m colorize train --data FOLDER --epochs 1 --output TMP` (the default preset,
   as a user trains it) in a subprocess, each output line timestamped: seconds from
   the start of `train` to every progress line and to the end of the first training
   step (the product's line "Training: the first step took ..."), and the peak resident
   memory of the process (ru_maxrss from wait4; each line shows VmHWM so far, so the
   step that set the peak shows). `train` has no option that limits
   the steps of an epoch, and one epoch of 15,960 photos takes longer than this
   benchmark's budget on 2 shared cores, so after --train-seconds of training the run
   gets a Ctrl-C (SIGINT): it stops after the step, saves, scores the whole
   validation split once and the test split, as a stopped run does (SIGKILL after
   --stop-seconds more). --full-epoch lets the epoch run out instead.
2. The epoch's validation share, measured in this process with the product's own
   pieces on the same photos and settings (scan, split, prepare_model,
   make_training_data: the training stream and the validation sample): seconds of
   --steps training steps (Keras fit, after a warm-up) scaled to the epoch's steps,
   against one pass over the validation sample (evaluate, after a warm-up), and, side
   by side, one pass over the whole validation split (what every epoch cost before
   the sample).

    python benchmarks/bench_big_set.py [--folder /tmp/colorize-big-set] [--photos 20000]
                                       [--train-seconds 120] [--steps 20] [--full-epoch] [--no-whole]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import machine_line

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tools" / "albums"))
FIRST_STEP_LINE = "Training: the first step took"


def make_photos(folder: Path, count: int) -> None:
    from synthetic_photos import make_photos as make

    started = time.perf_counter()
    made = make(folder, count)
    if made:
        print(f"made {made} synthetic photos in {time.perf_counter() - started:.0f} s")


def peak_so_far(pid: int) -> float:
    """Return the process's peak resident memory so far (VmHWM), MiB; 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


def run_train(folder: Path, output: Path, args) -> dict:
    """Run `python -m colorize train` and return its timed lines, first-step time, peak memory and exit code."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", NO_COLOR="1")
    command = [sys.executable, "-m", "colorize", "train", "--data", str(folder), "--epochs", "1",
               "--output", str(output), "--run-name", "big"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT,
                               env=env)
    lines: list[tuple[float, str]] = []
    first_step = threading.Event()

    def read():
        for line in process.stdout:
            lines.append((time.perf_counter() - started, f"[{peak_so_far(process.pid):5.0f} MiB] {line.rstrip()}"))
            if FIRST_STEP_LINE in line:
                first_step.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stopped_at = None
    if not args.full_epoch:
        while not first_step.wait(1.0) and process.poll() is None:
            pass
        if first_step.is_set():
            time.sleep(args.train_seconds)
            if process.poll() is None:
                stopped_at = time.perf_counter() - started
                process.send_signal(signal.SIGINT)
                threading.Timer(args.stop_seconds, lambda: process.poll() is None and process.kill()).start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    first = next((seconds for seconds, line in lines if FIRST_STEP_LINE in line), None)
    return {"lines": lines, "first_step": first, "peak_mib": usage.ru_maxrss / 1024, "exit": process.returncode,
            "stopped_at": stopped_at, "seconds": time.perf_counter() - started}


def validation_share(folder: Path, args) -> dict:
    """Time training steps, a pass over the validation sample and one over the whole split (product pieces)."""
    from dataclasses import replace

    from colorize import defaults
    from colorize.config import TrainConfig
    from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset
    from colorize.dataset.loader import make_dataset, training_steps_per_epoch
    from colorize.dataset.split import validation_sample
    from colorize.training.devices import load_tensorflow
    from colorize.training.train import make_training_data, prepare_model

    load_tensorflow()
    config = TrainConfig(data=str(folder), epochs=1)
    scan = scan_dataset(resolve_dataset_path(config.data))
    config = replace(config, test_size=defaults.default_test_size(len(scan.ok), config.train_size))
    split = split_dataset(scan.ok, config.train_size, config.test_size, config.effective_split_seed)
    model = prepare_model(config, split).fit_model
    training, sample_data = make_training_data(config, split)
    model.fit(training, steps_per_epoch=3, epochs=1, verbose=0, shuffle=False)   # trace and warm up
    started = time.perf_counter()
    model.fit(training, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
    step_seconds = (time.perf_counter() - started) / args.steps
    model.evaluate(sample_data.take(2), verbose=0)                        # trace and warm up
    started = time.perf_counter()
    model.evaluate(sample_data, verbose=0)
    sample_seconds = time.perf_counter() - started
    whole_seconds = None
    if not args.no_whole:
        started = time.perf_counter()
        model.evaluate(make_dataset(split.validation, config.image_size, config.batch_size, training=False,
                                    seed=config.seed), verbose=0)
        whole_seconds = time.perf_counter() - started
    steps = training_steps_per_epoch(config, split)
    return {"steps": steps, "step_seconds": step_seconds, "batch": config.batch_size,
            "sample": len(validation_sample(split.validation, config.effective_split_seed)),
            "validation": len(split.validation), "train": len(split.train),
            "sample_seconds": sample_seconds, "whole_seconds": whole_seconds}


def report_train(run: dict) -> None:
    print(f"\n1. python -m colorize train --data FOLDER --epochs 1 (exit {run['exit']}, {run['seconds']:.0f} s"
          + (f", Ctrl-C at {run['stopped_at']:.0f} s" if run["stopped_at"] else "") + ")")
    for seconds, line in run["lines"]:
        if line.strip() and not line.split("] ", 1)[-1].startswith(("WARNING", "I0000", "E0000", "W0000")):
            print(f"  {seconds:7.1f} s  {line[:150]}")
    first = run["first_step"]
    print(f"start of train -> end of the first training step: "
          + (f"{first:.1f} s (bar <= 60 s)" if first is not None else "not reached"))
    print(f"peak resident memory of the train process: {run['peak_mib']:.0f} MiB (bar <= 1536 MiB)")


def report_share(share: dict) -> None:
    epoch_training = share["steps"] * share["step_seconds"]
    print(f"\n2. validation share of an epoch ({share['train']} training photos, {share['steps']} steps of "
          f"{share['batch']}; validation sample {share['sample']} of {share['validation']})")
    print(f"training step: {share['step_seconds']:.3f} s ({share['batch'] / share['step_seconds']:.1f} images/s); "
          f"epoch's training {epoch_training:.0f} s")
    print(f"validation on the sample: {share['sample_seconds']:.1f} s -> "
          f"{share['sample_seconds'] / (epoch_training + share['sample_seconds']):.1%} of the epoch (bar <= 10%)")
    if share["whole_seconds"] is not None:
        whole = share["whole_seconds"]
        print(f"validation on the whole split (before): {whole:.1f} s -> "
              f"{whole / (epoch_training + whole):.1%} of the epoch; sample / whole {share['sample_seconds'] / whole:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "colorize-big-set")
    parser.add_argument("--photos", type=int, default=20000)
    parser.add_argument("--train-seconds", type=float, default=120.0, help="training after the first step")
    parser.add_argument("--stop-seconds", type=float, default=600.0, help="after Ctrl-C, before SIGKILL")
    parser.add_argument("--full-epoch", action="store_true", help="let the one epoch run out")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps for the share")
    parser.add_argument("--no-whole", action="store_true", help="skip timing the whole validation split")
    parser.add_argument("--skip-train", action="store_true", help="only part 2")
    args = parser.parse_args()

    make_photos(args.folder, args.photos)
    print(f"{args.photos} synthetic 640x480 photos in {args.folder}; {machine_line()}")
    if not args.skip_train:
        with tempfile.TemporaryDirectory() as output:
            report_train(run_train(args.folder, Path(output), args))
    report_share(validation_share(args.folder, args))
    print(machine_line())


if __name__ == "__main__":
    main()
