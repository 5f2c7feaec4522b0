"""Steady colour for films: consecutive frames of one shot agree.

A model colours each frame on its own, so the colour of one spot wanders from
frame to frame (flicker). Here the predicted ab (at the model's working size)
is averaged over time: each frame's ab is blended with the running average
carried along the motion (one global shift per frame, found by phase
correlation of L), and where L itself changed after that shift (something
moved on its own, or the shift is wrong) the new frame's ab wins; that change
is averaged over a small box first, so film grain alone does not trip it. At a scene
cut (found from the change of L's histogram) the average starts again, so one
shot's colours never bleed into the next. Pure numpy: no model, no files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colorize.constants import (FILM_CUT_DISTANCE, FILM_HISTOGRAM_BINS, FILM_L_BOX, FILM_L_CHANGE,
                                FILM_NEW_FRAME_WEIGHT)


def histogram(lightness: np.ndarray) -> np.ndarray:
    """Return the normalised histogram of L (0..100) in FILM_HISTOGRAM_BINS bins."""
    counts, _ = np.histogram(lightness, bins=FILM_HISTOGRAM_BINS, range=(0.0, 100.0))
    return counts / max(lightness.size, 1)


def cut_distance(previous: np.ndarray, current: np.ndarray) -> float:
    """Return the share of pixels whose L bin changed between two histograms (0 same .. 1 disjoint)."""
    return float(0.5 * np.abs(previous - current).sum())


def global_shift(previous: np.ndarray, current: np.ndarray) -> tuple[int, int]:
    """Return the whole-pixel (dy, dx) that moves `previous` onto `current` (phase correlation)."""
    window = np.outer(np.hanning(previous.shape[0]), np.hanning(previous.shape[1]))
    spectrum = np.fft.rfft2((current - current.mean()) * window) * np.conj(
        np.fft.rfft2((previous - previous.mean()) * window))
    spectrum /= np.maximum(np.abs(spectrum), 1e-9)
    correlation = np.fft.irfft2(spectrum, s=previous.shape)
    dy, dx = np.unravel_index(int(np.argmax(correlation)), correlation.shape)
    height, width = previous.shape
    return int(dy - height if dy > height // 2 else dy), int(dx - width if dx > width // 2 else dx)


def shifted(plane: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Return `plane` moved by (dy, dx) pixels, its edges repeated into the uncovered band."""
    height, width = plane.shape[:2]
    rows = np.clip(np.arange(height) - dy, 0, height - 1)
    columns = np.clip(np.arange(width) - dx, 0, width - 1)
    return plane[rows][:, columns]


def box_mean(plane: np.ndarray, side: int = FILM_L_BOX) -> np.ndarray:
    """Return the mean of each pixel's side x side neighbourhood (odd side; edges repeated)."""
    reach = side // 2
    padded = np.pad(plane, reach, mode="edge")
    height, width = plane.shape
    total = sum(padded[row:row + height, column:column + width] for row in range(side) for column in range(side))
    return total / float(side * side)


@dataclass
class SteadyState:
    """What carries from one frame to the next (saved beside a film's finished parts to resume)."""
    lightness: np.ndarray   # working-size L of the last frame
    ab: np.ndarray          # its smoothed ab
    histogram: np.ndarray


class SteadyChroma:
    """Smooths a film's ab over time, frame by frame; `weight` 1.0 turns it off."""

    def __init__(self, weight: float = FILM_NEW_FRAME_WEIGHT, cut: float = FILM_CUT_DISTANCE,
                 state: SteadyState | None = None, l_change: float = FILM_L_CHANGE):
        self.weight = weight
        self.cut = cut
        self.l_change = l_change
        self.state = state
        self.cuts = 0   # scene cuts seen (the first frame is not one)

    def step(self, lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
        """Return the steadied ab of the next frame; `lightness` is its L at ab's size."""
        current = histogram(lightness)
        previous = self.state
        if previous is None or previous.ab.shape != ab.shape or self.weight >= 1.0 \
                or cut_distance(previous.histogram, current) > self.cut:
            if previous is not None:
                self.cuts += 1
            steady = ab
        else:
            dy, dx = global_shift(previous.lightness, lightness)
            carried_l = shifted(previous.lightness, dy, dx)
            carried_ab = shifted(previous.ab, dy, dx)
            # Where L disagrees after the shift, the old colour belongs elsewhere: trust the new frame.
            # The signed difference is averaged first: grain's cancels, a moved thing's stays.
            change = np.clip(np.abs(box_mean(lightness - carried_l)) / self.l_change, 0.0, 1.0)[..., None]
            weight = self.weight + (1.0 - self.weight) * change
            steady = (weight * ab + (1.0 - weight) * carried_ab).astype(np.float32)
        self.state = SteadyState(lightness, steady, current)
        return steady
