"""`evaluate` through the real CLI, with tiny Keras models saved as .keras files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import colorful_image, run_colorize, save_image

FIGURES = {"psnr", "ssim", "colorfulness", "colorfulness_gt", "delta_colorfulness", "auc", "auc_rebalanced"}


def save_tiny_model(path: Path, zero_output: bool) -> Path:
    """Save a two-layer ab model; with zero_output it predicts ab = 0 (i.e. gray) everywhere."""
    import keras

    keras.utils.set_random_seed(0)
    gray_l = keras.Input((None, None, 1), name="gray_l")
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="features")(gray_l)
    initializer = "zeros" if zero_output else "glorot_uniform"
    ab = keras.layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab",
                             kernel_initializer=initializer, bias_initializer="zeros")(features)
    keras.Model(gray_l, ab).save(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {"gray": save_tiny_model(folder / "gray.keras", zero_output=True),
            "random": save_tiny_model(folder / "random.keras", zero_output=False)}


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Five colour photos of different sizes, one of them a JPEG."""
    folder = tmp_path_factory.mktemp("photos")
    for index, (width, height) in enumerate([(32, 32), (48, 36), (40, 56), (33, 45)]):
        save_image(folder / f"photo{index}.png", colorful_image(width, height, seed=index))
    save_image(folder / "photo4.jpg", colorful_image(64, 48, seed=9), quality=95)
    return folder


def test_json_has_every_figure_and_the_gray_baseline_is_what_it_should_be(models, photos, tmp_path):
    out = tmp_path / "out"
    result = run_colorize("evaluate", "--model", str(models["gray"]), "--data", str(photos),
                          "--json", "--output", str(out), "--run-name", "check")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)   # stdout is exactly one JSON object
    assert FIGURES | {"images", "gray_baseline", "grids", "model", "data"} <= set(report)
    assert report["images"] == 5
    baseline = report["gray_baseline"]
    assert FIGURES <= set(baseline)
    assert baseline["colorfulness"] == 0.0
    assert math.isfinite(baseline["psnr"]) and 5.0 < baseline["psnr"] < 40.0
    assert baseline["delta_colorfulness"] == pytest.approx(baseline["colorfulness_gt"])
    assert baseline["colorfulness_gt"] > 50.0   # the photos are vivid
    assert 0.0 < baseline["auc_rebalanced"] < 1.0
    # A model that predicts ab = 0 is the gray baseline: the figures must agree.
    for name in FIGURES:
        assert report[name] == pytest.approx(baseline[name], abs=0.02), name
    assert report["grids"] and all(Path(grid).is_file() for grid in report["grids"])
    assert all(Path(grid).parent == out / "results" / "check" for grid in report["grids"])
    saved = json.loads((out / "results" / "check" / "evaluation.json").read_text())
    assert saved["psnr"] == report["psnr"]


def test_table_compares_the_model_with_the_gray_baseline(models, photos, tmp_path):
    result = run_colorize("evaluate", "--model", str(models["random"]), "--data", str(photos),
                          "--limit", "2", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "gray baseline" in result.stdout
    for label in ("PSNR (dB)", "SSIM", "colourfulness gap", "AuC rebalanced"):
        assert label in result.stdout
    assert "the gray baseline on" in result.stdout    # the verdict line
    grids = list((tmp_path / "out" / "results").glob("*/evaluate-*.png"))
    assert len(grids) == 1   # two photos fit on one page
    saved = json.loads(next((tmp_path / "out" / "results").glob("*/evaluation.json")).read_text())
    assert saved["images"] == 2
    assert saved["colorfulness"] > 0.0 and saved["gray_baseline"]["colorfulness"] == 0.0


def one_line_error(result) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_bad_model_file_is_one_line_error(photos, tmp_path):
    fake = tmp_path / "model.keras"
    fake.write_text("not a model")
    message = one_line_error(run_colorize("evaluate", "--model", str(fake), "--data", str(photos),
                                          "--output", str(tmp_path / "out")))
    assert "model.keras" in message
    assert not (tmp_path / "out" / "results").exists() or not any((tmp_path / "out" / "results").iterdir())


def test_missing_model_and_missing_data_are_one_line_errors(models, photos, tmp_path):
    message = one_line_error(run_colorize("evaluate", "--model", str(tmp_path / "nope.keras"),
                                          "--data", str(photos), "--json"))
    assert "nope.keras" in message
    one_line_error(run_colorize("evaluate", "--model", str(models["gray"]), "--data", str(tmp_path / "absent")))


def test_data_without_colour_photos_is_refused(models, tmp_path):
    gray = np.repeat(colorful_image(40, 40)[..., :1], 3, axis=2)
    save_image(tmp_path / "bw" / "old.png", gray)
    save_image(tmp_path / "bw" / "tiny.png", colorful_image(8, 8))
    (tmp_path / "bw" / "notes.txt").write_text("hello")
    message = one_line_error(run_colorize("evaluate", "--model", str(models["gray"]),
                                          "--data", str(tmp_path / "bw"), "--json"))
    assert "No usable colour photos" in message


def test_grid_columns_are_checked():
    from colorize.errors import UsageError
    from colorize.evaluate import parse_grid_columns

    assert parse_grid_columns("original, colorized,gray") == ["original", "colorized", "gray"]
    with pytest.raises(UsageError, match="sepia"):
        parse_grid_columns("original,sepia")


def test_test_size_scores_only_the_split_that_train_held_out(models, photos, tmp_path):
    result = run_colorize("evaluate", "--model", str(models["gray"]), "--data", str(photos), "--json",
                          "--test-size", "2", "--seed", "7", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["images"] == 2
    assert "test split of 2, seed 7" in result.stderr, result.stderr


@pytest.mark.slow  # ~20 s: 42 photos at up to 512 px, model and gray baseline scored
def test_the_shipped_model_meets_issue_7s_bar_on_the_photos_held_out_of_its_training(tmp_path):
    """The figures data/models/README.md reports, kept true: PSNR above the gray baseline,
    SSIM not below it, colourfulness gap at most half the baseline's."""
    result = run_colorize("evaluate", "--model", "default", "--data", "default", "--test-size", "42",
                          "--seed", "42", "--json", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    gray = report["gray_baseline"]
    assert report["images"] == 42
    assert report["psnr"] > gray["psnr"]
    assert report["ssim"] >= gray["ssim"]
    assert report["delta_colorfulness"] <= 0.5 * gray["delta_colorfulness"]
