"""Colour hints (issue 26): the Hints a photo has, read from a person's file or simulated, at any size.

A hint is an ab colour fixed at some pixels of a photo:
- read_hints: a points JSON `{"points": [{"x": 120, "y": 80, "color": "#c0302a"}]}`
  (pixel coordinates, origin top-left; a point covers a square patch of side
  1% of the long side), a transparent RGBA PNG with painted strokes (every
  opaque pixel), or a colour copy of the photo with strokes painted on it
  (every pixel whose ab differs from the photo's by more than HINT_CHROMA);
- simulate_hints: Zhang et al. 2017's simulated user, N seeded random points,
  each the mean true ab of its patch;
- hints_at_size: the same hints at the model's working size.
How they steer a model's colour is propagation.py's (and feature_edges.py's).

numpy and Pillow only: no TensorFlow here, so the CLI can read and check hint
files before a model loads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from colorize.constants import PREDICT_STRIP_PIXELS
from colorize.dataset import color
from colorize.errors import HintError

POINT_PATCH_SHARE = 0.01     # Zhang et al. 2017: a point is a patch of side ~1% of the long side
# A painted colour copy: JPEG noise and chroma subsampling move a gray photo's
# ab by a few units (measured up to ~4 at quality 75 on strokes' edges); a
# stroke a person means as colour is far above 10 (a pale skin tone is ~15).
HINT_CHROMA = 10.0
OPAQUE_ALPHA = 128           # a stroke layer's anti-aliased edges: half-opaque or more counts
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Hints:
    """Hint colours of one photo, kept as the list of its hint pixels.

    A list, not planes: a few points on a 12 MP photo held as (H, W) planes
    cost ~40 MiB (numpy backs big arrays with 2 MB huge pages, so each small
    patch touches whole ones). `mask` and `ab` give the planes where a step
    needs them, at the model's working size.
    """

    shape: tuple[int, int]   # (H, W) of the photo they belong to
    index: np.ndarray        # (n,) flat pixel indices, increasing, each once
    colours: np.ndarray      # (n, C) float32: ab in Lab units (or any C values per hint pixel)

    @classmethod
    def from_planes(cls, mask: np.ndarray, values: np.ndarray) -> "Hints":
        """Return the hints at the True pixels of `mask` (H, W), with their `values` (H, W, C)."""
        index = np.flatnonzero(mask)
        return cls(tuple(mask.shape), index, np.asarray(values, np.float32).reshape(-1, values.shape[-1])[index])

    @property
    def count(self) -> int:
        """Return how many pixels carry a hint."""
        return int(self.index.size)

    @property
    def mask(self) -> np.ndarray:
        """Return (H, W) bool: where the hints are."""
        plane = np.zeros(self.shape, bool)
        plane.ravel()[self.index] = True
        return plane

    @property
    def ab(self) -> np.ndarray:
        """Return (H, W, C) float32: each hint pixel's values, 0 elsewhere."""
        plane = np.zeros((self.shape[0] * self.shape[1], self.colours.shape[-1]), np.float32)
        plane[self.index] = self.colours
        return plane.reshape(self.shape + (-1,))


def no_hints(height: int, width: int) -> Hints:
    """Return empty hints for a photo of (height, width)."""
    return Hints((height, width), np.zeros(0, np.int64), np.zeros((0, 2), np.float32))


def _patches_to_hints(patches: list[tuple[tuple[slice, slice], np.ndarray]], height: int, width: int) -> Hints:
    """Return the hints of square patches [((rows, columns), ab)], a later patch winning where two overlap."""
    if not patches:
        return no_hints(height, width)
    index = np.concatenate([np.ravel_multi_index(np.mgrid[rows, columns].reshape(2, -1), (height, width))
                            for (rows, columns), _ in patches])
    colours = np.concatenate([np.broadcast_to(np.asarray(ab, np.float32), ((rows.stop - rows.start) *
                                                                           (columns.stop - columns.start), 2))
                              for (rows, columns), ab in patches])
    last = index.size - 1 - np.unique(index[::-1], return_index=True)[1]   # np.unique keeps the first: reversed
    return Hints((height, width), index[last], colours[last])


def patch_side(height: int, width: int) -> int:
    """Return the side of a point's square patch: 1% of the long side, at least 1 px."""
    return max(1, round(POINT_PATCH_SHARE * max(height, width)))


def _patch(x: int, y: int, side: int, height: int, width: int) -> tuple[slice, slice]:
    """Return the (rows, columns) of the square patch of `side` centred on (x, y), clipped to the photo."""
    top, left = y - (side - 1) // 2, x - (side - 1) // 2
    return slice(max(0, top), min(height, top + side)), slice(max(0, left), min(width, left + side))


