"""metrics.py on arrays whose figures are known by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from skimage import color as skcolor

from colorize import metrics
from colorize.color import rgb_to_lab
from colorize.constants import AUC_MAX_THRESHOLD, PSNR_CAP_DB
from conftest import colorful_image


def solid(red: int, green: int, blue: int, height: int = 8, width: int = 8) -> np.ndarray:
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[...] = (red, green, blue)
    return image


def with_constant_ab(reference: np.ndarray, a: float, b: float) -> np.ndarray:
    """The reference's own L with one ab everywhere: a uniform tint such as sepia."""
    lab = rgb_to_lab(reference).astype(np.float64)
    lab[..., 1], lab[..., 2] = a, b
    return np.round(np.clip(skcolor.lab2rgb(lab), 0, 1) * 255).astype(np.uint8)


def brown_scene_with_blue_and_green() -> np.ndarray:
    """Mostly gray and brown shades, with a small vivid blue and a small green patch."""
    shade = np.linspace(0.4, 1.0, 64, dtype=np.float32)[:, None, None]
    image = np.empty((64, 64, 3), dtype=np.uint8)
    image[:, :32] = np.round(shade * np.array([150, 150, 150]))   # gray wall
    image[:, 32:] = np.round(shade * np.array([160, 120, 80]))    # brown wood
    image[:8, :8] = (30, 60, 220)     # sky blue
    image[-8:, -8:] = (40, 170, 40)   # foliage green
    return image


# --- gray baseline and colourfulness ----------------------------------------

def test_gray_baseline_keeps_lightness_and_has_no_colour():
    original = colorful_image(40, 30, seed=1)
    gray = metrics.gray_baseline(original)
    assert gray.shape == original.shape and gray.dtype == np.uint8
    assert np.array_equal(gray[..., 0], gray[..., 1]) and np.array_equal(gray[..., 1], gray[..., 2])
    lightness_gap = np.abs(rgb_to_lab(gray)[..., 0] - rgb_to_lab(original)[..., 0])
    assert lightness_gap.max() < 0.5   # one uint8 step of gray is ~0.4 L at most
    assert metrics.colorfulness(gray) == 0.0


def test_colorfulness_of_known_images():
    assert metrics.colorfulness(solid(90, 90, 90)) == 0.0
    # Pure red: rg = 255, yb = 127.5, no spread -> 0.3 * |(255, 127.5)|
    assert metrics.colorfulness(solid(255, 0, 0)) == pytest.approx(0.3 * math.hypot(255, 127.5))
    # Half red, half blue: rg in {255, 0}, yb in {127.5, -255}
    half = solid(255, 0, 0)
    half[:, 4:] = (0, 0, 255)
    expected = math.hypot(127.5, 191.25) + 0.3 * math.hypot(127.5, -63.75)
    assert metrics.colorfulness(half) == pytest.approx(expected)


# --- PSNR and SSIM ----------------------------------------------------------

def test_psnr_is_capped_for_identical_images_and_exact_otherwise():
    image = colorful_image(16, 16)
    assert metrics.psnr(image, image) == PSNR_CAP_DB
    json.dumps(metrics.psnr(image, image), allow_nan=False)   # finite: JSON can hold it
    assert metrics.psnr(solid(0, 0, 0), solid(255, 255, 255)) == pytest.approx(0.0)
    assert metrics.psnr(solid(10, 10, 10), solid(11, 11, 11)) == pytest.approx(20 * math.log10(255))


@pytest.mark.parametrize("height,width", [(32, 32), (6, 9), (5, 4), (2, 2), (1, 5)])
def test_ssim_works_on_small_images(height, width):
    image = colorful_image(width, height, seed=2)
    assert metrics.ssim(image, image) == pytest.approx(1.0)
    gray = metrics.gray_baseline(image)
    assert -1.0 <= metrics.ssim(image, gray) < 1.0


def test_bad_arrays_are_refused():
    with pytest.raises(ValueError, match="differ in size"):
        metrics.psnr(solid(1, 2, 3, 8, 8), solid(1, 2, 3, 8, 9))
    with pytest.raises(ValueError, match="uint8 RGB"):
        metrics.colorfulness(np.zeros((8, 8, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="uint8 RGB"):
        metrics.ssim(np.zeros((8, 8), dtype=np.uint8), np.zeros((8, 8), dtype=np.uint8))


# --- AuC (Zhang et al. 2016) ------------------------------------------------

def test_auc_from_a_known_histogram():
    dense = np.zeros((676, AUC_MAX_THRESHOLD + 2), dtype=np.int64)
    dense[10, 30] = 100     # every pixel has an error in (29, 30]: within t for t >= 30
    assert metrics.auc_from_histogram(dense) == pytest.approx((AUC_MAX_THRESHOLD + 1 - 30) / 151)
    dense[20, AUC_MAX_THRESHOLD + 1] = 300   # another bin, 3x the pixels, errors above 150
    assert metrics.auc_from_histogram(dense) == pytest.approx(0.25 * 121 / 151)
    # Rebalanced: both bins count the same whatever their pixel counts.
    assert metrics.auc_from_histogram(dense, rebalanced=True) == pytest.approx(0.5 * 121 / 151)


def test_auc_is_one_for_a_perfect_prediction():
    image = brown_scene_with_blue_and_green()
    assert metrics.ab_error_auc(image, image) == 1.0
    assert metrics.ab_error_auc(image, image, rebalanced=True) == 1.0


def test_sepia_tint_scores_lower_and_lower_still_when_rebalanced():
    image = brown_scene_with_blue_and_green()
    sepia = with_constant_ab(image, 8.0, 20.0)
    plain = metrics.ab_error_auc(image, sepia)
    rebalanced = metrics.ab_error_auc(image, sepia, rebalanced=True)
    assert plain < 0.95
    assert rebalanced < plain - 0.05   # the rare blue and green bins weigh as much as the browns


def test_rebalancing_uses_bin_frequencies_over_the_whole_set():
    # One big brown photo and one small blue one: pooled AuC is ruled by the
    # browns, rebalanced AuC gives the blue bin equal weight across the set.
    brown = brown_scene_with_blue_and_green()[8:-8, 8:-8]
    blue = solid(30, 60, 220, 8, 8)
    scores = [metrics.score_image(image, with_constant_ab(image, 8.0, 20.0)) for image in (brown, blue)]
    summary = metrics.summarize_scores(scores)
    assert summary["images"] == 2
    assert summary["auc_rebalanced"] < summary["auc"]
    assert summary["auc"] > np.mean([score["auc"] for score in scores])   # pooled: big photo weighs more


def test_score_image_and_summary_hold_every_figure():
    original = colorful_image(32, 24, seed=5)
    gray = metrics.gray_baseline(original)
    perfect, baseline = metrics.score_image(original, original), metrics.score_image(original, gray)
    for score in (perfect, baseline):
        assert set(metrics.FIGURES) <= set(score)
    assert perfect["psnr"] == PSNR_CAP_DB and perfect["delta_colorfulness"] == 0.0
    assert baseline["colorfulness"] == 0.0
    assert baseline["delta_colorfulness"] == pytest.approx(baseline["colorfulness_gt"])
    summary = metrics.summarize_scores([perfect, baseline])
    assert set(summary) == {"images", *metrics.FIGURES}
    assert summary["psnr"] == pytest.approx((PSNR_CAP_DB + baseline["psnr"]) / 2)
    assert summary["colorfulness_gt"] == pytest.approx(baseline["colorfulness_gt"])
    json.dumps(summary, allow_nan=False)
    assert metrics.summarize_scores([])["images"] == 0
