"""Self-training (`train --teacher --unlabeled --rounds`) end to end through the real CLI.

Real parts only: the teacher is a tiny Keras model saved to disk, the photos
without colour are gray PNGs in a folder, every run is a subprocess of
`python -m colorize`. The loader's mix and the losses' per-pixel weights are
checked on their own; the slow test kills round 2 and continues it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import colorful_image, run_colorize, save_image, wait_for_backup
from tiny_models import build_ab_model, build_rgb_model, save_model

TINY = ("--preset", "tiny", "--image-size", "32", "--batch-size", "16", "--test-size", "2")


def make_world(root: Path) -> dict:
    """Colour photos, an album of gray photos and a saved tiny teacher under `root`; return their paths."""
    for index in range(12):
        save_image(root / "colour" / f"img{index:02d}.png", colorful_image(40, 36, seed=index))
    for index in range(4):
        save_image(root / "album" / f"old{index}.png", colorful_image(44, 40, seed=50 + index)[..., 1])
    teacher = save_model(build_ab_model(levels=1), root / "teacher.keras")
    return {"root": root, "colour": root / "colour", "album": root / "album", "teacher": teacher,
            "output": root / "OUTPUT"}


def self_train_args(world: dict, *extra: str) -> list[str]:
    return ["train", "--data", str(world["colour"]), *TINY, "--output", str(world["output"]),
            "--teacher", str(world["teacher"]), "--unlabeled", str(world["album"]), *extra]


@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory) -> dict:
    """A finished self-training of two 1-epoch rounds, shared by the checks below."""
    world = make_world(tmp_path_factory.mktemp("selftrain"))
    process = run_colorize(*self_train_args(world, "--rounds", "2", "--epochs", "1", "--run-name", "album"),
                           cwd=world["root"])
    assert process.returncode == 0, process.stdout + process.stderr
    return {**world, "process": process, "models": world["output"] / "models"}


def test_each_round_is_a_whole_run_taught_by_the_round_before(two_rounds):
    models = two_rounds["models"]
    assert sorted(path.name for path in models.iterdir()) == ["album", "album-round-1", "album-round-2"]
    for number in (1, 2):
        run_dir = models / f"album-round-{number}"
        for name in ("model.keras", "config.json", "history.csv", "summary.txt", "curves.png", "metrics.json"):
            assert (run_dir / name).is_file(), (number, name)
    first = json.loads((models / "album-round-1" / "config.json").read_text())["settings"]
    second = json.loads((models / "album-round-2" / "config.json").read_text())["settings"]
    assert Path(first["teacher"]) == two_rounds["teacher"]
    assert Path(second["teacher"]) == models / "album-round-1" / "model.keras"


def test_the_rounds_report_shows_the_teacher_and_every_round(two_rounds):
    folder = two_rounds["models"] / "album"
    record = json.loads((folder / "rounds.json").read_text())
    assert [entry["round"] for entry in record["rounds"]] == [1, 2]
    assert record["teacher_figures"]["images"] == 2 and "gray_baseline" in record["teacher_figures"]
    for entry in record["rounds"]:
        assert entry["metrics"]["images"] == 2 and 0.0 <= entry["metrics"]["hue_recall"] <= 1.0
    summary = (folder / "summary.txt").read_text()
    for label in ("teacher", "round 1", "round 2", "gray"):
        assert f"\n{label} " in summary, label
    assert (folder / "rounds.png").stat().st_size > 1000
    stdout = two_rounds["process"].stdout
    assert "Round 2 of 2: the teacher album-round-1/model.keras colourises 4 photos" in stdout
    assert "The teacher and each round's student" in stdout and "round 2" in stdout


def test_pseudo_labels_are_the_albums_photos_in_the_teachers_colour(two_rounds):
    import keras

    from colorize.dataset import color

    teacher = keras.saving.load_model(two_rounds["teacher"], compile=False)   # round 1's teacher
    labels = sorted((two_rounds["models"] / "album" / "pseudo-labels-round-1").glob("*.png"))
    assert [label.name.split("-", 1)[1] for label in labels] == [f"old{index}.png" for index in range(4)]
    for label_path in labels:
        with Image.open(label_path) as label:
            assert label.mode == "RGBA" and min(label.size) == 64   # the shorter side at 2x the 32 px crop
            label_lab = color.rgb_to_lab(np.asarray(label)[..., :3])
        with Image.open(two_rounds["album"] / label_path.name.split("-", 1)[1]) as photo:
            photo_l = color.rgb_to_lab(np.asarray(photo.convert("RGB").resize(label.size, Image.BILINEAR)))[..., 0]
        assert np.abs(label_lab[..., 0] - photo_l).mean() < 2.0, label_path.name      # the album's photo
        teacher_ab = color.denormalize_ab(
            teacher.predict(color.normalize_l(label_lab[..., 0])[None, ..., None], verbose=0)[0])
        # the label's ab is the teacher's own for this L, up to smoothing and 8-bit RGB (about 1.5
        # units here); another photo's prediction is 6-21 away, a gray label about 11
        assert np.linalg.norm(label_lab[..., 1:], axis=-1).mean() > 5.0, label_path.name
        assert np.abs(label_lab[..., 1:] - teacher_ab).mean() < 3.0, label_path.name


# --- bad input: one line each, before any work ------------------------------------------

def assert_refused_before_work(process: subprocess.CompletedProcess, output: Path, words: str) -> None:
    assert process.returncode == 1, process.stdout + process.stderr      # a ColorizeError, not a crash
    assert "Traceback" not in process.stdout + process.stderr
    error_lines = [line for line in process.stderr.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1 and words in error_lines[0], process.stderr
    assert not (output / "models").exists(), "work started before the refusal"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    return make_world(tmp_path_factory.mktemp("bad-input"))


def test_a_teacher_that_is_not_a_colouriser_is_one_line(world):
    text = world["root"] / "notes.keras"
    text.write_text("not a model")
    rgb = save_model(build_rgb_model(), world["root"] / "rgb.keras")
    for teacher, words in ((text, "notes.keras"), (rgb, "rgb.keras"), (world["root"] / "nowhere.keras", "nowhere")):
        args = self_train_args(world, "--epochs", "1")
        args[args.index("--teacher") + 1] = str(teacher)
        assert_refused_before_work(run_colorize(*args), world["output"], words)


def test_an_album_without_usable_photos_is_one_line(world):
    empty = world["root"] / "letters"
    empty.mkdir()
    (empty / "letter.txt").write_text("dear grandma")
    args = self_train_args(world, "--epochs", "1")
    args[args.index("--unlabeled") + 1] = str(empty)
    assert_refused_before_work(run_colorize(*args), world["output"], "No usable photos")


@pytest.mark.parametrize("extra, words", [
    (("--rounds", "0"), "Rounds must be at least 1"),
    (("--rounds", "-2"), "Rounds must be at least 1"),
    (("--unlabeled-share", "1.5"), "unlabeled share"),
    (("--preset", "cpu", "--image-size", "36"), "does not fit the 'cpu' model"),
])
def test_settings_that_cannot_work_are_one_line(world, extra, words):
    assert_refused_before_work(run_colorize(*self_train_args(world, "--epochs", "1", *extra)),
                               world["output"], words)


def test_a_teacher_without_an_album_or_an_album_without_a_teacher_is_one_line(world):
    output = world["output"]
    alone = run_colorize("train", "--data", str(world["colour"]), *TINY, "--output", str(output),
                         "--teacher", str(world["teacher"]))
    assert_refused_before_work(alone, output, "--unlabeled PATH")
    orphan = run_colorize("train", "--data", str(world["colour"]), *TINY, "--output", str(output),
                          "--unlabeled", str(world["album"]))
    assert_refused_before_work(orphan, output, "--teacher MODEL")


# --- the parts on their own -------------------------------------------------------------

def test_the_student_data_mixes_true_colour_at_weight_1_with_the_teachers_confidence(tmp_path):
    from colorize.dataset import scan_dataset
    from colorize.dataset.loader import make_student_dataset

    world = make_world(tmp_path)
    label = np.zeros((64, 64, 4), np.uint8)
    label[..., :3], label[..., 3] = (200, 60, 40), 51      # a red pseudo-label trusted at 51/255 = 0.2
    path = tmp_path / "label.png"
    Image.fromarray(label, "RGBA").save(path)
    batches = make_student_dataset(scan_dataset(str(world["colour"])).ok, [path], 32, 32,
                                   unlabeled_share=0.25, seed=3)
    lightness, target = next(iter(batches))
    assert lightness.shape == (32, 32, 32, 1) and target.shape == (32, 32, 32, 3)
    weights = np.unique(np.round(target.numpy()[..., 2], 3))
    assert np.allclose(weights, [0.2, 1.0])
    pseudo = np.isclose(target.numpy()[..., 2].mean(axis=(1, 2)), 0.2, atol=1e-3)
    assert 0 < pseudo.sum() < 32                           # both kinds in one batch, at random
    assert np.all(target.numpy()[pseudo][..., 0] > 0.2)    # the red pseudo-label's a stays red
    unweighted = make_student_dataset(scan_dataset(str(world["colour"])).ok, [path], 32, 32,
                                      unlabeled_share=0.25, seed=3, weighted=False)
    assert np.allclose(next(iter(unweighted))[1].numpy()[..., 2], 1.0, atol=1e-3)   # --pseudo-label-weights none


def test_the_losses_weigh_each_pixel_by_the_third_channel():
    from tiny_models import keras_module

    keras = keras_module()
    import tensorflow as tf

    from colorize.models.ab_classes import AbClassLoss
    from colorize.models.model import PixelWeightedL1

    rng = np.random.default_rng(0)
    ab = rng.uniform(-0.5, 0.5, (2, 8, 8, 2)).astype(np.float32)
    predicted = rng.uniform(-0.5, 0.5, (2, 8, 8, 2)).astype(np.float32)
    ones, half_zero = np.ones((2, 8, 8, 1), np.float32), np.ones((2, 8, 8, 1), np.float32)
    half_zero[0] = 0.0
    l1 = PixelWeightedL1()
    assert np.isclose(float(l1(np.concatenate([ab, ones], -1), predicted)),
                      float(keras.losses.MeanAbsoluteError()(ab, predicted)), rtol=1e-5)
    assert np.isclose(float(l1(np.concatenate([ab, half_zero], -1), predicted)),
                      float(l1(ab[1:], predicted[1:])) / 2, rtol=1e-5)
    centres = np.array([[0.0, 0.0], [30.0, 0.0], [0.0, 30.0]], np.float32)
    classes = AbClassLoss(centres, np.ones(3, np.float32), head_stride=4)
    logits = tf.constant(rng.normal(size=(2, 2, 2, 3)).astype(np.float32))
    unweighted = float(classes(ab, logits))
    assert np.isclose(float(classes(np.concatenate([ab, ones], -1), logits)), unweighted, rtol=1e-5)
    assert np.isclose(float(classes(np.concatenate([ab, half_zero], -1), logits)),
                      float(classes(ab[1:], logits[1:])) / 2, rtol=1e-5)


# --- slow: a kill in round 2 resumes in round 2 ---------------------------------------------

@pytest.mark.slow
def test_a_kill_in_round_2_resumes_in_round_2(tmp_path):
    world = make_world(tmp_path)
    args = self_train_args(world, "--rounds", "2", "--epochs", "4", "--run-name", "killed")
    env = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "colorize", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    models = world["output"] / "models"
    wait_for_backup(process, models / "killed-round-2" / "backup")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    first_model = models / "killed-round-1" / "model.keras"
    first_written = first_model.stat().st_mtime_ns
    labels_written = {path: path.stat().st_mtime_ns for path in (models / "killed" / "pseudo-labels-round-2").glob("*")}

    again = run_colorize(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Continuing the self-training" in again.stdout and "at round 2" in again.stdout
    assert "Continuing the killed run" in again.stdout and "Round 1 of 2" not in again.stdout
    assert sorted(path.name for path in models.iterdir()) == ["killed", "killed-round-1", "killed-round-2"]
    assert first_model.stat().st_mtime_ns == first_written       # round 1 is kept, not trained again
    assert all(path.stat().st_mtime_ns == written for path, written in labels_written.items())
    record = json.loads((models / "killed" / "rounds.json").read_text())
    assert [entry["round"] for entry in record["rounds"]] == [1, 2]
    with open(models / "killed-round-2" / "history.csv") as handle:
        assert len(handle.read().strip().splitlines()) == 1 + 4    # every epoch once
