"""Colourise arrays and files at full resolution with any usable saved model.

The model sees the lightness L at its own working size; the ab it predicts is
resized back to the input's size and merged with the input's own full-size L
(the split richzhang/colorization makes between model and output resolution),
so outputs are as sharp as the inputs and exactly their size.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
from PIL import Image

from colorize import color
from colorize.constants import PREDICT_LONG_SIDE, PREDICT_STRIP_PIXELS
from colorize.errors import UsageError
from colorize.modelfile import inspect_model, load_model_file, resolve_model_path

if TYPE_CHECKING:
    import keras


@functools.lru_cache(maxsize=1)
def _gray_lightness_table() -> np.ndarray:
    """Return L (0..100) of each of the 256 gray levels, from color.rgb_to_lab."""
    levels = np.repeat(np.arange(256, dtype=np.uint8)[:, None, None], 3, axis=2)
    return color.rgb_to_lab(levels)[:, 0, 0].copy()


def _row_strips(height: int, width: int) -> range:
    """Return the first rows of strips of about PREDICT_STRIP_PIXELS pixels."""
    return range(0, height, max(1, PREDICT_STRIP_PIXELS // max(width, 1)))


def full_lightness(image: np.ndarray) -> np.ndarray:
    """Return the L channel (0..100, float32) of a uint8 gray (H, W) or RGB (H, W, 3) image."""
    if image.ndim == 2:
        return _gray_lightness_table()[image]
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    if np.array_equal(red, green) and np.array_equal(green, blue):
        return _gray_lightness_table()[red]   # a table look-up: 12 MP in ~50 ms
    lightness = np.empty(image.shape[:2], dtype=np.float32)
    rows = _row_strips(*image.shape[:2])
    for start in rows:  # strips: skimage converts in float64
        lightness[start:start + rows.step] = color.rgb_to_lab(image[start:start + rows.step])[..., 0]
    return lightness


def resize_plane(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    """Return a float32 2-D array resized bilinearly (antialiased when shrinking)."""
    if plane.shape == (height, width):
        return plane.astype(np.float32, copy=False)
    # Pillow's float mode resizes in C without float64 copies; its bilinear filter
    # widens its support when shrinking, so a 12 MP L shrinks without aliasing.
    resized = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def merge_full_resolution(lightness: np.ndarray, ab: np.ndarray, saturation: float = 1.0) -> np.ndarray:
    """Return uint8 RGB of the full-size L joined with `ab` (Lab units) resized to it."""
    height, width = lightness.shape
    ab_full = np.stack([resize_plane(ab[..., channel], height, width) for channel in (0, 1)], axis=-1)
    if saturation != 1.0:
        ab_full *= np.float32(saturation)
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    rows = _row_strips(height, width)
    with warnings.catch_warnings():
        # Out-of-gamut Lab is expected from a model; lab_to_rgb clips it, and
        # skimage's "negative Z values" warning would only clutter the console.
        warnings.filterwarnings("ignore", message=".*negative Z values.*")
        for start in rows:
            stop = start + rows.step
            lab = np.concatenate([lightness[start:stop, :, None], ab_full[start:stop]], axis=-1)
            rgb[start:stop] = (color.lab_to_rgb(lab) * 255.0 + 0.5).astype(np.uint8)
    return rgb


def _as_image_array(image: np.ndarray) -> np.ndarray:
    """Check that `image` is uint8 (H, W) or (H, W, 3) and return it."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise UsageError(f"Expected a uint8 image of shape (H, W) or (H, W, 3), got {image.dtype} {image.shape}.")
    if min(image.shape[:2]) < 1:
        raise UsageError(f"The image is empty ({image.shape[0]}x{image.shape[1]}).")
    return image


@dataclass
class _PreparedImage:
    lightness: np.ndarray     # full-size L, float32 0..100
    model_input: np.ndarray   # (h, w, 1) float32 at the model's working size


class Colorizer:
    """A loaded model plus the rules to run it on photos of any size."""

    def __init__(self, model: "keras.Model", working_long_side: int = PREDICT_LONG_SIDE):
        self.model = model
        self.info = inspect_model(model)
        self.working_long_side = working_long_side

    @classmethod
    def from_path(cls, path: str | Path) -> "Colorizer":
        """Return a Colorizer for the model file at `path` ("default" = the shipped model)."""
        return cls(load_model_file(resolve_model_path(str(path))))

    def working_size(self, height: int, width: int) -> tuple[int, int]:
        """Return the (h, w) the model sees for an image of (height, width)."""
        if self.info.input_size is not None:
            return self.info.input_size
        multiple = self.info.size_multiple
        # Never upsample: a small photo is worked on at its own size.
        scale = min(self.working_long_side, max(height, width)) / max(height, width)
        return tuple(max(multiple, round(side * scale / multiple) * multiple) for side in (height, width))

    def _prepare(self, image: np.ndarray) -> _PreparedImage:
        lightness = full_lightness(_as_image_array(image))
        working = resize_plane(lightness, *self.working_size(*lightness.shape))
        if self.info.kind == "ab":
            model_input = color.normalize_l(working)
        else:  # older RGB colourisers take the gray picture itself, 0..1
            model_input = color.gray_to_rgb(working)[..., 0]
        return _PreparedImage(lightness, model_input[..., None].astype(np.float32))

    def _predict_ab(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Run the model on same-size groups of inputs; return ab in Lab units for each."""
        groups: dict[tuple, list[int]] = {}
        for index, model_input in enumerate(inputs):
            groups.setdefault(model_input.shape, []).append(index)
        predictions: list[np.ndarray] = [np.empty(0)] * len(inputs)
        for indices in groups.values():
            batch = np.stack([inputs[index] for index in indices])
            output = np.asarray(self.model(batch, training=False), dtype=np.float32)
            for index, single in zip(indices, output):
                predictions[index] = self._ab_of(single)
        return predictions

    def _ab_of(self, output: np.ndarray) -> np.ndarray:
        if self.info.kind == "ab":
            return color.denormalize_ab(output)
        return color.rgb_to_lab(np.clip(output, 0.0, 1.0))[..., 1:]

    def colorize_batch(self, images: Sequence[np.ndarray], saturation: float = 1.0) -> list[np.ndarray]:
        """Return each image colourised: uint8 (H, W, 3) RGB of the same size as its input."""
        prepared = [self._prepare(image) for image in images]
        predictions = self._predict_ab([item.model_input for item in prepared])
        return [merge_full_resolution(item.lightness, ab, saturation) for item, ab in zip(prepared, predictions)]

    def colorize(self, rgb: np.ndarray, saturation: float = 1.0) -> np.ndarray:
        """Return one image colourised (colour inputs are reduced to their L first)."""
        return self.colorize_batch([rgb], saturation)[0]
