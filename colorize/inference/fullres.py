"""The full-resolution merge: L at the input's own size, ab at a model's working size.

A colouriser (colorizer.Colorizer, or ensemble.EnsembleColorizer combining
several) predicts ab from a smaller copy of L; here that ab is resized back to
the input's size and joined with the input's own full-size L (the split
richzhang/colorization makes between model and output resolution), so outputs
are as sharp as the inputs and exactly their size.
"""

from __future__ import annotations

import functools
import warnings
from typing import TYPE_CHECKING, Protocol, Sequence

import numpy as np
from PIL import Image

from colorize.dataset import color
from colorize.constants import PREDICT_STRIP_PIXELS
from colorize.errors import UsageError

if TYPE_CHECKING:
    from colorize.hints.sources import Hints


class ChromaSource(Protocol):
    """Anything that predicts ab at a working size from full-size L planes."""

    def working_size(self, height: int, width: int) -> tuple[int, int]: ...

    def predict_chroma(self, lightnesses: Sequence[np.ndarray]) -> list[np.ndarray]: ...


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


def resize_ab(ab: np.ndarray, height: int, width: int) -> np.ndarray:
    """Return a float32 (H, W, 2) ab resized bilinearly to (height, width)."""
    return np.stack([resize_plane(ab[..., channel], height, width) for channel in (0, 1)], axis=-1)


def _ab_strip(planes: list, small_height: int, start: int, stop: int, height: int, width: int) -> list:
    """Return the a and b planes (Pillow float images of the working size) resized to rows start..stop
    of a (height, width) photo.

    Pillow's resize of a box reads its filter's support past the box, so the
    strips join exactly as one whole resize would (to ~1e-7).
    """
    box = (0, start * small_height / height, planes[0].width, stop * small_height / height)
    return [np.asarray(plane.resize((width, stop - start), Image.Resampling.BILINEAR, box=box), np.float32)
            for plane in planes]


def merge_full_resolution(lightness: np.ndarray, ab: np.ndarray, saturation: float = 1.0) -> np.ndarray:
    """Return uint8 RGB of the full-size L joined with `ab` (Lab units) resized to it.

    Strip by strip, ab too: a 12 MP photo never holds its full-size ab (96 MB,
    and twice that while the two planes were stacked).
    """
    height, width = lightness.shape
    same_size = ab.shape[:2] == lightness.shape
    planes = None if same_size else [Image.fromarray(np.ascontiguousarray(ab[..., channel], dtype=np.float32))
                                     for channel in (0, 1)]
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    rows = _row_strips(height, width)
    with warnings.catch_warnings():
        # Out-of-gamut Lab is expected from a model; lab_to_rgb clips it, and
        # skimage's "negative Z values" warning would only clutter the console.
        warnings.filterwarnings("ignore", message=".*negative Z values.*")
        for start in rows:
            stop = min(height, start + rows.step)
            strip_ab = ([ab[start:stop, :, 0], ab[start:stop, :, 1]] if same_size
                        else _ab_strip(planes, ab.shape[0], start, stop, height, width))
            lab = np.stack([lightness[start:stop], *strip_ab], axis=-1).astype(np.float32, copy=False)
            if saturation != 1.0:
                lab[..., 1:] *= np.float32(saturation)
            rgb[start:stop] = (color.lab_to_rgb(lab) * 255.0 + 0.5).astype(np.uint8)
    return rgb


def as_image_array(image: np.ndarray) -> np.ndarray:
    """Check that `image` is uint8 (H, W) or (H, W, 3) and return it."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise UsageError(f"Expected a uint8 image of shape (H, W) or (H, W, 3), got {image.dtype} {image.shape}.")
    if min(image.shape[:2]) < 1:
        raise UsageError(f"The image is empty ({image.shape[0]}x{image.shape[1]}).")
    return image


def steer_with_hints(lightness: np.ndarray, ab: np.ndarray, image_hints: "Hints | None",
                     features: np.ndarray | None = None) -> np.ndarray:
    """Return `ab` (working size) steered by hints given at the photo's full size, or `ab` itself.

    Hints act at the working size, where the model's colour is: so one model,
    an ensemble and an RGB model all honour them, and the full-size result
    still keeps the photo's own L (issue 26). With the model's feature map, a
    hint also reaches what the network sees as the same stuff across texture
    (hints/feature_edges.py: +0.39 dB over L edges alone, outside album, 10 points).
    """
    if image_hints is None or not image_hints.count:
        return ab
    from colorize.hints.feature_edges import apply_feature_hints
    from colorize.hints.propagation import apply_hints
    from colorize.hints.sources import hints_at_size

    height, width = ab.shape[:2]
    working_lightness = resize_plane(lightness, height, width)
    working_hints = hints_at_size(image_hints, height, width)
    if features is None:
        return apply_hints(working_lightness, ab, working_hints)
    return apply_feature_hints(working_lightness, ab, working_hints, features)


def _chroma_and_features(colorizer: ChromaSource, lightnesses: list[np.ndarray],
                         hints: list) -> tuple[list[np.ndarray], list]:
    """Return the ab of each L and, when some image has hints and the model gives them, its feature maps."""
    hinted = any(image_hints is not None and image_hints.count for image_hints in hints)
    if hinted and getattr(colorizer, "gives_hint_features", lambda: False)():
        return colorizer.predict_chroma_and_features(lightnesses, hints)
    return colorizer.predict_chroma(lightnesses), [None] * len(lightnesses)


def colorize_images(colorizer: ChromaSource, images: Sequence[np.ndarray], saturation: float = 1.0,
                    hints: "Sequence[Hints | None] | None" = None) -> list[np.ndarray]:
    """Return each image colourised by `colorizer` (anything with predict_chroma), at its input's size.

    The ab (a single model's or an ensemble's) is steered by each image's
    hints (None: none), then merged with the full-size L of each input;
    `saturation` scales it once, here.
    """
    lightnesses = [full_lightness(as_image_array(image)) for image in images]
    hints = list(hints) if hints is not None else [None] * len(images)
    if len(hints) != len(images):
        raise UsageError(f"Got hints for {len(hints)} images but {len(images)} images.")
    chroma, features = _chroma_and_features(colorizer, lightnesses, hints)
    chroma = [steer_with_hints(lightness, ab, image_hints, feature_map)
              for lightness, ab, image_hints, feature_map in zip(lightnesses, chroma, hints, features)]
    return [merge_full_resolution(lightness, ab, saturation) for lightness, ab in zip(lightnesses, chroma)]
