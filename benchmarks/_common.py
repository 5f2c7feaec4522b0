"""What several benchmarks share: timing methods in turns, so a busy machine slows all alike."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent


def best_times(methods: dict[str, Callable], rounds: int) -> tuple[dict[str, float], dict]:
    """Run the methods round-robin `rounds` times; return each one's fastest seconds and last result."""
    best = {name: float("inf") for name in methods}
    results = {}
    for _ in range(rounds):
        for name, method in methods.items():
            start = time.perf_counter()
            results[name] = method()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def machine_line() -> str:
    """Return the commit, CPU count and load average, for the head of a benchmark's output."""
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return f"commit {commit}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"


def fit_images_per_second(model, size: int, batch: int, steps: int) -> float:
    """Return images/s of `model.fit` (compiled) on random in-memory (L, ab) batches after one warm-up step."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    lightness = rng.uniform(-1, 1, (batch, size, size, 1)).astype(np.float32)
    ab = rng.uniform(-0.5, 0.5, (batch, size, size, 2)).astype(np.float32)
    batches = tf.data.Dataset.from_tensors((lightness, ab)).repeat()
    model.fit(batches, steps_per_epoch=1, epochs=1, verbose=0)
    started = time.perf_counter()
    model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch / (time.perf_counter() - started)
