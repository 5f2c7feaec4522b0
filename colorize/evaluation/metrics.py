"""Image-quality figures for colourisation, shared by `evaluate` and `train`.

Every function takes uint8 RGB arrays (H, W, 3) at the original resolution:
the reference (the colour original) and a candidate (a colourised output, or
the gray baseline). numpy and scikit-image only: no plotting, no TensorFlow.

Figures:
- PSNR and SSIM (scikit-image), capped/adapted so tiny or identical images work;
- colourfulness of Hasler & Suesstrunk 2003, and its mean absolute gap per image;
- AuC of Zhang et al. 2016 ("Colorful Image Colorization", section 3.1): the
  share of pixels whose ab error is within t, for t = 0..150, averaged over t;
  the rebalanced version weighs each pixel by 1/frequency of its ground-truth
  ab bin (10 wide) over the whole image set, so every colour counts the same
  and a uniform sepia wash, right only for the common browns and grays, fails;
- hue recall: of the vivid pixels (true ab chroma >= 15), the share predicted
  with some colour (chroma >= 5) of the right hue (within 30 degrees); green
  recall: the same over vivid foliage hues (105..200 degrees). Gray scores 0.

AuC, hue recall and green recall are pooled over all pixels of the set (Zhang
et al. used same-size images, where pooled and per-image means agree); PSNR,
SSIM and colourfulness are means over images.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import NamedTuple, Sequence

import numpy as np

from colorize.dataset.color import gray_to_rgb, rgb_to_lab
from colorize.constants import (AB_BIN_RANGE, AB_BIN_WIDTH, AUC_MAX_THRESHOLD, COLOURED_CHROMA,
                                FOLIAGE_HUE_DEGREES, HUE_TOLERANCE_DEGREES, PSNR_CAP_DB, SSIM_WINDOW,
                                VIVID_CHROMA)

# The scalar figures score_image returns and summarize_scores averages; the
# JSON contract of `evaluate --json` (README, "Subcommands").
FIGURES = ("psnr", "ssim", "colorfulness", "colorfulness_gt", "delta_colorfulness",
           "auc", "auc_rebalanced", "hue_recall", "green_recall")
HISTOGRAM_KEY = "ab_histogram"   # per-image data summarize_scores needs; not a figure
HUE_COUNTS_KEY = "hue_counts"    # likewise: the pixel counts behind hue and green recall

# Hue and green recall (issue 15): their thresholds are in constants.py.

_BINS_PER_AXIS = 2 * AB_BIN_RANGE // AB_BIN_WIDTH
_AB_BINS = _BINS_PER_AXIS * _BINS_PER_AXIS
# Error buckets: bucket k holds errors in (k-1, k] (bucket 0: exactly 0), so an
# error is within threshold t exactly when its bucket is <= t; the last bucket
# collects errors above the largest threshold.
_THRESHOLDS = AUC_MAX_THRESHOLD + 1
_ERROR_BUCKETS = _THRESHOLDS + 1


def _check_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"Expected a uint8 RGB array (H, W, 3), got {image.dtype} {image.shape}.")
    return image


def _check_pair(reference: np.ndarray, candidate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference, candidate = _check_rgb(reference), _check_rgb(candidate)
    if reference.shape != candidate.shape:
        raise ValueError(f"Images differ in size: {reference.shape} vs {candidate.shape}.")
    return reference, candidate


def gray_baseline(rgb: np.ndarray) -> np.ndarray:
    """Return the image with its L kept and ab = 0, as uint8 RGB (R = G = B)."""
    lightness = rgb_to_lab(_check_rgb(rgb))[..., 0]
    # ab = 0 is neutral, so R = G = B in theory; float round-off in lab2rgb
    # differs per channel by ~1e-7, enough to round apart. One value, repeated.
    gray = np.round(gray_to_rgb(lightness).mean(axis=-1) * 255.0).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


def psnr(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Return the PSNR in dB (data range 255), capped at PSNR_CAP_DB for identical images."""
    reference, candidate = _check_pair(reference, candidate)
    if np.array_equal(reference, candidate):  # skimage would divide by zero and return inf
        return PSNR_CAP_DB
    # Imported here: skimage.metrics pulls in scipy.stats (~1 s), which would
    # slow every error message of the CLI commands that import this module.
    from skimage.metrics import peak_signal_noise_ratio

    value = peak_signal_noise_ratio(reference, candidate, data_range=255)
    return float(min(value, PSNR_CAP_DB))


