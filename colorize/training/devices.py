"""What hardware TensorFlow sees, and a quiet TensorFlow import for the front ends
(quiet unless it fails: then what TensorFlow wrote is shown).

Kept apart from the training code (strategy.py turns these devices into a
distribution strategy) so `info` and the wizard can use it without it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile

# A failure shows the end of what TensorFlow wrote to stderr meanwhile, this many
# characters at most (a failed GPU start can log pages).
CAPTURED_STDERR_SHOWN = 8000


@contextlib.contextmanager
def native_stderr_silenced():
    """Keep what is written to file descriptor 2 off the screen for the block, unless the block fails.

    TensorFlow's C++ start-up lines (oneDNN, cuda stubs, cuInit) are written
    before absl logging starts, so TF_CPP_MIN_LOG_LEVEL cannot hide them; the
    same holds for the "E0000 ... oneDNN supports DT_INT32 only on platforms
    with AVX-512" line the first training step of a process prints with the
    stock TensorFlow wheel, even on this AVX-512 machine (a harmless fallback
    to Eigen kernels that reads like an error). The text is kept in a temporary
    file, not thrown away: when the block raises (a broken install, a GPU out of
    memory), it goes back to stderr and onto the exception as a note, so the
    one-line error's log has it too.
    """
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as captured:
            sys.stderr.flush()
            os.dup2(captured.fileno(), 2)
            try:
                yield
            except Exception as error:
                sys.stderr.flush()
                os.dup2(saved, 2)
                _show_captured(captured, error)
                raise
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _show_captured(captured, error: Exception) -> None:
    """Write what the block sent to stderr back there, and add it to `error`'s notes."""
    from colorize.errors import ColorizeError

    if isinstance(error, ColorizeError):   # explained in its own sentence; the noise would bury it
        return
    captured.seek(0, os.SEEK_END)
    captured.seek(max(captured.tell() - CAPTURED_STDERR_SHOWN, 0))
    text = captured.read().decode("utf-8", errors="replace").strip()
    if not text:
        return
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
    if hasattr(error, "add_note"):   # Python 3.11+: the traceback in the error log shows it
        error.add_note(f"TensorFlow's native stderr before this error:\n{text}")


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
