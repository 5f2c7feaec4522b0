"""RGB <-> CIE Lab (D65) and the model's normalisation, in numpy and TensorFlow.

The model takes L scaled to [-1, 1] and predicts ab scaled to about [-1, 1].
Conversion stays outside the Keras graph, so saved models hold
only built-in layers. The TensorFlow version is imported lazily so this module
stays cheap for the scanner; tests check both versions agree.
"""

from __future__ import annotations

import functools

import numpy as np
from skimage import color as skcolor

from colorize.constants import AB_SCALE, L_MAX

# sRGB -> XYZ (D65), and the D65 white point, as scikit-image uses them.
_RGB_TO_XYZ = np.array(
    [[0.412453, 0.357580, 0.180423],
     [0.212671, 0.715160, 0.072169],
     [0.019334, 0.119193, 0.950227]],
    dtype=np.float32,
)
_D65_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ.astype(np.float64)).astype(np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Return Lab (L 0..100) for an RGB array, uint8 or float in [0, 1]."""
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float32) / 255.0
    return skcolor.rgb2lab(rgb).astype(np.float32)


def _srgb_gamma_table(size: int = 65536) -> np.ndarray:
    """Return the sRGB transfer curve sampled at `size` linear values in [0, 1]."""
    linear = np.linspace(0.0, 1.0, size, dtype=np.float64)
    curve = np.where(linear > 0.0031308, 1.055 * linear ** (1.0 / 2.4) - 0.055, 12.92 * linear)
    return curve.astype(np.float32)


_SRGB_GAMMA = _srgb_gamma_table()


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Return float32 RGB in [0, 1] for a Lab array (out-of-gamut values clipped).

    The formulas of skimage.color.lab2rgb in float32, with the sRGB curve read
    from a 65536-entry table: skimage's float64 version took ~70% of the time to
    colourise a 12 MP photo (issue 5 benchmark). The table's error is below
    3e-4, far under one 8-bit step; tests/test_color.py checks the agreement.
    """
    lab = np.asarray(lab, dtype=np.float32)
    f = np.empty(lab.shape, dtype=np.float32)
    f[..., 1] = (lab[..., 0] + 16.0) / 116.0
    f[..., 0] = f[..., 1] + lab[..., 1] / 500.0
    f[..., 2] = np.maximum(f[..., 1] - lab[..., 2] / 200.0, 0.0)  # skimage clips negative Z too
    xyz = np.where(f > 0.2068966, f * f * f, (f - 16.0 / 116.0) / 7.787)
    xyz *= _D65_WHITE
    linear = xyz @ _XYZ_TO_RGB.T
    np.clip(linear, 0.0, 1.0, out=linear)
    linear *= len(_SRGB_GAMMA) - 1
    return _SRGB_GAMMA[(linear + 0.5).astype(np.int32)]


def normalize_l(lightness: np.ndarray) -> np.ndarray:
    """Map L in [0, 100] to the model's input range [-1, 1]."""
    return (lightness / (L_MAX / 2.0) - 1.0).astype(np.float32)


def denormalize_ab(normalized: np.ndarray) -> np.ndarray:
    """Map the model's ab back to Lab units."""
    return (normalized * AB_SCALE).astype(np.float32)


def gray_to_rgb(lightness: np.ndarray) -> np.ndarray:
    """Return the RGB image of an L channel with ab = 0 (the gray baseline)."""
    lab = np.zeros(lightness.shape + (3,), dtype=np.float32)
    lab[..., 0] = lightness
    return lab_to_rgb(lab)


def _tf_power(base, exponent: float):
    """Return base ** exponent for positive base, as exp(exponent * log(base)).

    TensorFlow's pow on a CPU took twice as long: the Lab map of a 128 px
    image fell from 1.89 to 0.94 ms of CPU, within 1.2e-4 Lab units of before.
    """
    import tensorflow as tf

    return tf.exp(exponent * tf.math.log(base))


def _tf_linear_to_lab(linear):
    """Return Lab for linear (gamma-expanded) RGB, shape (..., 3)."""
    import tensorflow as tf

    xyz = tf.tensordot(linear, tf.constant(_RGB_TO_XYZ.T), axes=1) / tf.constant(_D65_WHITE)
    epsilon = 0.008856
    f = tf.where(xyz > epsilon, _tf_power(tf.maximum(xyz, epsilon), 1.0 / 3.0), 7.787 * xyz + 16.0 / 116.0)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    lightness = tf.where(xyz[..., 1] > epsilon, 116.0 * fy - 16.0, 903.3 * xyz[..., 1])
    return tf.stack([lightness, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def tf_rgb_to_lab(rgb):
    """TensorFlow twin of `rgb_to_lab`: float RGB in [0, 1], shape (..., 3) -> Lab."""
    import tensorflow as tf

    rgb = tf.convert_to_tensor(rgb, dtype=tf.float32)
    # Where the other branch is taken the base can be 0 or below; tf.where drops what log makes of it.
    linear = tf.where(rgb > 0.04045, _tf_power((rgb + 0.055) / 1.055, 2.4), rgb / 12.92)
    return _tf_linear_to_lab(linear)


def _model_pair(lab):
    """Split Lab (..., 3) into the model's (L in [-1, 1], ab scaled) tensors."""
    lightness = lab[..., :1] / (L_MAX / 2.0) - 1.0
    return lightness, lab[..., 1:] / AB_SCALE


def tf_rgb_to_model_pair(rgb):
    """Split float RGB (..., 3) into the model's (L in [-1, 1], ab scaled) tensors."""
    return _model_pair(tf_rgb_to_lab(rgb))


def _srgb_linear_table() -> np.ndarray:
    """Return the sRGB curve expanded to linear light at the 256 8-bit levels (float64 maths, float32)."""
    level = np.arange(256, dtype=np.float64) / 255.0
    return np.where(level > 0.04045, ((level + 0.055) / 1.055) ** 2.4, level / 12.92).astype(np.float32)


def _uint8_rgb_to_model_pair(rgb):
    import tensorflow as tf

    linear = tf.gather(tf.constant(_srgb_linear_table()), tf.cast(rgb, tf.int32))
    return _model_pair(_tf_linear_to_lab(linear))


@functools.cache
def _compiled_uint8_pair():
    import tensorflow as tf

    return tf.function(_uint8_rgb_to_model_pair, jit_compile=True)


def tf_uint8_rgb_to_model_pair(rgb):
    """`tf_rgb_to_model_pair` for 8-bit RGB (..., 3), the loader's batches, compiled by XLA.

    The sRGB curve is read from a table of the 256 levels, and XLA fuses the
    map's ~20 passes over the batch into one: 0.1-0.2 ms of CPU per 128 px
    image against 0.8-0.9 for the float map (bench_loader.py shows both).
    One compile per batch shape (well under a second), on first use.
    """
    return _compiled_uint8_pair()(rgb)
