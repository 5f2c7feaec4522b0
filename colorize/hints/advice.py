"""Where a hint helps most: the model's uncertainty, and the colours it finds likely there.

`predict --where-to-hint` (issue 26). A colour-class model gives a probability
for every ab bin at every pixel; where that distribution is flat (high
entropy) the model is guessing, and one hint there changes the most. Zhang et
al. 2017 show a person the few colours the model finds most likely at a point
to choose from; here they come as a points file the person can edit (change a
colour, delete a point) and give back to `--hints`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from colorize.dataset import color
from colorize.errors import UsageError
from colorize.inference.fullres import full_lightness, resize_plane

if TYPE_CHECKING:
    from colorize.inference.colorizer import Colorizer

SUGGESTED_POINTS = 5         # points offered per photo: a handful is what a person gives (Zhang 2017)
COLOURS_PER_POINT = 3        # the model's most likely colours at each point
# Suggested points keep this share of the long side apart, so they land on different things.
POINT_SPACING_SHARE = 0.15
SUGGESTION_LIGHTNESS = 60.0  # L at which a suggested bin colour is shown when the photo's L is extreme


@dataclass(frozen=True)
class HintAdvice:
    """The model's uncertainty over one photo (0 sure .. 1 guessing, the photo's size) and suggested points."""

    uncertainty: np.ndarray      # (H, W) float32
    points: list[dict]           # [{"x", "y", "color", "other_colors", "uncertainty"}], most uncertain first


class HintAdvisor:
    """Reads a class-head model's per-pixel colour distributions to say where hints help most."""

    def __init__(self, colorizer: "Colorizer"):
        from colorize.models import ab_classes

        model = getattr(colorizer, "model", None)
        if model is None or not ab_classes.has_class_head(model):
            raise UsageError("--where-to-hint needs one model with a colour-class head (the shipped model "
                             "has one); this model predicts colour directly, so it cannot say how sure it is.")
        import keras

        self.colorizer = colorizer
        self.centres = np.asarray(ab_classes.class_head_settings(model)["centres"], np.float32)
        from colorize.models.hint_model import has_hint_inputs

        self.probabilities = keras.Model(model.inputs, model.get_layer(ab_classes.PROBABILITIES_LAYER).output)
        self.takes_hints = has_hint_inputs(model)   # asked before any hint: a hint model's own guess

    def _distribution(self, lightness: np.ndarray) -> np.ndarray:
        """Return the class probabilities (h, w, Q) of a full-size L, at the head's stride."""
        working = resize_plane(lightness, *self.colorizer.working_size(*lightness.shape))
        model_input = color.normalize_l(working)[None, ..., None].astype(np.float32)
        from colorize.models.hint_model import call_inputs

        return np.asarray(self.probabilities(call_inputs(self.takes_hints, model_input), training=False),
                          np.float32)[0]

    def advise(self, image: np.ndarray) -> HintAdvice:
        """Return the uncertainty map and suggested points for a uint8 photo (gray or colour)."""
        lightness = full_lightness(image)
        probabilities = self._distribution(lightness)
        entropy = -(probabilities * np.log(np.maximum(probabilities, 1e-12))).sum(axis=-1)
        entropy /= np.log(len(self.centres))
        height, width = lightness.shape
        uncertainty = np.clip(resize_plane(entropy, height, width), 0.0, 1.0)
        return HintAdvice(uncertainty, self._suggest(lightness, probabilities, entropy))

    def _suggest(self, lightness: np.ndarray, probabilities: np.ndarray, entropy: np.ndarray) -> list[dict]:
        """Return the most uncertain points, kept apart, each with the model's likeliest colours."""
        height, width = lightness.shape
        head_height, head_width = entropy.shape
        spacing = POINT_SPACING_SHARE * max(head_height, head_width)
        rows, columns = np.mgrid[0:head_height, 0:head_width]
        remaining = entropy.copy()
        # Not at the very edge: a convolution's zero padding makes the border look unsure.
        remaining[[0, -1], :] = remaining[:, [0, -1]] = -np.inf
        points = []
        while len(points) < SUGGESTED_POINTS and np.isfinite(remaining).any():   # taken areas become -inf
            row, column = np.unravel_index(np.nanargmax(remaining), remaining.shape)
            remaining[(rows - row) ** 2 + (columns - column) ** 2 <= spacing ** 2] = -np.inf
            x = min(width - 1, int((column + 0.5) * width / head_width))
            y = min(height - 1, int((row + 0.5) * height / head_height))
            likeliest = np.argsort(probabilities[row, column])[::-1][:COLOURS_PER_POINT]
            colours = [self._hex(lightness[y, x], self.centres[index]) for index in likeliest]
            points.append({"x": x, "y": y, "color": colours[0], "other_colors": colours[1:],
                           "uncertainty": round(float(entropy[row, column]), 3)})
        return points

    @staticmethod
    def _hex(lightness: float, ab: np.ndarray) -> str:
        """Return #rrggbb of a bin's ab at a visible lightness (near-black or near-white hides any hue)."""
        shown = float(np.clip(lightness, 25.0, 85.0)) if 5.0 < lightness < 95.0 else SUGGESTION_LIGHTNESS
        lab = np.array([[[shown, float(ab[0]), float(ab[1])]]], np.float64)
        rgb = np.clip(color.lab_to_rgb(lab)[0, 0] * 255.0 + 0.5, 0, 255).astype(int)
        return "#" + "".join(f"{channel:02x}" for channel in rgb)


def uncertainty_picture(image: np.ndarray, advice: HintAdvice) -> np.ndarray:
    """Return a uint8 RGB picture: the gray photo, tinted red where the model is unsure, with the points marked."""
    gray = full_lightness(image) / 100.0
    # Relative to the photo: a class head is rarely sure anywhere (normalised entropy
    # 0.6-0.85 over a whole landscape), and what a person needs is where it is least sure.
    low, high = np.percentile(advice.uncertainty, [5, 99])
    heat = (np.clip((advice.uncertainty - low) / max(high - low, 1e-6), 0.0, 1.0) ** 2)[..., None]
    base = np.repeat(gray[..., None], 3, axis=2) * 0.6 + 0.2
    tint = np.array([1.0, 0.15, 0.1], np.float32)
    picture = (1.0 - 0.6 * heat) * base + 0.6 * heat * tint
    side = max(2, round(0.01 * max(gray.shape)))
    for point in advice.points:   # a white square with a dark ring marks each suggested point
        y, x = point["y"], point["x"]
        picture[max(0, y - 2 * side):y + 2 * side + 1, max(0, x - 2 * side):x + 2 * side + 1] = 0.05
        picture[max(0, y - side):y + side + 1, max(0, x - side):x + side + 1] = 1.0
    return (np.clip(picture, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
