"""Shared test helpers: real files on disk, real subprocess runs of the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent

# A suite started in the background by a non-interactive shell (`bash -c "pytest &"`)
# inherits SIGINT ignored, and so would every `python -m colorize` it starts: the Ctrl-C
# tests would wait forever. With a handler here, children start with the default
# (exec resets handled signals, not ignored ones) and Python's KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)

# Settings of the front-end fuzz tests (CLI flags, wizard answers): each example runs real
# work that may take seconds, and reuses module fixtures that are safe to share.
FUZZ_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                           HealthCheck.too_slow])


def run_colorize(*args: str, stdin: str | None = None, cwd: Path | None = None,
                 env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `python -m colorize ARGS` in a subprocess and return the finished process."""
    full_env = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1")
    full_env.pop("COLORIZE_OUTPUT", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "colorize", *args],
        input=stdin if stdin is not None else "", capture_output=True, text=True,
        cwd=cwd, env=full_env, timeout=timeout,
    )


def mux_sound(container, stream, wave: np.ndarray, rate: int, sample_format: str = "fltp") -> None:
    """Encode a mono wave (1-D array) into `stream` of a PyAV `container` in chunks, then flush it."""
    import av

    for start in range(0, wave.size, 1024):
        chunk = av.AudioFrame.from_ndarray(wave[None, start:start + 1024], format=sample_format, layout="mono")
        chunk.sample_rate, chunk.pts = rate, start
        container.mux(stream.encode(chunk))
    container.mux(stream.encode(None))


def colorful_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Return a uint8 RGB image with smooth, saturated colour blobs (not gray)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.02, 0.2), rng.uniform(0.02, 0.2), rng.uniform(0, 6.3)
        channels.append(127.5 + 127.5 * np.sin(fx * x + fy * y + phase))
    return np.stack(channels, axis=-1).astype(np.uint8)


def save_image(path: Path, array: np.ndarray, **save_args) -> Path:
    """Save an array as an image file (format from the suffix) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **save_args)
    return path


@pytest.fixture
def color_folder(tmp_path: Path) -> Path:
    """A folder of a dozen 32x32 colour PNGs with different colours."""
    folder = tmp_path / "colour"
    for index in range(12):
        save_image(folder / f"img{index:02d}.png", colorful_image(32, 32, seed=index))
    return folder


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory) -> Path:
    """A tiny, untrained ab U-Net saved as .keras (built by our own builder)."""
    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    from colorize.models.model import build_unet

    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    build_unet("tiny").save(path)
    return path


@pytest.fixture
def output_root(tmp_path: Path, monkeypatch) -> Path:
    """An empty output root, also set as $COLORIZE_OUTPUT for in-process calls."""
    root = tmp_path / "OUTPUT"
    monkeypatch.setenv("COLORIZE_OUTPUT", str(root))
    return root


# How long a person takes at least between a question appearing and their Ctrl-C.
# A SIGINT sent the instant pexpect sees the prompt can land after readline wrote
# the prompt but before it waits in select(): CPython then notices the signal only
# when the next key arrives, and the test hangs (seen in 1 of 2 runs of the
# every-training-question test). A person is never that fast.
CTRL_C_DELAY_S = 0.3


def press_ctrl_c(child) -> None:
    """Send Ctrl-C (SIGINT) to a pexpect child that is waiting at a question, as a person would."""
    time.sleep(CTRL_C_DELAY_S)
    child.kill(signal.SIGINT)


def wait_for_backup(process: subprocess.Popen, backup_dir: Path, timeout: float = 600) -> int:
    """Wait until BackupAndRestore has saved at least one epoch; return that epoch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            epoch = json.loads((backup_dir / "training_metadata.json").read_text())["epoch"]
            if epoch >= 1 and (backup_dir / "latest.weights.h5").is_file():
                return epoch
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    process.kill()
    raise AssertionError("no backup appeared")