def _hex_to_ab(text: str) -> np.ndarray:
    """Return the ab (Lab units) of a #rrggbb colour."""
    rgb = np.array([[[int(text[i:i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
    return color.rgb_to_lab(rgb)[0, 0, 1:]


# --- reading hint files ---------------------------------------------------------

def _load_points(path: Path) -> list:
    """Return the list under "points" of a points file, or raise HintError naming what is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise HintError(f"Cannot read the hint file {path}: {error}.") from error
    except json.JSONDecodeError as error:
        raise HintError(f"The hint file {path} is not valid JSON (line {error.lineno}, "
                        f"column {error.colno}: {error.msg}).") from error
    points = document.get("points") if isinstance(document, dict) else None
    if not isinstance(points, list):
        raise HintError(f'The hint file {path} must hold {{"points": [{{"x": .., "y": .., '
                        f'"color": "#rrggbb"}}, ...]}}.')
    return points


def _check_point(path: Path, number: int, point, height: int, width: int) -> tuple[int, int, str]:
    """Return (x, y, colour) of one point, or raise HintError naming the file and the point."""
    where = f"The hint file {path}, point {number}"
    if not isinstance(point, dict) or not {"x", "y", "color"} <= point.keys():
        raise HintError(f'{where}: needs "x", "y" and "color", got {json.dumps(point)[:80]}.')
    x, y, colour = point["x"], point["y"], point["color"]
    for name, value in (("x", x), ("y", y)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise HintError(f"{where}: {name} must be a whole pixel number, got {json.dumps(value)}.")
    if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
        raise HintError(f"{where}: colour {json.dumps(colour)} is not #rrggbb (e.g. #c0302a).")
    if not (0 <= x < width and 0 <= y < height):
        raise HintError(f"{where}: ({int(x)}, {int(y)}) is outside the photo ({width}x{height}; "
                        f"x 0..{width - 1}, y 0..{height - 1}).")
    return int(x), int(y), colour


def read_points(path: Path, height: int, width: int) -> Hints:
    """Return the hints of a points JSON for a photo of (height, width)."""
    points = [_check_point(path, number, point, height, width)
              for number, point in enumerate(_load_points(path), start=1)]
    side = patch_side(height, width)
    return _patches_to_hints([(_patch(x, y, side, height, width), _hex_to_ab(colour)) for x, y, colour in points],
                             height, width)


def _load_painted(path: Path, height: int, width: int) -> Image.Image:
    """Return the painted image, loaded, or raise HintError if unreadable or not the photo's size."""
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as error:
        raise HintError(f"Cannot read the hint image {path}: {error}.") from error
    if image.size != (width, height):
        raise HintError(f"The hint image {path} is {image.width}x{image.height}, "
                        f"but its photo is {width}x{height}; paint on a copy of the same size.")
    return image


def _is_gray(photo: np.ndarray) -> bool:
    """Return whether the photo is gray (one channel, or three equal ones)."""
    return photo.ndim == 2 or (np.array_equal(photo[..., 0], photo[..., 1])
                               and np.array_equal(photo[..., 1], photo[..., 2]))


def _painted_strokes(rgb: np.ndarray, photo: np.ndarray, gray: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return (flat indices, ab) of the pixels of a painted copy `rgb` whose ab differs from the photo's
    by more than HINT_CHROMA, converted in row strips (skimage's Lab is float64: a whole 12 MP copy at
    once took ~800 MiB)."""
    height, width = rgb.shape[:2]
    step = max(1, PREDICT_STRIP_PIXELS // width)
    index, colours = [], []
    for start in range(0, height, step):
        ab = color.rgb_to_lab(np.ascontiguousarray(rgb[start:start + step]))[..., 1:]
        own = 0.0 if gray else color.rgb_to_lab(np.ascontiguousarray(photo[start:start + step]))[..., 1:]
        flat = np.flatnonzero(np.hypot(*np.moveaxis(ab - own, -1, 0)) > HINT_CHROMA)
        index.append(flat + start * width)
        colours.append(ab.reshape(-1, 2)[flat])
    return np.concatenate(index), np.concatenate(colours).astype(np.float32)


def read_painted(path: Path, photo: np.ndarray) -> Hints:
    """Return the hints of a painted image: a stroke layer (transparent elsewhere) or a painted colour copy."""
    height, width = photo.shape[:2]
    image = _load_painted(path, height, width)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    rgba = np.asarray(image.convert("RGBA"))
    opaque = rgba[..., 3] >= OPAQUE_ALPHA
    if has_alpha and not opaque.all():   # a stroke layer: what is painted is the hint
        index = np.flatnonzero(opaque)
        painted = np.ascontiguousarray(rgba.reshape(-1, 4)[index, :3])[None]
        return Hints((height, width), index, color.rgb_to_lab(painted)[0, :, 1:].astype(np.float32))
    # a colour copy: what differs from the photo's own colour is the hint
    return Hints((height, width), *_painted_strokes(rgba[..., :3], photo, _is_gray(photo)))


def read_hints(path: str | Path, photo: np.ndarray) -> Hints:
    """Return the hints in `path` (a .json points file or a painted image) for `photo` (uint8, (H, W) or (H, W, 3)).

    Raises HintError with one line naming the file and what is wrong; the file
    is only ever opened for reading.
    """
    path = Path(path)
    if not path.is_file():
        raise HintError(f"The hint file {path} does not exist.")
    if path.suffix.lower() == ".json":
        return read_points(path, *photo.shape[:2])
    return read_painted(path, photo)


def check_hint_file(path: str | Path, height: int, width: int) -> None:
    """Raise HintError unless `path` is a readable hint file that fits a photo of (height, width).

    Lets predict check every hint file before it writes anything; a painted
    colour copy's strokes are found later, against the decoded photo.
    """
    path = Path(path)
    if not path.is_file():
        raise HintError(f"The hint file {path} does not exist.")
    if path.suffix.lower() == ".json":
        read_points(path, height, width)
    else:
        _load_painted(path, height, width)


# --- simulated hints (Zhang et al. 2017) ----------------------------------------

def simulate_hints(rgb: np.ndarray, count: int, seed: int) -> Hints:
    """Return `count` hints at seeded random places, each the mean true ab of its patch (side 1% of the long side)."""
    height, width = rgb.shape[:2]
    if count <= 0:
        return no_hints(height, width)
    true_ab = color.rgb_to_lab(rgb)[..., 1:]
    side = patch_side(height, width)
    generator = np.random.default_rng(seed)
    patches = [_patch(int(x), int(y), side, height, width)
               for x, y in zip(generator.integers(0, width, count), generator.integers(0, height, count))]
    return _patches_to_hints([(patch, true_ab[patch].reshape(-1, 2).mean(axis=0)) for patch in patches],
                             height, width)


# --- hints at another size ------------------------------------------------------

def hints_at_size(hints: Hints, height: int, width: int) -> Hints:
    """Return the hints resized to (height, width), area-weighted: a pixel is a hint if any hint covers it,
    with the mean ab of the hint pixels it covers."""
    if hints.shape == (height, width):
        return hints
    if height <= hints.shape[0] and width <= hints.shape[1]:
        return _hints_shrunk(hints, height, width)
    coverage = hints.mask.astype(np.float32)

    def box(plane: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(np.ascontiguousarray(plane, np.float32)).resize(
            (width, height), Image.Resampling.BOX), np.float32)

    covered = box(coverage)
    mask = covered > 1e-6
    ab = np.stack([box(coverage * hints.ab[..., channel]) for channel in (0, 1)], axis=-1)
    return Hints.from_planes(mask, ab / np.maximum(covered, 1e-6)[..., None])


def _hints_shrunk(hints: Hints, height: int, width: int) -> Hints:
    """Return the hints shrunk to (height, width): each hint pixel counts in the pixel holding its centre.

    Touches only the hint pixels, so a 12 MP photo's few points cost ~2 ms
    instead of ~170 ms for box-resizing its whole planes.
    """
    source_height, source_width = hints.shape
    rows, columns = np.divmod(hints.index, source_width)
    target = ((2 * rows + 1) * height // (2 * source_height)) * width + (2 * columns + 1) * width // (2 * source_width)
    return pooled_hints(hints.colours, target, height, width)


def pooled_hints(ab: np.ndarray, target: np.ndarray, height: int, width: int) -> Hints:
    """Return hints of (height, width) holding the mean of the hint colours `ab` (n, 2) pooled at the
    flat pixel indices `target` (n,)."""
    counts = np.bincount(target, minlength=height * width)
    sums = np.stack([np.bincount(target, ab[:, channel], height * width) for channel in range(ab.shape[1])], axis=-1)
    index = np.flatnonzero(counts)
    return Hints((height, width), index, (sums[index] / counts[index, None]).astype(np.float32))
