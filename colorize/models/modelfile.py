"""Find, load and inspect saved colourisers (.keras and .h5 files).

Every way a model file can be unusable ends in one ModelError sentence: a
missing file, a file that is not a model (text, random bytes, a truncated
download), a weights-only file, a tampered config, or a model whose shapes we
cannot use. Models load with Keras's safe mode on, so a file from a stranger
cannot run Python code (Lambda layers are refused); `.h5` and `.keras` files
are still best treated with care.

TensorFlow is imported lazily: the CLI and the scanner import this module.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from colorize.constants import DEFAULT_MODEL_PATH, MODEL_SUFFIXES, WEIGHTS_ONLY_SUFFIX
from colorize.errors import ModelError
from colorize.paths import existing_path

if TYPE_CHECKING:
    import keras

NO_DEFAULT_MODEL = (f"The shipped model is missing ({DEFAULT_MODEL_PATH}): this install of colorize came "
                    "without its data (an install that is not editable, built without data/). Install from a "
                    "clone of the project with `pip install -e .`, or pass --model PATH.")
KINDS = {2: "ab", 3: "rgb"}   # output channels -> what the model predicts


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model expects and predicts."""

    kind: str                              # "ab" (1 in, 2 out: ours) or "rgb" (1 in, 3 out, values 0..1)
    input_size: tuple[int, int] | None     # fixed (H, W) the model needs, or None for any size
    size_multiple: int                     # sides must be a multiple of this (1 for fixed-size models)


def resolve_model_path(path: str) -> Path:
    """Return the model file `path` names ("default" = the shipped model); ModelError if absent."""
    if path == "default":
        if not DEFAULT_MODEL_PATH.is_file():
            raise ModelError(NO_DEFAULT_MODEL)
        return DEFAULT_MODEL_PATH
    candidate = existing_path(path, ModelError)
    if candidate is None:
        raise ModelError(f"Model file not found: {path}")
    if candidate.is_dir():
        raise ModelError(f"{path} is a folder; name a .keras or .h5 model file.")
    return candidate.resolve()


def _check_container(path: Path) -> None:
    """Refuse files whose name or container cannot hold a whole saved model."""
    name = path.name.lower()
    if name.endswith(WEIGHTS_ONLY_SUFFIX):
        raise ModelError(f"{path.name} holds no model config (weights only or incompatible); "
                         "load a full model saved with model.save() as .keras or .h5.")
    if not name.endswith(MODEL_SUFFIXES):
        raise ModelError(f"{path.name} is not a model file; expected a .keras or .h5 file saved with model.save().")
    if name.endswith(".keras") and not zipfile.is_zipfile(path):
        raise ModelError(f"{path.name} is not a usable model: not a .keras archive (truncated or not a model).")


def _load_failure_message(path: Path, error: Exception) -> str:
    """Return the one sentence that explains why Keras could not load `path`."""
    text = str(error)
    if "No model config found" in text:
        return (f"{path.name} holds no model config (weights only or incompatible); "
                "load a full model saved with model.save() as .keras or .h5.")
    if "safe_mode" in text or "Lambda" in text:
        return (f"{path.name} contains Python code (a Lambda layer), which safe mode refuses to run; "
                "only load such a model if you trust its author, and re-save it without the Lambda.")
    first_line = text.strip().splitlines()[0][:160] if text.strip() else type(error).__name__
    return (f"{path.name} is not a usable model: it is truncated, damaged or not a Keras model "
            f"({type(error).__name__}: {first_line}).")


def load_model_file(path: str | Path) -> "keras.Model":
    """Return the model saved at `path`, loaded with compile=False and safe_mode=True."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model file not found: {path}")
    _check_container(path)
    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    import keras

    try:
        # compile=False: the optimizer and loss are not needed to predict, and a
        # Keras 3 .h5 compiled with a string loss fails to deserialise: `Could not deserialize keras.metrics.mse`.
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # h5py, zipfile, json and Keras raise many types
        raise ModelError(_load_failure_message(path, error)) from error
    if not isinstance(model, keras.Model):
        raise ModelError(f"{path.name} is not a usable model (it holds a {type(model).__name__}).")
    return model


def _shape_of(tensor) -> tuple:
    return tuple(tensor.shape)


def _all_layers(model) -> list:
    """Return every layer of `model`, descending into nested models."""
    layers = []
    for layer in getattr(model, "layers", []):
        layers.append(layer)
        layers.extend(_all_layers(layer))
    return layers


def _downsampling_factor(model: "keras.Model") -> int:
    """Return the product of all strides of the model's downsampling layers.

    A U-Net halves its input once per level, so its sides must be a multiple of
    2**levels; multiplying every stride (pooling and strided convolutions, in
    nested models too) gives that or a multiple of it, which is always safe.
    """
    import keras

    from colorize.models.hint_model import BRANCH_PREFIX

    factor = 1
    for layer in _all_layers(model):
        # A hint model's branch pools the hints to each stride the decoder already has (hint_model.py).
        if isinstance(layer, (keras.layers.Conv2DTranspose, keras.layers.UpSampling2D)) or \
                layer.name.startswith(BRANCH_PREFIX):
            continue
        strides = getattr(layer, "strides", None)
        if isinstance(strides, (tuple, list)) and len(strides) == 2:
            factor *= max(int(strides[0]), int(strides[1]))
    return factor


def inspect_model(model: "keras.Model") -> ModelInfo:
    """Return what `model` expects and predicts; ModelError if we cannot use its shapes."""
    from colorize.models.hint_model import has_hint_inputs

    image_inputs = len(model.inputs) - (2 if has_hint_inputs(model) else 0)   # a hint model's hints come beside
    if image_inputs != 1 or len(model.outputs) != 1:
        raise ModelError(f"The model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                         "colorize needs one gray image in and one colour image out.")
    input_shape, output_shape = _shape_of(model.inputs[0]), _shape_of(model.outputs[0])
    if len(input_shape) != 4 or input_shape[-1] != 1:
        raise ModelError(f"The model takes input of shape {input_shape[1:]}; "
                         "colorize needs a gray image (height, width, 1).")
    if len(output_shape) != 4 or output_shape[-1] not in KINDS:
        raise ModelError(f"The model gives output of shape {output_shape[1:]}; colorize needs "
                         "(height, width, 2) ab or (height, width, 3) RGB.")
    height, width = input_shape[1], input_shape[2]
    if (height is None) != (width is None):
        raise ModelError(f"The model fixes one side of its input but not the other {input_shape[1:3]}; "
                         "colorize needs both sides fixed or both free.")
    if height is not None:
        return ModelInfo(kind=KINDS[output_shape[-1]], input_size=(int(height), int(width)), size_multiple=1)
    return ModelInfo(kind=KINDS[output_shape[-1]], input_size=None, size_multiple=_downsampling_factor(model))
