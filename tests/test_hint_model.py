"""A model that takes hints as input (models/hint_model.py): grown from the shipped model, its colour
without hints stays the shipped model's exactly; it saves and loads (.keras and .h5); `predict` feeds it
the hints; `train` refuses to continue it in one line; the training script runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import colorful_image, run_colorize, save_image

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped_and_grown():
    """The shipped model and a hint model grown from it whose branch is not at its zero start."""
    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    from colorize.models.hint_model import BRANCH_PREFIX, grow_hint_model
    from colorize.models.modelfile import load_model_file, resolve_model_path

    base = load_model_file(resolve_model_path("default"))
    grown = grow_hint_model(base)
    generator = np.random.default_rng(0)
    for layer in grown.layers:   # as if trained: every branch weight non-zero
        if layer.name.startswith(BRANCH_PREFIX) and layer.weights:
            layer.set_weights([generator.normal(0, 0.05, weight.shape).astype(np.float32)
                               for weight in layer.get_weights()])
    return base, grown


def planes(height: int, width: int, with_hint: bool) -> tuple[np.ndarray, np.ndarray]:
    ab, mask = np.zeros((1, height, width, 2), np.float32), np.zeros((1, height, width, 1), np.float32)
    if with_hint:
        ab[0, 10:13, 20:23] = (0.5, 0.3)
        mask[0, 10:13, 20:23] = 1.0
    return ab, mask


def test_without_hints_the_grown_model_gives_the_shipped_colours_exactly(shipped_and_grown):
    base, grown = shipped_and_grown
    lightness = np.random.default_rng(1).uniform(-1, 1, (1, 64, 96, 1)).astype(np.float32)
    automatic = base.predict(lightness, verbose=0)
    np.testing.assert_array_equal(grown.predict([lightness, *planes(64, 96, False)], verbose=0), automatic)
    hinted = grown.predict([lightness, *planes(64, 96, True)], verbose=0)
    assert np.abs(hinted - automatic).max() > 1e-3    # the branch speaks once there is a hint


def test_only_the_branch_trains(shipped_and_grown):
    from colorize.models.hint_model import BRANCH_PREFIX

    _, grown = shipped_and_grown
    trainable = {weight.path.split("/")[0] for weight in grown.trainable_weights}
    assert trainable and all(name.startswith(BRANCH_PREFIX) for name in trainable)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_hint_model_saves_and_loads(shipped_and_grown, tmp_path, suffix):
    from colorize.models.hint_model import has_hint_inputs
    from colorize.models.modelfile import inspect_model, load_model_file

    _, grown = shipped_and_grown
    path = tmp_path / f"hint{suffix}"
    grown.save(path)
    loaded = load_model_file(path)
    assert has_hint_inputs(loaded) and inspect_model(loaded).size_multiple == 32
    lightness = np.zeros((1, 64, 64, 1), np.float32)
    np.testing.assert_allclose(loaded.predict([lightness, *planes(64, 64, True)], verbose=0),
                               grown.predict([lightness, *planes(64, 64, True)], verbose=0), atol=1e-5)


def test_predict_feeds_the_hints_to_a_hint_model(shipped_and_grown, tmp_path):
    base, grown = shipped_and_grown
    grown.save(tmp_path / "hint.keras")
    save_image(tmp_path / "photo.png", colorful_image(128, 96, seed=3).mean(axis=2).astype(np.uint8))
    (tmp_path / "points.json").write_text(json.dumps({"points": [{"x": 40, "y": 30, "color": "#c0302a"}]}))
    runs = {"shipped": ("--model", "default"), "grown": ("--model", str(tmp_path / "hint.keras")),
            "grown hinted": ("--model", str(tmp_path / "hint.keras"), "--hints", str(tmp_path / "points.json"))}
    results = {}
    for name, options in runs.items():
        output = tmp_path / name.replace(" ", "-")
        done = run_colorize("predict", *options, "--input", str(tmp_path / "photo.png"), "--output", str(output))
        assert done.returncode == 0, done.stderr
        results[name] = np.asarray(Image.open(next(output.rglob("photo.png"))), np.int16)
    np.testing.assert_array_equal(results["grown"], results["shipped"])
    assert np.abs(results["grown hinted"] - results["grown"]).mean() > 0.5


def test_where_to_hint_asks_a_hint_model_without_hints(shipped_and_grown, tmp_path):
    _, grown = shipped_and_grown
    grown.save(tmp_path / "hint.keras")
    save_image(tmp_path / "photo.png", colorful_image(128, 96, seed=4).mean(axis=2).astype(np.uint8))
    done = run_colorize("predict", "--model", str(tmp_path / "hint.keras"), "--input", str(tmp_path / "photo.png"),
                        "--where-to-hint", "--output", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    advice = json.loads(next((tmp_path / "out").rglob("where-to-hint/photo.json")).read_text())
    assert advice["points"]


def test_train_refuses_to_continue_a_hint_model_in_one_line(shipped_and_grown, tmp_path, color_folder):
    _, grown = shipped_and_grown
    grown.save(tmp_path / "hint.keras")
    done = run_colorize("train", "--data", str(color_folder), "--model", str(tmp_path / "hint.keras"),
                        "--epochs", "1", "--image-size", "64", "--output", str(tmp_path / "out"))
    assert done.returncode == 1
    assert "hint model" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_training_script_trains_the_branch_and_saves_a_hint_model(tmp_path):
    output = tmp_path / "hint.keras"
    done = subprocess.run([sys.executable, str(REPO / "tools/models/train_hint_model.py"), "--steps", "2",
                           "--image-size", "64", "--batch-size", "2", "--output", str(output)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "images/s" in done.stdout and output.is_file()
