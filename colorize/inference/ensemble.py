"""Ensembles: several colourisers predict ab for the same photo and one combined ab is merged.

Each member predicts ab at its own working size (models may differ in size
multiple), after its own guided filter (colorizer.smooth_chroma); each ab is
resized to one common working size, the members are combined there, and the
combination is merged with the full-size L exactly as one model's ab is
(fullres.merge_full_resolution; --saturation scales the combination once).

Two combinations:
- "mean": the plain mean of the ab vectors. Where the members disagree on hue
  the vectors partly cancel and the colour is muted (opposite hues give gray).
- "keep": the hue of that mean vector with the mean of the members' chroma
  (the lengths of their ab vectors), so disagreement does not wash colour out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from colorize.constants import DEFAULT_ENSEMBLE_CHROMA, ENSEMBLE_CHROMA
from colorize.errors import UsageError
from colorize.inference.fullres import (
    ChromaSource,
    as_image_array,
    colorize_images,
    full_lightness,
    merge_full_resolution,
    resize_ab,
    steer_with_hints,
)

if TYPE_CHECKING:
    from colorize.hints.sources import Hints

# Below this length (Lab units) the mean ab vector has no usable hue: the first
# member's hue is taken there (two exactly opposite hues, or all gray).
_NO_HUE = 1e-3


def check_distinct_models(paths: Sequence[Path]) -> list[Path]:
    """Return `paths` (resolved model files); UsageError if one file is named twice.

    Refused rather than warned about: the same model twice only weighs it double,
    which nobody asks for on purpose ("default" and data/models/default.keras are one file).
    """
    for index, path in enumerate(paths):
        for earlier in paths[:index]:
            if path == earlier or _same_file(path, earlier):
                raise UsageError(f"The model {path} is given twice (--model); name each model of an "
                                 "ensemble once.")
    return list(paths)


def _same_file(first: Path, second: Path) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def _ab_length(ab: np.ndarray) -> np.ndarray:
    return np.hypot(ab[..., 0], ab[..., 1])


def combine_chroma(members_ab: Sequence[np.ndarray], combine: str) -> np.ndarray:
    """Return the combined ab (Lab units) of same-size member ab arrays (H, W, 2).

    "mean" is the mean vector; "keep" has the mean vector's hue and the mean of
    the members' chroma (where the mean vector has no hue, the first member's).
    """
    if combine not in ENSEMBLE_CHROMA:
        raise UsageError(f"Unknown ensemble combination {combine!r}; choose from {', '.join(ENSEMBLE_CHROMA)}.")
    stack = np.stack([np.asarray(ab, dtype=np.float32) for ab in members_ab])
    mean = stack.mean(axis=0)
    if combine == "mean":
        return mean
    mean_chroma = _ab_length(stack).mean(axis=0)
    direction = np.where((_ab_length(mean) > _NO_HUE)[..., None], mean, stack[0])
    length = _ab_length(direction)
    unit = direction / np.maximum(length, _NO_HUE)[..., None]
    return np.where((length > _NO_HUE)[..., None], unit * mean_chroma[..., None], 0.0).astype(np.float32)


class EnsembleColorizer:
    """Several colourisers (colorizer.Colorizer) used as one, with the same interface."""

    def __init__(self, members: Sequence[ChromaSource], combine: str = DEFAULT_ENSEMBLE_CHROMA):
        if len(members) < 2:
            raise UsageError("An ensemble needs at least two models.")
        if combine not in ENSEMBLE_CHROMA:
            raise UsageError(f"Unknown ensemble combination {combine!r}; choose from {', '.join(ENSEMBLE_CHROMA)}.")
        self.members = list(members)
        self.combine = combine

    def working_size(self, height: int, width: int) -> tuple[int, int]:
        """Return the common (h, w) the members' ab is combined at: the largest of their working sizes."""
        return max((member.working_size(height, width) for member in self.members),
                   key=lambda size: size[0] * size[1])

    def combine_members(self, lightness: np.ndarray, members_ab: Sequence[np.ndarray]) -> np.ndarray:
        """Return the members' ab (each at its own working size) resized to the common size and combined."""
        size = self.working_size(*lightness.shape)
        return combine_chroma([resize_ab(ab, *size) for ab in members_ab], self.combine)

    def predict_chroma(self, lightnesses: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Return the combined ab (Lab units) for each full-size L, at the common working size."""
        per_member = [member.predict_chroma(lightnesses) for member in self.members]
        return [self.combine_members(lightness, [chroma[index] for chroma in per_member])
                for index, lightness in enumerate(lightnesses)]

    def colorize_batch(self, images: Sequence[np.ndarray], saturation: float = 1.0,
                       hints: "Sequence[Hints | None] | None" = None) -> list[np.ndarray]:
        """Return each image colourised by the ensemble (steered by its hints): uint8 RGB of its input's size."""
        return colorize_images(self, images, saturation, hints)

    def colorize(self, rgb: np.ndarray, saturation: float = 1.0, hints: "Hints | None" = None) -> np.ndarray:
        """Return one image colourised by the ensemble (colour inputs are reduced to their L first)."""
        return self.colorize_batch([rgb], saturation, [hints])[0]

    def colorize_with_members(self, rgb: np.ndarray, hints: "Hints | None" = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Return the ensemble's colourised image and each member's, from one run of each model, all steered by `hints`."""
        lightness = full_lightness(as_image_array(rgb))
        members_ab = [member.predict_chroma([lightness])[0] for member in self.members]
        ensemble_ab = steer_with_hints(lightness, self.combine_members(lightness, members_ab), hints)
        return (merge_full_resolution(lightness, ensemble_ab),
                [merge_full_resolution(lightness, steer_with_hints(lightness, ab, hints)) for ab in members_ab])
