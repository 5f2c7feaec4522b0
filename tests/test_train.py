"""`train` end to end through the real CLI: tiny preset, a dozen 32x32 photos, 1-2 epochs.

One trained run (module fixture) is checked file by file; bad values must stop
before any training; the MirroredStrategy path runs on two logical CPU devices;
the slow tests kill a run (SIGKILL) and resume it, and stop one with Ctrl-C.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT, colorful_image, run_colorize, save_image, wait_for_backup

TINY = ("--preset", "tiny", "--image-size", "32")


def make_photos(folder: Path, count: int = 12) -> Path:
    """Save `count` different 32x32 colour PNGs into `folder`."""
    for index in range(count):
        save_image(folder / f"img{index:02d}.png", colorful_image(32, 32, seed=index))
    return folder


def history_rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def train_args(data: Path, output: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(data), *TINY, "--output", str(output), *extra]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> dict:
    """One finished 2-epoch run with --h5 and a fixed seed, shared by the checks below."""
    root = tmp_path_factory.mktemp("trained")
    data = make_photos(root / "photos")
    finished = run_colorize(*train_args(data, root / "OUTPUT", "--epochs", "2", "--test-size", "3",
                                        "--h5", "--seed", "7", "--run-name", "first"), cwd=root)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return {"root": root, "data": data, "process": finished,
            "run_dir": root / "OUTPUT" / "models" / "first", "results_dir": root / "OUTPUT" / "results" / "first"}


def test_train_writes_every_file_of_the_run_folder(trained_run):
    run_dir, output = trained_run["run_dir"], trained_run["process"].stdout
    for name in ("model.keras", "model.h5", "config.json", "history.csv", "summary.txt", "curves.png",
                 "metrics.json"):
        assert (run_dir / name).is_file() and (run_dir / name).stat().st_size > 0, name
    # Nothing half-done or temporary is left behind, and the backup of a finished run is gone.
    leftovers = {path.name for path in run_dir.iterdir()} - {
        "model.keras", "model.h5", "config.json", "history.csv", "summary.txt", "curves.png", "metrics.json",
        "model.png"}
    assert leftovers == set()
    assert (run_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (run_dir / "summary.txt").read_text()
    if not (run_dir / "model.png").exists():  # no Graphviz here: a note says how to get it
        assert "graphviz" in summary.lower() and "graphviz" in output.lower()
    assert "gray_l (InputLayer)" in summary and "Epochs run: 2 of 2" in summary
    assert "Training will take about" in output and "per epoch" in output
    assert str(run_dir / "model.keras") in output
    # On CPUs (this one too) the first training step logs a harmless oneDNN fallback as
    # "E0000 ... DT_INT32"; it reads like an error, so it is kept off the user's screen.
    assert "oneDNN supports DT_INT32" not in trained_run["process"].stderr


def test_history_config_and_metrics_are_sane(trained_run):
    run_dir = trained_run["run_dir"]
    rows = history_rows(run_dir)
    assert [int(row["epoch"]) for row in rows] == [0, 1]
    assert {"loss", "val_loss", "learning_rate"} <= set(rows[0])
    assert all(np.isfinite(float(row["loss"])) for row in rows)
    # The rate comes from Keras 3's ReduceLROnPlateau, which logs it before CSVLogger writes the row.
    from colorize.models.presets import preset_settings

    assert float(rows[0]["learning_rate"]) == pytest.approx(preset_settings("tiny")["learning_rate"])

    config = json.loads((run_dir / "config.json").read_text())
    assert config["seed"] == 7 and config["settings"]["seed"] == 7
    assert config["settings"]["epochs"] == 2 and config["settings"]["preset"] == "tiny"
    assert config["dataset"]["counts"]["ok"] == 12
    assert config["dataset"]["split"] == {"train": 7, "validation": 2, "test": 3}
    assert config["versions"]["tensorflow"] and config["versions"]["keras"]
    assert "CPU" in config["device"]["description"]
    assert not set(config["split_files"]["test"]) & set(config["split_files"]["train"])

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["images"] == 3 and metrics["interrupted"] is False
    for figure in ("psnr", "ssim", "colorfulness", "delta_colorfulness", "auc", "loss"):
        assert np.isfinite(metrics[figure]) and np.isfinite(metrics["gray_baseline"][figure]), figure
    grids = sorted(trained_run["results_dir"].glob("*.png"))
    assert grids and [str(path) for path in grids] == sorted(metrics["grids"])


def test_saved_keras_and_h5_load_back_and_predict_the_same(trained_run):
    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    import keras

    import colorize.models.model  # noqa: F401  registers the loss and metrics the compiled files name

    run_dir = trained_run["run_dir"]
    lightness = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    from_keras = keras.models.load_model(run_dir / "model.keras")
    # compile=True on purpose: the .h5 holds the loss; a string loss would not load (Keras 3: `Could not deserialize keras.metrics.mse`).
    from_h5 = keras.models.load_model(run_dir / "model.h5")
    assert from_h5.loss is not None
    prediction = from_keras.predict(lightness, verbose=0)
    assert prediction.shape == (2, 32, 32, 2)
    np.testing.assert_allclose(from_h5.predict(lightness, verbose=0), prediction, atol=1e-6)


def test_run_name_of_a_finished_run_gets_a_new_folder_and_a_backup_is_reused(tmp_path):
    from colorize.config import TrainConfig
    from colorize.training.runfolder import open_run_folder

    output = tmp_path / "OUTPUT"
    finished = output / "models" / "album"
    finished.mkdir(parents=True)
    (finished / "model.keras").write_bytes(b"finished")
    config = TrainConfig(run_name="album", output=str(output), preset="tiny", image_size=32)
    run_dir, epoch = open_run_folder(config)
    assert (run_dir.name, epoch) == ("album-2", 0)
    assert (finished / "model.keras").read_bytes() == b"finished"

    killed = output / "models" / "trip"
    (killed / "backup").mkdir(parents=True)
    (killed / "backup" / "latest.weights.h5").write_bytes(b"weights")
    (killed / "backup" / "training_metadata.json").write_text('{"epoch": 3, "batch": 0}')
    (killed / "history.csv").write_text("epoch,loss\n0,1\n1,1\n2,1\n3,1\n")  # epoch 3 logged, then killed
    run_dir, epoch = open_run_folder(TrainConfig(run_name="trip", output=str(output), preset="tiny",
                                                 image_size=32))
    assert (run_dir, epoch) == (killed, 3)
    assert [row["epoch"] for row in history_rows(killed)] == ["0", "1", "2"]


def test_bad_values_are_one_line_and_exit_1_before_training(tmp_path, capsys):
    from colorize.frontends.cli import main
    from tiny_models import build_rgb_model

    data = make_photos(tmp_path / "photos")
    output = tmp_path / "OUTPUT"
    # One real subprocess (exit code and stderr as a user sees them) ...
    process = run_colorize(*train_args(data, output, "--epochs", "0"), cwd=tmp_path)
    assert process.returncode == 1
    assert process.stderr.strip().splitlines() == ["Error: Epochs must be at least 1 (got 0)."]
    # ... the rest through the same CLI entry point in-process (TensorFlow imports once).
    rgb_model = tmp_path / "rgb.keras"
    build_rgb_model(32).save(rgb_model)
    cases = {
        ("--monitor", "accuracy"): "Unknown monitor 'accuracy'",
        ("--image-size", "33"): "does not fit the 'tiny' model",
        ("--train-size", "50"): "usable",
        ("--preset", "huge"): "Unknown preset 'huge'",
        ("--model", str(tmp_path / "missing.keras")): "does not exist",
        ("--model", str(rgb_model)): "predicts rgb colour",
    }
    for flags, message in cases.items():
        capsys.readouterr()
        assert main(train_args(data, output, "--epochs", "1", *flags)) == 1, flags
        error_lines = capsys.readouterr().err.strip().splitlines()
        assert len(error_lines) == 1 and message in error_lines[0], (flags, error_lines)
    assert not (output / "models").exists() or not any((output / "models").iterdir())


TWO_DEVICE_SCRIPT = """
import json, sys
import tensorflow as tf
# Two logical CPU devices must be configured before TensorFlow initialises.
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from colorize.config import TrainConfig
from colorize.training.train import train_model
config = TrainConfig(data=sys.argv[1], output=sys.argv[2], epochs=1, test_size=0, image_size=32,
                     batch_size=4, preset="tiny", strategy="mirrored", run_name="mirrored")
