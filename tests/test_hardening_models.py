"""Issue 8, model files from strangers: code hidden in a model never runs (Keras
safe mode), and every tampered file is one clear "not a usable model" error.

test_modelfile.py covers truncated, random-bytes, weights-only, garbled-JSON and
unknown-class files and a Lambda .keras; this file adds payloads that would run
code (a Lambda in .h5, builtins and os functions named in the config), weights
of the wrong shapes, and the same files through `train --model`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from conftest import colorful_image, save_image
from colorize.frontends import cli
from colorize.errors import ModelError
from colorize.models.modelfile import load_model_file
from tiny_models import build_ab_model, keras_module, save_model


def lambda_model(marker: Path):
    """A model whose Lambda layer creates `marker` whenever it runs."""
    keras = keras_module()
    gray = keras.Input((None, None, 1))
    ab = keras.layers.Conv2D(2, 1)(gray)
    marker_path = str(marker)   # the closure Keras stores with the Lambda's bytecode
    ab = keras.layers.Lambda(lambda tensor: (open(marker_path, "w").close(), tensor)[1])(ab)
    return keras.Model(gray, ab)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_model_carrying_python_code_is_refused_and_its_code_never_runs(tmp_path, suffix):
    marker = tmp_path / "code-ran"
    model = lambda_model(marker)
    path = save_model(model, tmp_path / f"lambda{suffix}")
    marker.unlink()   # building the model ran the Lambda once; loading must not
    with pytest.raises(ModelError, match="safe mode") as raised:
        load_model_file(path)
    assert "\n" not in str(raised.value)
    assert not marker.exists()


@pytest.fixture(scope="module")
def ab_keras(tmp_path_factory) -> Path:
    return save_model(build_ab_model(levels=1), tmp_path_factory.mktemp("models") / "ab.keras")


def tampered(source: Path, target: Path, edit) -> Path:
    """Copy a .keras archive with its config (parsed JSON) passed through `edit`."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for name in original.namelist():
            data = original.read(name)
            if name == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            copy.writestr(name, data)
    return target


def conv_layer(config: dict) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Conv2D")


def _activation(module: str, name: str):
    def edit(config: dict) -> None:
        conv_layer(config)["config"]["activation"] = {"module": module, "class_name": "function",
                                                     "config": name, "registered_name": "function"}
    return edit


def _layer_class(module: str, name: str):
    def edit(config: dict) -> None:
        layer = conv_layer(config)
        layer.update({"module": module, "class_name": name, "registered_name": None})
    return edit


def _other_shapes(config: dict) -> None:
    conv_layer(config)["config"]["filters"] = 7   # the stored weights hold 4 filters


TAMPERINGS = {
    "activation_builtins_exec": _activation("builtins", "exec"),
    "activation_os_system": _activation("os", "system"),
    "activation_subprocess": _activation("subprocess", "getoutput"),
    "layer_class_os_system": _layer_class("os", "system"),
    "layer_class_pathlib": _layer_class("pathlib", "Path"),
    "weights_of_other_shapes": _other_shapes,
}


@pytest.mark.parametrize("case", sorted(TAMPERINGS))
def test_tampered_keras_config_is_not_a_usable_model(tmp_path, ab_keras, case):
    path = tampered(ab_keras, tmp_path / f"{case}.keras", TAMPERINGS[case])
    with pytest.raises(ModelError, match="not a usable model|safe mode") as raised:
        load_model_file(path)
    assert "\n" not in str(raised.value) and str(path.name) in str(raised.value)


@pytest.mark.parametrize("case", ["activation_os_system", "weights_of_other_shapes"])
def test_train_from_a_tampered_model_is_one_line_before_any_work(tmp_path, ab_keras, capsys, case):
    path = tampered(ab_keras, tmp_path / f"{case}.keras", TAMPERINGS[case])
    photos = tmp_path / "photos"
    for index in range(4):
        save_image(photos / f"colour{index}.png", colorful_image(32, 32, seed=index))
    code = cli.main(["train", "--data", str(photos), "--model", str(path), "--preset", "tiny", "--image-size",
                     "32", "--test-size", "1", "--output", str(tmp_path / "OUT")])
    captured = capsys.readouterr()
    assert code == 1
    assert len(captured.err.strip().splitlines()) == 1 and path.name in captured.err, captured.err
    assert "Traceback" not in captured.out + captured.err and "unexpected" not in captured.err
    assert not (tmp_path / "OUT").exists()
