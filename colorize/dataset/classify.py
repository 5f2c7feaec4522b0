"""Classify one file as ok / not_image / unreadable / grayscale / too_small.

Runs inside the scanner's worker threads, so it never raises: every failure
becomes a status and a short reason. It decodes only as much as the decision
needs: JPEGs through DCT scaling (Pillow's draft mode, which still reads the
whole entropy-coded stream, so a truncated JPEG fails here as it would in
training); other formats decode fully (their decoders cannot skip data) and
are reduced before the colour check.
"""

from __future__ import annotations

import io
import logging
import os
import stat
import warnings
from typing import BinaryIO, NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from colorize.constants import (FILM_SUFFIXES, GRAYSCALE_CHANNEL_TOLERANCE, GRAYSCALE_PEAK_TOLERANCE,
                                MAX_IMAGE_PIXELS, SCAN_PREVIEW_SIDE)
from colorize.dataset.archive import MemberError, read_member
from colorize.dataset.imagefile import GRAY_MODES, IMAGE_FORMATS, to_rgb_array

EXIF_ORIENTATION_TAG = 0x0112
SWAPPED_ORIENTATIONS = (5, 6, 7, 8)   # rotated by 90 or 270 degrees
SNIFF_BYTES = 512
# Modes whose bands can be box-averaged; a palette's indices cannot.
REDUCIBLE_MODES = ("RGB", "RGBA", "L", "LA", "CMYK", "YCbCr")

# The scanner checks the pixel count itself (below), so Pillow's warning for
# images between 1x and 2x the cap would only be noise on stderr; above 2x
# Pillow raises DecompressionBombError, which is classified. A process-wide
# filter because warnings.catch_warnings is not thread-safe.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# Every failure becomes a verdict with a reason, so Pillow's own complaints about
# broken files (TIFF "Tag data larger than file", logged "More samples per pixel")
# would only flood stderr when a messy folder is scanned (seen in a bit-flip fuzz).
warnings.filterwarnings("ignore", category=UserWarning, module="PIL")
logging.getLogger("PIL").addHandler(logging.NullHandler())


class Verdict(NamedTuple):
    status: str
    reason: str = ""
    width: int = 0
    height: int = 0


def classify_entry(source: str, member: str | None, min_side: int) -> Verdict:
    """Return the verdict for a plain file (member None) or a zip member; never raises."""
    try:
        if os.path.splitext(member or source)[1].lower() in FILM_SUFFIXES:
            return _classify_film(source, member)
        if member is None:
            return _classify_plain_file(source, min_side)
        try:
            data = read_member(source, member)
        except MemberError as error:
            return Verdict("unreadable", str(error))
        return classify_stream(io.BytesIO(data), len(data), min_side)
    except Exception as error:  # a scan must finish whatever one file holds (issue 8)
        return Verdict("unreadable", _short(f"{type(error).__name__}: {error}"))


def _classify_film(source: str, member: str | None) -> Verdict:
    """A film by its name: only predict opens it (with FFmpeg), so a scan stays fast and light."""
    if member is None:
        if not stat.S_ISREG(os.stat(source).st_mode):
            return Verdict("not_image", "not a regular file")
        if os.path.getsize(source) == 0:
            return Verdict("not_image", "empty file (0 bytes)")
    return Verdict("film", "a film (predict colours films; training uses photos)")


