"""What hardware TensorFlow sees, and a quiet TensorFlow import for the front ends.

Kept apart from train.py so `info` and the wizard can use it without training code.
"""

from __future__ import annotations

import contextlib
import functools
import os


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for the block.

    TensorFlow's C++ start-up lines (oneDNN, cuda stubs, cuInit) are written
    before absl logging starts, so TF_CPP_MIN_LOG_LEVEL cannot hide them; the
    same holds for the "E0000 ... oneDNN supports DT_INT32 only on platforms
    with AVX-512" line the first training step of a process prints with the
    stock TensorFlow wheel, even on this AVX-512 machine (a harmless fallback
    to Eigen kernels that reads like an error). Python exceptions still reach
    the user: they are printed after the block.
    """
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.lru_cache(maxsize=1)
def load_tensorflow():
    """Import TensorFlow and probe its devices once, without start-up noise; return tf."""
    with native_stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
    return tf


def list_gpus() -> list[dict]:
    """Return one dict per visible GPU: name, memory and compute capability."""
    tf = load_tensorflow()
    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append({
            "name": details.get("device_name", device.name),
            "device": device.name,
            "memory": _gpu_memory_text(device.name),
            "compute_capability": details.get("compute_capability"),
        })
    return gpus


def _gpu_memory_text(device_name: str) -> str:
    """Return the GPU's total memory as text, read through nvidia-smi where present."""
    import shutil
    import subprocess

    index = device_name.rsplit(":", 1)[-1]
    if not shutil.which("nvidia-smi"):
        return "memory unknown"
    try:
        output = subprocess.run(
            ["nvidia-smi", f"--id={index}", "--query-gpu=memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        return output or "memory unknown"
    except (OSError, subprocess.SubprocessError):
        return "memory unknown"