def _global_ssim(reference: np.ndarray, candidate: np.ndarray) -> float:
    """SSIM with the whole image as one window, for images under 3 px a side."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for channel in range(3):
        x = reference[..., channel].astype(np.float64).ravel()
        y = candidate[..., channel].astype(np.float64).ravel()
        covariance = np.mean((x - x.mean()) * (y - y.mean()))
        values.append(((2 * x.mean() * y.mean() + c1) * (2 * covariance + c2))
                      / ((x.mean() ** 2 + y.mean() ** 2 + c1) * (x.var() + y.var() + c2)))
    return float(np.mean(values))


def ssim(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Return the mean SSIM over the three channels (data range 255)."""
    reference, candidate = _check_pair(reference, candidate)
    shortest_side = min(reference.shape[:2])
    if shortest_side < 3:  # skimage needs an odd window of at least 3 px
        return _global_ssim(reference, candidate)
    from skimage.metrics import structural_similarity

    # skimage refuses a window larger than the image: use the largest odd side that fits.
    window = min(SSIM_WINDOW, shortest_side if shortest_side % 2 else shortest_side - 1)
    return float(structural_similarity(reference, candidate, channel_axis=2, data_range=255,
                                       win_size=window))


def colorfulness(rgb: np.ndarray) -> float:
    """Return Hasler & Suesstrunk's colourfulness (0 for any gray image; ~100+ is vivid)."""
    pixels = _check_rgb(rgb).reshape(-1, 3).astype(np.float64)
    red, green, blue = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    red_green = red - green
    yellow_blue = 0.5 * (red + green) - blue
    spread = np.hypot(red_green.std(), yellow_blue.std())
    mean = np.hypot(red_green.mean(), yellow_blue.mean())
    return float(spread + 0.3 * mean)


@dataclass(frozen=True)
class AbErrorHistogram:
    """Pixel counts by (ground-truth ab bin, ab error bucket), stored sparsely.

    `bins` lists the ab bins present (a photo uses a few dozen of the 676), and
    `counts[i, k]` the pixels of bin `bins[i]` whose error falls in bucket k.
    """

    bins: np.ndarray     # (n,) int, indices into the 26 x 26 ab grid
    counts: np.ndarray   # (n, 152) int64

    def add_to(self, dense: np.ndarray) -> None:
        """Add these counts into a dense (676, 152) total."""
        dense[self.bins] += self.counts


def _ab_length(ab: np.ndarray) -> np.ndarray:
    """Return the length of each ab pair of an (N, 2) array: a colour's chroma, or the error between two."""
    return np.hypot(ab[:, 0], ab[:, 1])


def _ab_pixels(rgb: np.ndarray) -> np.ndarray:
    """Return the Lab ab of every pixel as an (H * W, 2) array."""
    return rgb_to_lab(rgb)[..., 1:].reshape(-1, 2)


