"""Decode one image file with the product's format rules, shared by the scanner,
the loader and the predictor so they never disagree about a file.

Rules: EXIF orientation applied; RGBA/LA/transparent palettes
composited on white; palette and CMYK converted; 16-bit and 32-bit integer
grays scaled to 8 bits; decompression bombs refused.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps

from colorize.constants import MAX_IMAGE_PIXELS

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# open_image enforces the cap itself; the warning Pillow gives between 1x and
# 2x the cap would only be noise.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)
# Only these decoders are trusted with files from strangers: Pillow's EPS
# plugin, for one, runs Ghostscript. The JPEG opener also returns MPO (camera
# multi-picture JPEGs).
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP")

ImageSource = Union[str, Path, bytes, BinaryIO]
ORIENTATION_TAG = 0x0112     # EXIF Orientation: 5-8 turn the photo a quarter
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


class ImageDecodeError(Exception):
    """The file is not a decodable image, or is too large to decode safely."""


def _open_unloaded(source: ImageSource) -> Image.Image:
    """Return the image with its header read and its pixels not decoded yet; ImageDecodeError for a bomb."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    # Only the formats we promise: Pillow's EPS reader, say, runs Ghostscript.
    image = Image.open(source, formats=IMAGE_FORMATS)
    # Checked here rather than by turning Pillow's DecompressionBombWarning
    # into an error: warnings.catch_warnings is not thread-safe, and the
    # loader and scanner decode on several threads.
    if image.width * image.height > MAX_IMAGE_PIXELS:
        raise ImageDecodeError(
            f"decompression bomb: {image.width}x{image.height} pixels is over the {MAX_IMAGE_PIXELS:,} limit")
    return image


def open_image(source: ImageSource) -> Image.Image:
    """Return a fully loaded, EXIF-oriented Pillow image; raise ImageDecodeError."""
    try:
        image = _open_unloaded(source)
        image.load()
        return ImageOps.exif_transpose(image)
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageDecodeError(f"decompression bomb: {error}") from error
    except Exception as error:  # Pillow raises many types for broken files
        raise ImageDecodeError(str(error) or type(error).__name__) from error


def _gray_to_uint8(image: Image.Image) -> np.ndarray:
    """Scale a gray image of any bit depth to uint8 (16-bit PNGs arrive as mode I)."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if image.mode.startswith("I;16"):
        top = 65535.0
    elif image.mode == "F" and array.max(initial=0) <= 1.0:
        top = 1.0
    else:  # mode I: 16-bit PNGs may arrive so in older Pillow versions
        top = 65535.0 if array.max(initial=0) > 255 else 255.0
    array = array.astype(np.float64)
    return np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _composite_on_white(image: Image.Image) -> Image.Image:
    """Return an RGB image with any transparency flattened onto white."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """Return an (H, W, 3) uint8 array of a decoded image under the format rules."""
    mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
        return np.asarray(_composite_on_white(image))
    if mode in GRAY_MODES:
        gray = _gray_to_uint8(image if mode != "1" else image.convert("L"))
        return np.repeat(gray[..., None], 3, axis=2)
    if mode != "RGB":
        image = image.convert("RGB")  # palette, CMYK, YCbCr, LAB, HSV
    return np.asarray(image)


def decode_small_rgb(source: ImageSource, side: int) -> np.ndarray:
    """Return the image at `source` shrunk to about `side` px on its shorter side, as (h, w, 3) uint8 RGB.

    For statistics over many photos (the colour prior): a JPEG is decoded at a
    DCT scale (draft: a 12 MP photo in a fraction of the full decode), other
    formats are box-reduced after the decode. Not EXIF-oriented: a histogram
    does not care. Never smaller than `side` unless the photo is.
    """
    try:
        image = _open_unloaded(source)
        factor = max(1, min(image.size) // side)
        if image.format in ("JPEG", "MPO") and factor > 1:
            image.draft("RGB", (image.width // factor, image.height // factor))
        image.load()
        factor = max(1, min(image.size) // side)
        if factor > 1 and image.mode in ("RGB", "RGBA", "L", "LA"):
            image = image.reduce(factor)
        return to_rgb_array(image)
    except ImageDecodeError:
        raise
    except Exception as error:  # Pillow raises many types for broken files
        raise ImageDecodeError(str(error) or type(error).__name__) from error


def decode_rgb_square(source: ImageSource, place, side: int) -> np.ndarray:
    """Return a square of the EXIF-oriented image resized to `side` x `side`, as (side, side, 3) uint8 RGB.

    `place(width, height)` -> (left, top, window) says where the square lies in
    the oriented photo at full size. A JPEG is decoded at the smallest DCT scale
    that still gives the square at least `side` px (draft: a 640x480 photo's
    centre square for 128 px at half size), and the square is cut out and
    resized (antialiased bilinear) on 8-bit pixels, not on the whole photo in
    floats. The loader's crops, under the same format rules as decode_rgb.
    """
    try:
        image = _open_unloaded(source)
        turned = image.getexif().get(ORIENTATION_TAG, 1) in (5, 6, 7, 8)   # exif_transpose swaps the sides
        width, height = (image.height, image.width) if turned else image.size
        left, top, window = place(width, height)
        if image.format in ("JPEG", "MPO") and window > side:
            shrink = window / side   # the draft keeps at least the requested size
            image.draft("RGB", (math.ceil(image.width / shrink), math.ceil(image.height / shrink)))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)   # no copy of a photo that needs no turn
        scale = image.width / width
        box = (left * scale, top * scale, (left + window) * scale, (top + window) * scale)
        if image.mode in ("RGB", "L"):   # the common photo: resized first, so only the crop is copied
            return to_rgb_array(image.resize((side, side), Image.Resampling.BILINEAR, box=box))
        rgb = to_rgb_array(image)
    except ImageDecodeError:
        raise
    except Exception as error:  # Pillow raises many types for broken files
        raise ImageDecodeError(str(error) or type(error).__name__) from error
    return np.asarray(Image.fromarray(rgb).resize((side, side), Image.Resampling.BILINEAR, box=box))


def decode_rgb(source: ImageSource) -> np.ndarray:
    """Return the image at `source` as (H, W, 3) uint8 RGB; raise ImageDecodeError."""
    image = open_image(source)
    try:
        return to_rgb_array(image)
    except Exception as error:
        raise ImageDecodeError(str(error) or type(error).__name__) from error
    finally:
        image.close()
