"""Tiny real Keras models for the predict and model-file tests (built in the test, saved to tmp_path)."""

from __future__ import annotations

from pathlib import Path


def keras_module():
    """Return keras, imported quietly."""
    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    import keras

    return keras


def build_ab_model(levels: int = 1, ab_gain: float = 1.0, seed: int = 0):
    """Return an ours-style model: (None, None, 1) L in, (None, None, 2) ab in [-1, 1] out.

    `levels` poolings set the size multiple (2**levels); `ab_gain` scales the
    tanh head so tests can keep the predicted colours inside the sRGB gamut.
    """
    keras = keras_module()
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, None, 1), name="gray_l")
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="encode")(inputs)
    for level in range(levels):
        features = keras.layers.MaxPooling2D(name=f"down{level}")(features)
    for level in range(levels):
        features = keras.layers.UpSampling2D(name=f"up{level}")(features)
    ab = keras.layers.Conv2D(2, 1, activation="tanh", name="ab_head")(features)
    if ab_gain != 1.0:
        ab = keras.layers.Rescaling(ab_gain, name="gain")(ab)
    return keras.Model(inputs, ab, name="tiny_ab")


def build_rgb_model(size: int = 64, seed: int = 0):
    """Return an older-style colouriser: fixed (size, size, 1) gray 0..1 in, RGB 0..1 out."""
    keras = keras_module()
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 1), name="gray")
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    rgb = keras.layers.Conv2D(3, 1, activation="sigmoid", name="rgb_head")(features)
    return keras.Model(inputs, rgb, name="tiny_rgb")


def save_model(model, path: Path) -> Path:
    """Save `model` (format from the suffix) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path
