"""The numpy (scikit-image) and TensorFlow Lab conversions agree, and the
normalisation round-trips: the loader (TF) and the predictor (numpy) must see
the same colours."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from colorize.dataset import color
from colorize.constants import AB_SCALE, DEFAULT_DATASET_DIR


def tf_lab(rgb_uint8: np.ndarray) -> np.ndarray:
    return color.tf_rgb_to_lab(rgb_uint8.astype(np.float32) / 255.0).numpy()


def test_tf_and_numpy_lab_agree_on_random_pixels():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(100, 100, 3), dtype=np.uint8)
    difference = np.abs(tf_lab(pixels) - color.rgb_to_lab(pixels))
    assert difference.max() < 0.05, difference.max()


def test_tf_and_numpy_lab_agree_on_extremes_and_near_black():
    corners = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255],
                         [255, 255, 0], [0, 255, 255], [255, 0, 255], [1, 1, 1], [3, 2, 1],
                         [10, 10, 10], [128, 128, 128]]], dtype=np.uint8)
    numpy_lab = color.rgb_to_lab(corners)
    assert np.abs(tf_lab(corners) - numpy_lab).max() < 0.05
    assert numpy_lab[0, 1, 0] == pytest.approx(100.0, abs=0.01)   # white is L 100
    assert np.abs(numpy_lab[0, -1, 1:]).max() < 0.01             # gray has no chroma


def test_tf_and_numpy_lab_agree_on_a_real_photo():
    photo = sorted(DEFAULT_DATASET_DIR.glob("*.jpg"))[0]
    rgb = np.asarray(Image.open(photo).convert("RGB"))
    assert np.abs(tf_lab(rgb) - color.rgb_to_lab(rgb)).max() < 0.05


def every_8bit_level() -> np.ndarray:
    """Return (16, 4096, 3) uint8 colours: each level in each channel, the rest a seeded sample of all 2^24."""
    rng = np.random.default_rng(4)
    colours = rng.integers(0, 256, size=(16 * 4096, 3), dtype=np.uint8)
    colours[:256] = np.arange(256, dtype=np.uint8)[:, None]          # the grays
    colours[256:512] = colours[:256] * np.array([1, 0, 0], np.uint8)   # each primary's levels
    colours[512:768] = colours[:256] * np.array([0, 1, 0], np.uint8)
    colours[768:1024] = colours[:256] * np.array([0, 0, 1], np.uint8)
    return colours.reshape(16, 4096, 3)


def test_tf_lab_matches_scikit_image_rgb2lab_to_within_a_thousandth_of_a_lab_unit():
    """The training targets are skimage's rgb2lab to within 1e-3 Lab units (measured over
    all 2^24 8-bit colours: 9.9e-5), with pow computed as exp(p log x)."""
    from skimage.color import rgb2lab

    colours = every_8bit_level()
    expected = rgb2lab(colours / 255.0)
    assert np.abs(tf_lab(colours) - expected).max() < 1e-3


def test_8bit_model_pair_matches_scikit_image_rgb2lab_to_within_a_thousandth_of_a_lab_unit():
    """The loader's map (a table for the sRGB curve, compiled by XLA) gives the float map's targets."""
    from skimage.color import rgb2lab

    colours = every_8bit_level()
    lightness, ab = color.tf_uint8_rgb_to_model_pair(colours)
    lab = np.concatenate([(lightness.numpy() + 1.0) * 50.0, ab.numpy() * AB_SCALE], axis=-1)
    assert np.abs(lab - rgb2lab(colours / 255.0)).max() < 1e-3


def test_model_pair_is_normalised_lab():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    lightness, ab = color.tf_rgb_to_model_pair(pixels.astype(np.float32) / 255.0)
    lab = color.rgb_to_lab(pixels)
    np.testing.assert_allclose(lightness.numpy()[..., 0], color.normalize_l(lab[..., 0]), atol=1e-3)
    np.testing.assert_allclose(ab.numpy(), lab[..., 1:] / AB_SCALE, atol=1e-3)
    assert lightness.numpy().min() >= -1.0 and lightness.numpy().max() <= 1.0
    assert np.abs(ab.numpy()).max() <= 128.0 / AB_SCALE


def test_normalisation_and_lab_round_trip():
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, size=(20, 20, 3), dtype=np.uint8)
    lab = color.rgb_to_lab(pixels)
    np.testing.assert_allclose(color.normalize_l(np.array([0.0, 50.0, 100.0])), [-1.0, 0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(color.denormalize_ab(lab[..., 1:] / AB_SCALE), lab[..., 1:], atol=1e-4)
    np.testing.assert_allclose(color.lab_to_rgb(lab) * 255.0, pixels, atol=0.6)


def test_gray_to_rgb_has_equal_channels():
    rgb = color.gray_to_rgb(np.linspace(0, 100, 50, dtype=np.float32).reshape(5, 10))
    assert rgb.shape == (5, 10, 3)
    assert np.abs(rgb[..., 0] - rgb[..., 1]).max() < 1e-3
    assert np.abs(rgb[..., 1] - rgb[..., 2]).max() < 1e-3


def test_float32_lab_to_rgb_agrees_with_scikit_image_including_out_of_gamut():
    from skimage.color import lab2rgb

    rng = np.random.default_rng(3)
    lab = np.stack([rng.uniform(0, 100, 4000), rng.uniform(-128, 127, 4000),
                    rng.uniform(-128, 127, 4000)], axis=-1).reshape(40, 100, 3)
    with pytest.warns(UserWarning):  # skimage warns where it clips negative Z; ours clips silently
        expected = np.clip(lab2rgb(lab), 0, 1)
    assert np.abs(color.lab_to_rgb(lab) - expected).max() < 1e-3
