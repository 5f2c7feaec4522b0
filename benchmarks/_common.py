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
