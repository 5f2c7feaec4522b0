"""Issue 8, training killed: SIGKILL mid-epoch (and again while it saves), then the
same command: it resumes from BackupAndRestore's last epoch, finishes, and the
final model loads with the right shapes. A file under a final model name is
always whole (saved under a temporary name, then renamed).

test_train.py's slow test kills once after an epoch's backup; this one kills
inside epochs, several times, and checks every model file left at each kill.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import colorful_image, run_colorize, save_image

EPOCHS = 40
COMMAND = ("--preset", "tiny", "--image-size", "32", "--batch-size", "2", "--epochs", str(EPOCHS),
           "--test-size", "2", "--run-name", "killed", "--h5")


def train_command(data: Path, output: Path) -> list[str]:
    return ["train", "--data", str(data), "--output", str(output), *COMMAND]


def backup_epoch(backup: Path) -> int:
    try:
        return json.loads((backup / "training_metadata.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return -1


def check_whole_model_files(run_dir: Path) -> None:
    """Whatever sits under a final model name loads and maps (N, H, W, 1) L to (N, H, W, 2) ab."""
    from colorize.models.modelfile import inspect_model, load_model_file

    for name in ("model.keras", "model.h5"):
        if (run_dir / name).exists():
            model = load_model_file(run_dir / name)
            assert inspect_model(model).kind == "ab"
            prediction = model.predict(np.zeros((1, 32, 32, 1), np.float32), verbose=0)
            assert prediction.shape == (1, 32, 32, 2)


@pytest.mark.slow
def test_training_killed_mid_epoch_resumes_from_the_backup_and_finishes(tmp_path):
    data, output = tmp_path / "photos", tmp_path / "OUTPUT"
    for index in range(24):   # 16 training images in batches of 2: 8 steps per epoch
        save_image(data / f"img{index:02d}.png", colorful_image(32, 32, seed=index))
    run_dir = output / "models" / "killed"
    rng = random.Random(8)
    kills = 0
    for _ in range(3):
        process = subprocess.Popen([sys.executable, "-m", "colorize", *train_command(data, output)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=dict(os.environ, NO_COLOR="1"))
        start_epoch = backup_epoch(run_dir / "backup")
        deadline = time.monotonic() + 300
        while backup_epoch(run_dir / "backup") <= start_epoch and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(rng.uniform(0.05, 0.6))   # somewhere inside the next epoch
        if process.poll() is not None:
            break   # it finished before the kill: nothing left to resume
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        kills += 1
        check_whole_model_files(run_dir)
        assert not list(run_dir.glob("model.*")) or (run_dir / "model.keras").exists()
    assert kills >= 2

    again = run_colorize(*train_command(data, output))
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "Continuing the killed run" in again.stdout
    assert sorted(path.name for path in (output / "models").iterdir()) == ["killed"]
    with open(run_dir / "history.csv", newline="") as handle:
        epochs = [int(row["epoch"]) for row in csv.DictReader(handle)]
    assert epochs == list(range(EPOCHS))
    assert not (run_dir / "backup").exists()
    assert not [path.name for path in run_dir.iterdir() if "partial" in path.name]
    check_whole_model_files(run_dir)
    assert (run_dir / "model.keras").is_file() and (run_dir / "model.h5").is_file()
    assert json.loads((run_dir / "metrics.json").read_text())["epochs_run"] == EPOCHS


def test_a_second_ctrl_c_while_the_model_is_saved_leaves_no_partial_file(tmp_path):
    from colorize.config import TrainConfig
    from colorize.training.runfolder import save_final_model

    class InterruptedWhileSaving:
        """Stands in for a Keras model whose save is cut short by Ctrl-C once the file is half written."""

        def save(self, path):
            Path(path).write_bytes(b"PK\x03\x04 half a zip")   # what a cut-off save leaves
            raise KeyboardInterrupt

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with pytest.raises(KeyboardInterrupt):
        save_final_model(InterruptedWhileSaving(), TrainConfig(save_best=False), run_dir)
    assert list(run_dir.iterdir()) == []


# --- silencing TensorFlow's native stderr never hides a fatal error (issue 14) ---------------

FAKE_TENSORFLOW = '''
import os
os.write(2, b"fake libtensorflow: libcudnn.so.9: cannot open shared object file\\n")
raise ImportError("libtensorflow_framework.so.2: undefined symbol")
'''


def test_a_failed_tensorflow_import_shows_what_it_wrote_to_stderr(tmp_path, color_folder):
    """A broken install writes its reason to fd 2 before the ImportError: the user and the log get it."""
    fake = tmp_path / "fake" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(FAKE_TENSORFLOW)
    output = tmp_path / "OUTPUT"
    result = run_colorize("train", "--data", str(color_folder), "--preset", "tiny", "--image-size", "32",
                          env={"PYTHONPATH": os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")]),
                               "COLORIZE_OUTPUT": str(output)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "libcudnn.so.9: cannot open shared object file" in result.stderr
    assert "Traceback" not in result.stderr
    log = (output / "colorize-error.log").read_text()
    assert "undefined symbol" in log and "libcudnn.so.9: cannot open shared object file" in log


def test_a_failed_first_step_shows_what_tensorflow_wrote_and_a_good_one_stays_quiet(capfd):
    from colorize.training.callbacks import QuietFirstStep
    from tiny_models import build_ab_model, keras_module

    keras = keras_module()

    class NativeLines(keras.callbacks.Callback):
        """Writes to fd 2 as TensorFlow's C++ logging does; fails in step `failing_step`, if any."""

        def __init__(self, failing_step=None):
            super().__init__()
            self.failing_step = failing_step

        def on_train_batch_begin(self, batch, logs=None):
            os.write(2, f"native line of step {batch}\n".encode())
            if batch == self.failing_step:
                raise RuntimeError("OOM when allocating tensor")

    model = build_ab_model()
    model.compile(optimizer="adam", loss=keras.losses.MeanAbsoluteError())
    lightness, ab = np.zeros((2, 8, 8, 1), np.float32), np.zeros((2, 8, 8, 2), np.float32)
    capfd.readouterr()
    with QuietFirstStep() as quiet:
        model.fit(lightness, ab, batch_size=1, epochs=1, callbacks=[quiet, NativeLines()], verbose=0)
    shown = capfd.readouterr().err
    assert "native line of step 1" in shown and "native line of step 0" not in shown

    with pytest.raises(RuntimeError, match="OOM") as raised:
        with QuietFirstStep() as quiet:
            model.fit(lightness, ab, batch_size=1, epochs=1, callbacks=[quiet, NativeLines(failing_step=0)],
                      verbose=0)
    assert "native line of step 0" in capfd.readouterr().err
    assert any("native line of step 0" in note for note in getattr(raised.value, "__notes__", []))
