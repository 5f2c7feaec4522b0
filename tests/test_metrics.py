"""metrics.py on arrays whose figures are known by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from skimage import color as skcolor

from colorize.evaluation import metrics
from colorize.dataset.color import rgb_to_lab
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


def image_auc(reference: np.ndarray, candidate: np.ndarray, rebalanced: bool = False) -> float:
    """Return one image's AuC as score_image reports it (rebalanced over its own ab bins if asked)."""
    return metrics.score_image(reference, candidate)["auc_rebalanced" if rebalanced else "auc"]


def hue_counts(reference: np.ndarray, candidate: np.ndarray) -> metrics.HueCounts:
    """Return the vivid and foliage pixels of `reference` and how many `candidate` gave the right hue."""
    return metrics.score_image(reference, candidate)[metrics.HUE_COUNTS_KEY]


def test_auc_is_one_for_a_perfect_prediction():
    image = brown_scene_with_blue_and_green()
    assert image_auc(image, image) == 1.0
    assert image_auc(image, image, rebalanced=True) == 1.0


def test_sepia_tint_scores_lower_and_lower_still_when_rebalanced():
    image = brown_scene_with_blue_and_green()
    sepia = with_constant_ab(image, 8.0, 20.0)
    plain = image_auc(image, sepia)
    rebalanced = image_auc(image, sepia, rebalanced=True)
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


# --- hue recall and green recall (issue 15) ---------------------------------

FOLIAGE_GREEN = (40, 170, 40)     # chroma 79, hue 138 degrees
OLIVE_GREEN = (60, 120, 30)       # chroma 55, hue 131: within 30 degrees of FOLIAGE_GREEN
BRICK_RED = (180, 60, 50)         # chroma 58, hue 34
PALE_GRAY_GREEN = (120, 128, 118)  # chroma 7: too pale to judge


def lab_pixel(chroma: float, hue_degrees: float, lightness: float = 60.0) -> tuple[int, int, int]:
    """Return the uint8 RGB of one Lab colour given as chroma and hue angle."""
    angle = math.radians(hue_degrees)
    lab = np.array([[[lightness, chroma * math.cos(angle), chroma * math.sin(angle)]]])
    return tuple(int(value) for value in np.round(skcolor.lab2rgb(lab) * 255).astype(np.uint8)[0, 0])


def test_half_the_foliage_green_and_half_red_gives_recall_one_half():
    reference = solid(*FOLIAGE_GREEN)
    candidate = solid(*OLIVE_GREEN)
    candidate[:, 4:] = BRICK_RED
    score = metrics.score_image(reference, candidate)
    assert score["green_recall"] == 0.5 and score["hue_recall"] == 0.5
    assert hue_counts(reference, candidate) == metrics.HueCounts(64, 32, 64, 32)


def test_gray_scores_zero_and_a_sepia_tint_scores_only_on_browns_and_yellows():
    reference = solid(150, 110, 70, 4, 16)     # brown, hue 69
    reference[:, 4:8] = (200, 170, 60)         # yellow, hue 91
    reference[:, 8:12] = FOLIAGE_GREEN
    reference[:, 12:] = (30, 60, 220)          # blue, hue -59
    gray = metrics.score_image(reference, metrics.gray_baseline(reference))
    assert gray["hue_recall"] == 0.0 and gray["green_recall"] == 0.0
    sepia = hue_counts(reference, with_constant_ab(reference, 8.0, 20.0))   # hue 68
    assert sepia == metrics.HueCounts(vivid=64, vivid_hits=32, foliage=16, foliage_hits=0)


def test_hue_gap_is_measured_the_short_way_round_the_wheel():
    reference, near, far = solid(*lab_pixel(30, 175)), solid(*lab_pixel(30, -175)), solid(*lab_pixel(30, -140))
    assert hue_counts(reference, near) == metrics.HueCounts(64, 64, 64, 64)   # 10 degrees apart
    assert hue_counts(reference, far).vivid_hits == 0                          # 45 degrees apart


def test_foliage_hues_run_from_105_to_200_degrees_across_the_wrap():
    reference = solid(0, 0, 0, 1, 5)
    for column, hue in enumerate([100, 110, 175, -170, -150]):
        reference[0, column] = lab_pixel(30, hue)
    counts = hue_counts(reference, reference)
    assert (counts.vivid, counts.foliage) == (5, 3)   # 110, 175 and -170 (= 190) are foliage


def test_pale_pixels_are_not_judged_and_none_means_nothing_to_judge():
    reference = solid(*FOLIAGE_GREEN)
    reference[:, 4:] = PALE_GRAY_GREEN
    candidate = solid(*FOLIAGE_GREEN)
    candidate[:, 4:] = BRICK_RED      # wrong, but on pixels too pale to count
    assert hue_counts(reference, candidate) == metrics.HueCounts(32, 32, 32, 32)
    pale = metrics.score_image(solid(*PALE_GRAY_GREEN), solid(*BRICK_RED))
    assert pale["hue_recall"] is None and pale["green_recall"] is None
    summary = metrics.summarize_scores([pale])
    assert summary["hue_recall"] is None and summary["green_recall"] is None
    json.dumps(summary, allow_nan=False)


def test_recalls_are_pooled_over_the_pixels_of_the_whole_set():
    right = metrics.score_image(solid(*FOLIAGE_GREEN, 8, 8), solid(*OLIVE_GREEN, 8, 8))   # 64 of 64
    wrong = metrics.score_image(solid(*FOLIAGE_GREEN, 4, 4), solid(*BRICK_RED, 4, 4))     # 0 of 16
    nothing_vivid = metrics.score_image(solid(*PALE_GRAY_GREEN), solid(*BRICK_RED))
    summary = metrics.summarize_scores([right, wrong, nothing_vivid])
    assert summary["images"] == 3
    # 64 of 80 vivid pixels, not the mean of 1 and 0; the pale photo counts neither way.
    assert summary["hue_recall"] == pytest.approx(0.8) and summary["green_recall"] == pytest.approx(0.8)
