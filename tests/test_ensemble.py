"""Ensembles: several real tiny Keras models combined in predict and evaluate (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize.config import EvaluateConfig, PredictConfig
from colorize.inference.ensemble import EnsembleColorizer, combine_chroma
from colorize.errors import UsageError
from colorize.inference.colorizer import Colorizer
from conftest import colorful_image, run_colorize, save_image
from tiny_models import build_ab_model, build_rgb_model, save_model

SIZES = [(40, 56), (33, 45), (64, 48)]   # (width, height): odd sides, so working sizes differ per model


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> dict[str, Path]:
    """Two different ab models (size multiples 2 and 8), an RGB model, and a file that is no model."""
    folder = tmp_path_factory.mktemp("models")
    not_a_model = folder / "notes.keras"
    not_a_model.write_text("not a model")
    return {"a": save_model(build_ab_model(levels=1, ab_gain=0.4, seed=1), folder / "a.keras"),
            "b": save_model(build_ab_model(levels=3, ab_gain=0.4, seed=2), folder / "b.keras"),
            "rgb": save_model(build_rgb_model(size=32), folder / "rgb.h5"),
            "bad": not_a_model,
            "rgb_in": save_model(rgb_input_model(), folder / "rgb_in.keras")}


def rgb_input_model():
    """Return a real Keras model that takes RGB, not gray: not a colorize colouriser."""
    from tiny_models import keras_module

    keras = keras_module()
    inputs = keras.Input((None, None, 3))
    return keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs))


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for index, (width, height) in enumerate(SIZES):
        save_image(folder / f"photo{index}.png", colorful_image(width, height, seed=index))
    return folder


# --- the combination on known arrays ---------------------------------------------------

def test_opposite_hues_average_to_gray_but_keep_gives_the_members_chroma():
    red, green = np.full((4, 5, 2), [30.0, 0.0], np.float32), np.full((4, 5, 2), [-30.0, 0.0], np.float32)
    assert np.allclose(combine_chroma([red, green], "mean"), 0.0)
    kept = combine_chroma([red, green], "keep")
    assert np.allclose(np.hypot(kept[..., 0], kept[..., 1]), 30.0)


def test_keep_has_the_mean_hue_and_the_mean_chroma():
    first = np.full((2, 2, 2), [40.0, 0.0], np.float32)     # hue 0 degrees, chroma 40
    second = np.full((2, 2, 2), [0.0, 20.0], np.float32)    # hue 90 degrees, chroma 20
    mean = combine_chroma([first, second], "mean")
    assert np.allclose(mean, [20.0, 10.0])
    kept = combine_chroma([first, second], "keep")
    assert np.allclose(np.hypot(kept[..., 0], kept[..., 1]), 30.0)            # (40 + 20) / 2
    assert np.allclose(np.arctan2(kept[..., 1], kept[..., 0]), np.arctan2(10.0, 20.0))
    gray = np.zeros((2, 2, 2), np.float32)
    assert np.allclose(combine_chroma([gray, gray], "keep"), 0.0)


@pytest.mark.parametrize("combine", ["keep", "mean"])
def test_an_ensemble_of_one_model_twice_is_that_model(model_files, combine):
    single = Colorizer.from_path(model_files["a"])
    ensemble = EnsembleColorizer([single, Colorizer.from_path(model_files["a"])], combine)
    image = colorful_image(61, 47, seed=3)
    assert np.abs(ensemble.colorize(image).astype(int) - single.colorize(image).astype(int)).max() <= 1


def test_members_of_different_size_multiples_give_the_input_size(model_files):
    ensemble = Colorizer.from_paths([model_files["a"], model_files["b"], model_files["rgb"]], "keep")
    assert isinstance(ensemble, EnsembleColorizer) and len(ensemble.members) == 3
    for width, height in [(61, 47), (5, 300)]:
        assert ensemble.colorize(colorful_image(width, height)).shape == (height, width, 3)
    combined, members = ensemble.colorize_with_members(colorful_image(61, 47))
    assert combined.shape == (47, 61, 3) and [member.shape for member in members] == [(47, 61, 3)] * 3


def test_configs_take_one_model_or_several():
    assert PredictConfig(input="x").models == ("default",)
    assert PredictConfig(model="m.keras", input="x").models == ("m.keras",)
    several = EvaluateConfig(models=("a.keras", "b.keras"), data="x")
    assert several.model == "a.keras" and several.models == ("a.keras", "b.keras")
    with pytest.raises(UsageError):
        EvaluateConfig(models=("a.keras",), data="x", ensemble_chroma="median")


# --- the commands, in real subprocesses --------------------------------------------------

def test_predict_with_two_models_writes_every_photo_at_its_size(model_files, photos, tmp_path):
    out = tmp_path / "out"
    result = run_colorize("predict", "--model", str(model_files["a"]), "--model", str(model_files["b"]),
                          "--input", str(photos), "--output", str(out), "--saturation", "1.5")
    assert result.returncode == 0, result.stderr
    for index, (width, height) in enumerate(SIZES):
        with Image.open(out / f"photo{index}.png") as written:
            assert written.size == (width, height)


def test_evaluate_json_has_the_ensemble_and_each_member(model_files, photos, tmp_path):
    models = [str(model_files["a"]), str(model_files["b"])]
    result = run_colorize("evaluate", "--model", models[0], "--model", models[1], "--data", str(photos),
                          "--ensemble-chroma", "mean", "--json", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    figures = {"psnr", "ssim", "colorfulness", "delta_colorfulness", "auc", "auc_rebalanced",
               "hue_recall", "green_recall"}
    assert figures | {"images", "gray_baseline", "grids", "model", "models", "members"} <= set(report)
    assert report["images"] == len(SIZES) and report["ensemble_chroma"] == "mean"
    assert report["models"] == [str(Path(model).resolve()) for model in models]
    assert [member["model"] for member in report["members"]] == report["models"]
    for member in report["members"]:
        assert figures <= set(member) and member["images"] == len(SIZES)
    assert report["psnr"] not in {member["psnr"] for member in report["members"]}   # the ensemble's own


def test_evaluate_table_has_a_column_per_model_and_the_ensemble(model_files, photos, tmp_path):
    result = run_colorize("evaluate", "--model", str(model_files["a"]), "--model", str(model_files["b"]),
                          "--data", str(photos), "--limit", "1", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "gray baseline" in line)
    assert header.split() == ["model", "1", "model", "2", "ensemble", "gray", "baseline"]
    assert f"model 2: {model_files['b'].resolve()}" in result.stdout
    assert "The ensemble" in result.stdout


@pytest.mark.parametrize("case", ["missing", "not a model", "not a colouriser", "twice"])
def test_bad_models_among_several_are_one_line(model_files, photos, tmp_path, case):
    second = {"missing": str(tmp_path / "gone.keras"), "not a model": str(model_files["bad"]),
              "not a colouriser": str(model_files["rgb_in"]), "twice": str(model_files["a"])}[case]
    result = run_colorize("predict", "--model", str(model_files["a"]), "--model", second,
                          "--input", str(photos), "--output", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = {"missing": "not found", "not a model": "not a usable model",
               "not a colouriser": "needs a gray image", "twice": "given twice"}[case]
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out").exists()   # refused before any output
