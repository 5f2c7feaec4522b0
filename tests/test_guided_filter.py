"""The guided filter that smooths predicted ab along the edges of L, and its use in predict."""

from __future__ import annotations

import numpy as np
import pytest

from colorize.dataset import color
from colorize.inference.guided_filter import box_mean, guided_filter
from colorize.inference.colorizer import Colorizer, smooth_chroma
from tiny_models import build_ab_model


def brute_force_box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    height, width = values.shape
    out = np.empty_like(values, dtype=np.float64)
    for row in range(height):
        for column in range(width):
            out[row, column] = values[max(0, row - radius):row + radius + 1,
                                      max(0, column - radius):column + radius + 1].mean()
    return out


@pytest.mark.parametrize("shape, radius", [((9, 13), 2), ((5, 4), 7), ((1, 1), 3), ((1, 6), 1)])
def test_box_mean_is_the_mean_of_the_window_clipped_at_the_border(shape, radius):
    values = np.random.default_rng(0).random(shape)
    np.testing.assert_allclose(box_mean(values, radius), brute_force_box_mean(values, radius), atol=1e-12)


def test_a_source_that_is_a_linear_function_of_the_guide_passes_unchanged():
    # The filter fits source = slope * guide + offset per window: an exact fit has
    # nothing to remove (eps tiny so the fit is not pulled towards slope 0).
    guide = np.random.default_rng(1).random((24, 32))
    source = 30.0 * guide - 7.0
    np.testing.assert_allclose(guided_filter(guide, source, 4, 1e-9), source, atol=1e-4)


def test_speckle_in_flat_regions_is_removed_but_an_edge_of_the_guide_is_kept():
    rng = np.random.default_rng(2)
    guide = np.zeros((40, 40))
    guide[:, 20:] = 1.0                                   # one sharp edge in L
    truth = np.where(guide > 0.5, 40.0, -20.0)            # colour that changes at that edge
    speckled = truth + rng.normal(0, 8, truth.shape)      # the network's texture-scale noise
    smoothed = guided_filter(guide, speckled, 4, 0.01)
    assert np.abs(smoothed - truth).mean() < 0.3 * np.abs(speckled - truth).mean()
    # Right beside the edge the two colours stay apart: no bleeding across it.
    assert smoothed[:, 19].mean() < -15 and smoothed[:, 20].mean() > 35
    # A plain blur of the same radius would mix them there.
    blurred = box_mean(speckled, 4)
    assert blurred[:, 19].mean() > -5


def test_several_channels_are_filtered_each_with_the_same_guide():
    rng = np.random.default_rng(3)
    guide, source = rng.random((16, 20)), rng.normal(0, 10, (16, 20, 2))
    both = guided_filter(guide, source, 3, 0.01)
    for channel in range(2):
        np.testing.assert_allclose(both[..., channel], guided_filter(guide, source[..., channel], 3, 0.01))


def test_smooth_chroma_scales_its_window_with_the_image_and_keeps_float32():
    lightness = np.linspace(0, 100, 3 * 5).reshape(3, 5).astype(np.float32)
    ab = np.random.default_rng(4).normal(0, 20, (3, 5, 2)).astype(np.float32)
    smoothed = smooth_chroma(lightness, ab)   # a tiny image still gets a radius of at least 1
    assert smoothed.shape == ab.shape and smoothed.dtype == np.float32
    assert smoothed.std() < ab.std()


def test_the_colorizer_smooths_by_default_and_can_give_the_raw_prediction():
    rng = np.random.default_rng(5)
    image = np.clip(rng.normal(128, 40, (64, 96)), 0, 255).astype(np.uint8)   # texture everywhere
    model = build_ab_model(levels=2, ab_gain=0.3)
    smoothed, raw = Colorizer(model).colorize(image), Colorizer(model, smooth=False).colorize(image)
    assert smoothed.shape == raw.shape == (64, 96, 3)

    def chroma_speckle(rgb: np.ndarray) -> float:
        ab = color.rgb_to_lab(rgb)[..., 1:]
        return float(np.abs(ab - box_mean(ab, 2)).mean())

    assert chroma_speckle(smoothed) < 0.7 * chroma_speckle(raw)