result = train_model(config, notify=print)
print(json.dumps({"model": str(result.model_path), "interrupted": result.interrupted}))
"""


def test_mirrored_strategy_trains_on_two_logical_cpu_devices(tmp_path):
    data = make_photos(tmp_path / "photos")
    process = subprocess.run([sys.executable, "-c", TWO_DEVICE_SCRIPT, str(data), str(tmp_path / "OUTPUT")],
                             capture_output=True, text=True, timeout=600, cwd=REPO_ROOT,
                             env=dict(os.environ, NO_COLOR="1"))
    assert process.returncode == 0, process.stdout + process.stderr
    assert "MirroredStrategy over 2 replicas" in process.stdout
    result = json.loads(process.stdout.strip().splitlines()[-1])
    assert Path(result["model"]).is_file() and result["interrupted"] is False
    config = json.loads((Path(result["model"]).parent / "config.json").read_text())
    assert config["device"]["replicas"] == 2 and config["device"]["strategy"] == "MirroredStrategy"


# --- slow: killing, resuming, interrupting, fine-tuning ---------------------------------

def start_training(data: Path, output: Path, *extra: str) -> subprocess.Popen:
    """Start `python -m colorize train` in the background."""
    env = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "colorize", *train_args(data, output, *extra)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=output.parent)  # an error log, if any, lands beside the test's files


@pytest.mark.slow
def test_killed_run_resumes_where_it_stopped_with_the_same_command(tmp_path):
    data, output = make_photos(tmp_path / "photos"), tmp_path / "OUTPUT"
    command = ("--epochs", "30", "--test-size", "2", "--run-name", "resume")
    run_dir = output / "models" / "resume"
    process = start_training(data, output, *command)
    wait_for_backup(process, run_dir / "backup")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert (run_dir / "backup").is_dir() and not (run_dir / "model.keras").exists()
    epochs_before = len(history_rows(run_dir))

    again = run_colorize(*train_args(data, output, *command), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Continuing the killed run" in again.stdout
    assert sorted(path.name for path in (output / "models").iterdir()) == ["resume"]
    epochs = [int(row["epoch"]) for row in history_rows(run_dir)]
    assert epochs == list(range(30)) and epochs_before >= 1
    assert not (run_dir / "backup").exists() and (run_dir / "model.keras").is_file()


@pytest.mark.slow
def test_ctrl_c_stops_after_the_step_saves_and_reports(tmp_path):
    data, output = make_photos(tmp_path / "photos"), tmp_path / "OUTPUT"
    run_dir = output / "models" / "stopped"
    process = start_training(data, output, "--epochs", "1000", "--test-size", "2", "--run-name", "stopped")
    wait_for_backup(process, run_dir / "backup")
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=300)
    assert process.returncode == 130, stdout
    assert "stopped by Ctrl-C" in stdout and str(run_dir / "model.keras") in stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["interrupted"] is True and 1 <= metrics["epochs_run"] < 1000
    assert (run_dir / "summary.txt").is_file() and (run_dir / "curves.png").is_file()
    from colorize.models.modelfile import load_model_file

    assert load_model_file(run_dir / "model.keras").output_shape[-1] == 2


@pytest.mark.slow
def test_continue_training_from_a_saved_model(trained_run):
    root = trained_run["root"]
    first_model = trained_run["run_dir"] / "model.keras"
    process = run_colorize(*train_args(trained_run["data"], root / "OUTPUT", "--epochs", "1", "--test-size", "2",
                                       "--model", str(first_model), "--run-name", "first"), cwd=root)
    assert process.returncode == 0, process.stdout + process.stderr
    assert (root / "OUTPUT" / "models" / "first-2" / "model.keras").is_file()
    config = json.loads((root / "OUTPUT" / "models" / "first-2" / "config.json").read_text())
    assert config["settings"]["model"] == str(first_model)


def test_extra_data_trains_on_more_photos_and_keeps_the_split_of_data(trained_run, capsys):
    from colorize.frontends.cli import main

    root = trained_run["root"]
    extra = root / "more"
    for index in range(4):
        save_image(extra / "trip" / f"more{index}.png", colorful_image(32, 32, seed=100 + index))
    process = run_colorize(*train_args(trained_run["data"], root / "OUTPUT", "--epochs", "1", "--test-size", "3",
                                       "--seed", "7", "--extra-data", str(extra), "--run-name", "extra"), cwd=root)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "12 usable colour photos and 4 extra: 11 to train on" in process.stdout
    without = json.loads((trained_run["run_dir"] / "config.json").read_text())["split_files"]
    run_dir = root / "OUTPUT" / "models" / "extra"
    split = json.loads((run_dir / "config.json").read_text())["split_files"]
    # Validation and test are those of the run without extra photos; the extra ones only train.
    assert (split["validation"], split["test"]) == (without["validation"], without["test"])
    assert split["train"] == without["train"] + [f"trip/more{index}.png" for index in range(4)]
    assert f"4 extra training photos from {extra}" in (run_dir / "summary.txt").read_text()

    empty = root / "empty"
    (empty / "notes.txt").parent.mkdir()
    (empty / "notes.txt").write_text("not a photo")
    output = root / "OUTPUT"
    cases = [(root / "missing", output, "does not exist"), (empty, output, "No usable colour photo"),
             # --data itself, or a folder holding it, would train on the held-out photos
             (trained_run["data"], output, "include 12 of the photos"), (root, output, "include 12 of the photos"),
             (extra, extra / "OUTPUT", "inside")]   # the run folders would land among the extra photos
    for path, output, message in cases:
        capsys.readouterr()
        assert main(train_args(trained_run["data"], output, "--epochs", "1", "--extra-data", str(path),
                               "--run-name", "bad-extra")) == 1, path
        error_lines = capsys.readouterr().err.strip().splitlines()
        assert len(error_lines) == 1 and message in error_lines[0], (path, error_lines)
        assert not (output / "models" / "bad-extra").exists()


def test_split_seed_keeps_the_photos_of_a_run_while_the_seed_changes_the_training(trained_run):
    root = trained_run["root"]
    process = run_colorize(*train_args(trained_run["data"], root / "OUTPUT", "--epochs", "1", "--test-size", "3",
                                       "--seed", "8", "--split-seed", "7", "--run-name", "reseeded"), cwd=root)
    assert process.returncode == 0, process.stdout + process.stderr
    run_dir = root / "OUTPUT" / "models" / "reseeded"
    record = json.loads((run_dir / "config.json").read_text())
    assert record["split_files"] == json.loads((trained_run["run_dir"] / "config.json").read_text())["split_files"]
    assert (record["settings"]["seed"], record["settings"]["split_seed"]) == (8, 7)
    assert "seed 8 (split seed 7)" in (run_dir / "summary.txt").read_text()
    # Without --split-seed the seed makes the split: seed 8 alone holds out other photos.
    from colorize.config import TrainConfig
    from colorize.dataset import scan_dataset, split_dataset

    photos = scan_dataset(trained_run["data"]).ok
    assert TrainConfig(seed=8).effective_split_seed == 8
    assert split_dataset(photos, None, 3, 8).test != split_dataset(photos, None, 3, 7).test