def _classify_plain_file(path: str, min_side: int) -> Verdict:
    """Open a file on disk, turning link, permission and special-file problems into verdicts."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return Verdict("unreadable", "broken symbolic link" if os.path.islink(path) else "file vanished")
    except OSError as error:
        if os.path.islink(path):
            return Verdict("unreadable", f"symbolic link problem ({error.strerror or error})")
        return Verdict("unreadable", _short(str(error)))
    if not stat.S_ISREG(status.st_mode):  # a FIFO would block a read forever
        return Verdict("not_image", "not a regular file")
    try:
        with open(path, "rb") as stream:
            return classify_stream(stream, status.st_size, min_side)
    except PermissionError:
        return Verdict("unreadable", "no permission to read")
    except OSError as error:
        return Verdict("unreadable", _short(error.strerror or str(error)))


def classify_stream(stream: BinaryIO, size: int, min_side: int) -> Verdict:
    """Return the verdict for the image bytes in `stream` (`size` bytes long)."""
    if size == 0:
        return Verdict("not_image", "empty file (0 bytes)")
    try:
        image = Image.open(stream, formats=IMAGE_FORMATS)
    except UnidentifiedImageError:
        stream.seek(0)
        return Verdict("not_image", sniff_reason(stream.read(SNIFF_BYTES)))
    except Image.DecompressionBombError:
        return Verdict("unreadable", "decompression bomb (too many pixels)")
    except Exception as error:  # Pillow raises many types for broken headers
        return Verdict("unreadable", _short(f"broken image header ({error})"))
    with image:
        return _classify_image(image, min_side)


def _classify_image(image: Image.Image, min_side: int) -> Verdict:
    """Decide on an opened image: bomb, decode failure, grayscale, too small, ok."""
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        return Verdict("unreadable", f"decompression bomb ({width}x{height} pixels)", width, height)
    image_format = image.format or "image"
    try:
        pixels = reduced_rgb(image)
    except Exception as error:
        message = str(error)
        reason = f"truncated {image_format}" if "truncated" in message else f"broken {image_format} ({message})"
        return Verdict("unreadable", _short(reason), width, height)
    # Only after the decode: a PNG's getexif() loads the whole image, so before the
    # pixel cap it decoded bombs (462 MB for 11000x10000), and a load failing inside
    # it was swallowed, leaving a broken PNG that a second load() took as decoded.
    width, height = oriented_size(image, (width, height))   # the size before a JPEG draft shrank it
    if is_grayscale(image.mode, pixels):
        return Verdict("grayscale", "grayscale", width, height)
    if min(width, height) < min_side:
        return Verdict("too_small", f"{width}x{height}, shorter side below {min_side} px", width, height)
    return Verdict("ok", "", width, height)


def oriented_size(image: Image.Image, size: tuple[int, int] | None = None) -> tuple[int, int]:
    """Return (width, height) after the EXIF orientation is applied (to `size`, default the image's)."""
    width, height = size or image.size
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION_TAG)
    except Exception:  # a broken EXIF block does not make the pixels unusable
        orientation = None
    return (height, width) if orientation in SWAPPED_ORIENTATIONS else (width, height)


def reduced_rgb(image: Image.Image) -> np.ndarray:
    """Decode `image` (all of its data) and return a small (h, w, 3) uint8 RGB version.

    The colour check runs on unrotated pixels: rotation moves pixels but does not
    change any pixel's channels, so the decision equals the one on oriented pixels.
    """
    factor = max(1, min(image.size) // SCAN_PREVIEW_SIDE)
    if image.format in ("JPEG", "MPO") and factor > 1:
        image.draft(image.mode, (image.width // factor, image.height // factor))
    image.load()
    factor = max(1, min(image.size) // SCAN_PREVIEW_SIDE)
    if factor > 1 and image.mode in REDUCIBLE_MODES:
        image = image.reduce(factor)  # box filter in C, ~1 ms for a photo
    return to_rgb_array(image)


def is_grayscale(mode: str, rgb: np.ndarray) -> bool:
    """Return whether converted pixels carry no colour: a gray mode, or (nearly) equal channels."""
    if mode in GRAY_MODES:
        return True
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # Element-wise over the three planes: numpy's max(axis=2) over a length-3 axis
    # was 10x slower and took half the scan time (cProfile, 298 photos).
    chroma = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    if chroma.mean() >= GRAYSCALE_CHANNEL_TOLERANCE:
        return False
    return float(np.percentile(chroma, 99)) < GRAYSCALE_PEAK_TOLERANCE


def sniff_reason(head: bytes) -> str:
    """Return a short guess of what a non-image file is, from its first bytes."""
    if head.startswith(b"PK\x03\x04"):
        return "not an image (zip archive; archives inside a dataset are not opened)"
    if head.startswith(b"%PDF"):
        return "not an image (PDF)"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "not an image (text)"
        except UnicodeDecodeError as error:
            if error.start >= len(head) - 3:  # a multi-byte character cut by the sniff window
                return "not an image (text)"
    return "not an image (unknown or unsupported format)"


def _short(text: str, limit: int = 100) -> str:
    """Return `text` on one line, at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