def _histogram_of_ab(reference_ab: np.ndarray, candidate_ab: np.ndarray) -> AbErrorHistogram:
    error = _ab_length(reference_ab - candidate_ab)
    bucket = np.minimum(np.ceil(error), _THRESHOLDS).astype(np.int64)
    axis_bin = np.clip((reference_ab + AB_BIN_RANGE) // AB_BIN_WIDTH, 0, _BINS_PER_AXIS - 1).astype(np.int64)
    ab_bin = axis_bin[:, 0] * _BINS_PER_AXIS + axis_bin[:, 1]
    dense = np.bincount(ab_bin * _ERROR_BUCKETS + bucket, minlength=_AB_BINS * _ERROR_BUCKETS)
    dense = dense.reshape(_AB_BINS, _ERROR_BUCKETS)
    present = np.flatnonzero(dense.sum(axis=1))
    return AbErrorHistogram(bins=present, counts=dense[present])


def auc_from_histogram(dense: np.ndarray, rebalanced: bool = False) -> float:
    """Return Zhang et al.'s AuC in [0, 1] from a dense (ab bin, error bucket) histogram."""
    counts = dense[dense.sum(axis=1) > 0].astype(np.float64)
    if counts.size == 0:
        return float("nan")
    within = np.cumsum(counts[:, :_THRESHOLDS], axis=1)   # pixels with error <= t, per bin
    per_bin_total = counts.sum(axis=1, keepdims=True)
    if rebalanced:  # weight 1/frequency: each bin's own share, then the mean over bins
        shares = (within / per_bin_total).mean(axis=0)
    else:
        shares = within.sum(axis=0) / per_bin_total.sum()
    return float(shares.mean())


def _dense(histogram: AbErrorHistogram) -> np.ndarray:
    dense = np.zeros((_AB_BINS, _ERROR_BUCKETS), dtype=np.int64)
    histogram.add_to(dense)
    return dense


@dataclass(frozen=True)
class HueCounts:
    """Vivid pixels and those given the right hue, over all colours and over foliage."""

    vivid: int = 0
    vivid_hits: int = 0
    foliage: int = 0
    foliage_hits: int = 0

    def __add__(self, other: "HueCounts") -> "HueCounts":
        return HueCounts(*(mine + theirs for mine, theirs in zip(astuple(self), astuple(other))))

    def recalls(self) -> dict[str, float | None]:
        """Return hue_recall and green_recall in [0, 1]; None where no pixel qualifies (not NaN: JSON)."""
        return {"hue_recall": self.vivid_hits / self.vivid if self.vivid else None,
                "green_recall": self.foliage_hits / self.foliage if self.foliage else None}


def _hue_degrees(ab: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(ab[:, 1], ab[:, 0]))


class VividHues(NamedTuple):
    """Per vivid pixel (true chroma at least VIVID_CHROMA): is it given a colour, how far off its hue, is it foliage."""
    coloured: np.ndarray     # bool: candidate chroma at least COLOURED_CHROMA
    hue_gap: np.ndarray      # degrees between true and candidate hue, the short way round (0..180)
    foliage: np.ndarray      # bool: true hue in FOLIAGE_HUE_DEGREES

    @property
    def hits(self) -> np.ndarray:
        """Return the pixels hue recall counts as right: coloured, within HUE_TOLERANCE_DEGREES."""
        return self.coloured & (self.hue_gap <= HUE_TOLERANCE_DEGREES)


def vivid_hues(reference_ab: np.ndarray, candidate_ab: np.ndarray) -> VividHues:
    """Return VividHues of the (N, 2) ab pixels whose reference is vivid: what hue and green recall count."""
    vivid = _ab_length(reference_ab) >= VIVID_CHROMA
    reference_ab, candidate_ab = reference_ab[vivid], candidate_ab[vivid]
    reference_hue = _hue_degrees(reference_ab)
    # The gap the short way round the wheel: 175 and -175 degrees are 10 apart, not 350.
    hue_gap = np.abs((_hue_degrees(candidate_ab) - reference_hue + 180.0) % 360.0 - 180.0)
    wheel_hue = reference_hue % 360.0   # 0..360, so the foliage range needs no wrap
    return VividHues(coloured=_ab_length(candidate_ab) >= COLOURED_CHROMA, hue_gap=hue_gap,
                     foliage=(wheel_hue >= FOLIAGE_HUE_DEGREES[0]) & (wheel_hue <= FOLIAGE_HUE_DEGREES[1]))


def _hue_counts_of_ab(reference_ab: np.ndarray, candidate_ab: np.ndarray) -> HueCounts:
    hues = vivid_hues(reference_ab, candidate_ab)
    hits = hues.hits
    return HueCounts(vivid=int(hits.size), vivid_hits=int(hits.sum()),
                     foliage=int(hues.foliage.sum()), foliage_hits=int((hits & hues.foliage).sum()))


def score_image(reference: np.ndarray, candidate: np.ndarray) -> dict:
    """Return every figure of one image (FIGURES) plus the counts summarize_scores pools.

    The ab error histogram (HISTOGRAM_KEY) and hue counts (HUE_COUNTS_KEY) are
    what summarize_scores needs for the set-wide AuC and recalls; leave them
    out when writing per-image figures to JSON.
    """
    reference, candidate = _check_pair(reference, candidate)
    reference_ab, candidate_ab = _ab_pixels(reference), _ab_pixels(candidate)
    histogram = _histogram_of_ab(reference_ab, candidate_ab)
    counts = _hue_counts_of_ab(reference_ab, candidate_ab)
    dense = _dense(histogram)
    output_colorfulness = colorfulness(candidate)
    original_colorfulness = colorfulness(reference)
    return {
        "psnr": psnr(reference, candidate),
        "ssim": ssim(reference, candidate),
        "colorfulness": output_colorfulness,
        "colorfulness_gt": original_colorfulness,
        "delta_colorfulness": abs(output_colorfulness - original_colorfulness),
        "auc": auc_from_histogram(dense),
        "auc_rebalanced": auc_from_histogram(dense, rebalanced=True),
        **counts.recalls(),
        HISTOGRAM_KEY: histogram,
        HUE_COUNTS_KEY: counts,
    }


class ScoreTotals:
    """Running totals of per-image scores, so a long evaluation keeps O(1) memory."""

    def __init__(self) -> None:
        self.images = 0
        self.sums = dict.fromkeys(("psnr", "ssim", "colorfulness", "colorfulness_gt", "delta_colorfulness"), 0.0)
        self.histogram = np.zeros((_AB_BINS, _ERROR_BUCKETS), dtype=np.int64)
        self.hue_counts = HueCounts()

    def add(self, score: dict) -> None:
        """Fold one score_image result into the totals."""
        self.images += 1
        for name in self.sums:
            self.sums[name] += score[name]
        score[HISTOGRAM_KEY].add_to(self.histogram)
        self.hue_counts += score[HUE_COUNTS_KEY]

    def summary(self) -> dict:
        """Return the set's figures: `images` and the means (AuC and recalls pooled over all pixels)."""
        if self.images == 0:
            return {"images": 0, **dict.fromkeys(FIGURES)}
        summary = {"images": self.images}
        summary.update({name: total / self.images for name, total in self.sums.items()})
        summary["auc"] = auc_from_histogram(self.histogram)
        summary["auc_rebalanced"] = auc_from_histogram(self.histogram, rebalanced=True)
        summary.update(self.hue_counts.recalls())
        return summary


def summarize_scores(per_image: Sequence[dict]) -> dict:
    """Return `images` and every figure of FIGURES for the set."""
    totals = ScoreTotals()
    for score in per_image:
        totals.add(score)
    return totals.summary()
