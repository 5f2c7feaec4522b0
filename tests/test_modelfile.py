"""Model files: our .keras/.h5, older RGB colourisers, and every way a file can be unusable."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from colorize.frontends import cli
from colorize.models import modelfile
from colorize.errors import ModelError
from colorize.models.modelfile import inspect_model, load_model_file, resolve_model_path
from tiny_models import build_ab_model, build_rgb_model, keras_module, save_model


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory) -> dict[str, Path]:
    """An ab model and an RGB model, each saved as .keras and .h5, plus weights only."""
    folder = tmp_path_factory.mktemp("models")
    ab_model, rgb_model = build_ab_model(levels=2), build_rgb_model(size=64)
    ab_model.save_weights(folder / "ab.weights.h5")
    return {
        "ab.keras": save_model(ab_model, folder / "ab.keras"),
        "ab.h5": save_model(ab_model, folder / "ab.h5"),
        "rgb.keras": save_model(rgb_model, folder / "rgb.keras"),
        "rgb.h5": save_model(rgb_model, folder / "rgb.h5"),
        "weights": folder / "ab.weights.h5",
    }


@pytest.mark.parametrize("name", ["ab.keras", "ab.h5"])
def test_ab_model_loads_and_needs_sides_divisible_by_its_poolings(saved_models, name):
    info = inspect_model(load_model_file(saved_models[name]))
    assert info == modelfile.ModelInfo(kind="ab", input_size=None, size_multiple=4)


@pytest.mark.parametrize("name", ["rgb.keras", "rgb.h5"])
def test_rgb_model_is_recognised_with_its_fixed_size(saved_models, name):
    info = inspect_model(load_model_file(saved_models[name]))
    assert info == modelfile.ModelInfo(kind="rgb", input_size=(64, 64), size_multiple=1)


def test_a_missing_default_model_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(modelfile, "DEFAULT_MODEL_PATH", tmp_path / "absent.keras")
    with pytest.raises(ModelError, match=r"shipped model is missing .*pip install -e \."):
        resolve_model_path("default")


def test_default_resolves_to_the_shipped_model(monkeypatch, saved_models):
    monkeypatch.setattr(modelfile, "DEFAULT_MODEL_PATH", saved_models["ab.keras"])
    assert resolve_model_path("default") == saved_models["ab.keras"]


def _tampered_keras(source: Path, target: Path, edit) -> Path:
    """Copy a .keras archive with its config.json passed through `edit` (bytes -> bytes)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for name in original.namelist():
            data = original.read(name)
            copy.writestr(name, edit(data) if name == "config.json" else data)
    return target


def _unknown_layer_class(data: bytes) -> bytes:
    config = json.loads(data)
    config["config"]["layers"][1]["class_name"] = "NoSuchLayer"
    return json.dumps(config).encode()


def _bad_model_files(saved_models: dict[str, Path], folder: Path) -> dict[str, tuple[Path, str]]:
    """Every kind of unusable model file, with the words its error must contain."""
    folder.mkdir(exist_ok=True)
    keras_bytes, h5_bytes = saved_models["ab.keras"].read_bytes(), saved_models["ab.h5"].read_bytes()
    files = {
        "missing": (folder / "absent.keras", "not found"),
        "folder": (folder, "is a folder"),
        "text": (folder / "notes.keras", "not a usable model"),
        "text_other_suffix": (folder / "notes.txt", "not a model file"),
        "random_h5": (folder / "random.h5", "not a usable model"),
        "random_keras": (folder / "random.keras", "not a usable model"),
        "truncated_keras": (folder / "truncated.keras", "not a usable model"),
        "truncated_h5": (folder / "truncated.h5", "not a usable model"),
        "weights_only": (saved_models["weights"], "weights only or incompatible"),
        "config_not_json": (folder / "garbled.keras", "not a usable model"),
        "config_unknown_layer": (folder / "unknown.keras", "not a usable model"),
    }
    (folder / "notes.keras").write_text("this is not a model\n")
    (folder / "notes.txt").write_text("this is not a model\n")
    (folder / "random.h5").write_bytes(os.urandom(4096))
    (folder / "random.keras").write_bytes(os.urandom(4096))
    (folder / "truncated.keras").write_bytes(keras_bytes[: len(keras_bytes) // 2])
    (folder / "truncated.h5").write_bytes(h5_bytes[: len(h5_bytes) // 2])
    _tampered_keras(saved_models["ab.keras"], folder / "garbled.keras", lambda data: b"{not json")
    _tampered_keras(saved_models["ab.keras"], folder / "unknown.keras", _unknown_layer_class)
    return files


BAD_CASES = ["missing", "folder", "text", "text_other_suffix", "random_h5", "random_keras",
             "truncated_keras", "truncated_h5", "weights_only", "config_not_json", "config_unknown_layer"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_unusable_model_file_gives_one_clear_line(saved_models, tmp_path, case):
    path, words = _bad_model_files(saved_models, tmp_path / "bad")[case]
    with pytest.raises(ModelError, match=words) as raised:
        load_model_file(resolve_model_path(str(path)))
    assert "\n" not in str(raised.value)


def _model_with(inputs, outputs):
    keras = keras_module()
    return keras.Model(inputs, outputs)


def _unusable_shape_models() -> dict[str, object]:
    keras = keras_module()
    color_in = keras.Input((None, None, 3))
    gray_a, gray_b = keras.Input((None, None, 1)), keras.Input((None, None, 1))
    half_fixed = keras.Input((64, None, 1))
    gray = keras.Input((None, None, 1))
    return {
        "three_channel_input": _model_with(color_in, keras.layers.Conv2D(2, 1)(color_in)),
        "four_channel_output": _model_with(gray, keras.layers.Conv2D(4, 1)(gray)),
        "two_inputs": _model_with([gray_a, gray_b], keras.layers.Concatenate()([gray_a, gray_b])),
        "one_side_fixed": _model_with(half_fixed, keras.layers.Conv2D(2, 1)(half_fixed)),
        "classifier": _model_with(gray, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(gray))),
    }


@pytest.mark.parametrize("case", ["three_channel_input", "four_channel_output", "two_inputs",
                                  "one_side_fixed", "classifier"])
def test_model_with_unusable_shapes_is_refused(tmp_path, case):
    path = save_model(_unusable_shape_models()[case], tmp_path / f"{case}.keras")
    with pytest.raises(ModelError, match="colorize needs") as raised:
        inspect_model(load_model_file(path))
    assert "\n" not in str(raised.value)


def test_safe_mode_refuses_a_model_that_carries_python_code(tmp_path):
    keras = keras_module()
    gray = keras.Input((None, None, 1))
    model = keras.Model(gray, keras.layers.Lambda(lambda tensor: tensor * 2.0)(keras.layers.Conv2D(2, 1)(gray)))
    path = save_model(model, tmp_path / "lambda.keras")
    with pytest.raises(ModelError, match="safe mode"):
        load_model_file(path)


@pytest.mark.parametrize("case", ["missing", "random_h5", "truncated_keras", "weights_only",
                                  "config_unknown_layer"])
def test_predict_cli_reports_bad_model_in_one_red_line(saved_models, tmp_path, capsys, case):
    path, words = _bad_model_files(saved_models, tmp_path / "bad")[case]
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"")  # never reached: the model is checked first
    exit_code = cli.main(["predict", "--model", str(path), "--input", str(photo), "--output",
                          str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert exit_code == 1
    assert words in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err + captured.out
    assert not (tmp_path / "out").exists()
