"""Colour hints a person gives (points, painted strokes), simulated hints, and how they steer a model.

Issue 26. A hint is an ab colour fixed at some pixels of a photo:
- read_hints: a points JSON `{"points": [{"x": 120, "y": 80, "color": "#c0302a"}]}`
  (pixel coordinates, origin top-left; a point covers a square patch of side
  1% of the long side), a transparent RGBA PNG with painted strokes (every
  opaque pixel), or a colour copy of the photo with strokes painted on it
  (every pixel whose ab differs from the photo's by more than HINT_CHROMA);
- simulate_hints: Zhang et al. 2017's simulated user, N seeded random points,
  each the mean true ab of its patch;
- apply_hints: at the model's working size, the hint's residual (hint ab minus
  the model's ab) is spread by an edge-aware propagation over a 4-neighbour
  graph on L (weights exp(-dL^2 / 0.05^2), L in 0..1), with a small pull of the
  residual towards 0 (the model's own colour) and the hints fixed; solved on a
  3x coarser grid and brought back up along L's edges (spread_coarse). Edges
  in the model's feature view are hint_features'; the class-head experiment
  (KNN edges, re-weighted class probabilities) lives in benchmarks/bench_hints.py.

numpy, scipy and Pillow only: no TensorFlow here, so the CLI can read and
check hint files before a model loads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from colorize.dataset import color
from colorize.errors import HintError
from colorize.inference.guided_filter import box_mean

POINT_PATCH_SHARE = 0.01     # Zhang et al. 2017: a point is a patch of side ~1% of the long side
# A painted colour copy: JPEG noise and chroma subsampling move a gray photo's
# ab by a few units (measured up to ~4 at quality 75 on strokes' edges); a
# stroke a person means as colour is far above 10 (a pale skin tone is ~15).
HINT_CHROMA = 10.0
OPAQUE_ALPHA = 128           # a stroke layer's anti-aliased edges: half-opaque or more counts
EDGE_L_SIGMA = 0.05          # weights exp(-dL^2 / sigma^2), L scaled to 0..1 (issue 26's floor)
# Pull of the residual towards 0 (the model's own colour) per working pixel:
# a hint reaches ~1/sqrt(pull) px. Chosen on the validation split of
# data/default (51 photos, 10 simulated points; benchmarks/bench_hints.py
# --split validation --select): PSNR 23.79 dB at 1e-3, 25.41 at 1e-4, 26.00 at
# 1e-5, 25.97 at 1e-6 (solved at the working size), the model alone 22.75.
RESIDUAL_PULL = 1e-5
# Plain propagation solves on a 3x coarser grid (86x64 for 256x192) and brings
# the residual back up along L's edges (spread_coarse): ~12 ms instead of
# ~150-210 ms for the exact solve at 256x192 (2 shared cores), so `predict`
# gains well under issue 26's 20% (BENCHMARKS.md). On the validation split (10
# points, pull 1e-5) it scores 26.04 dB, the exact solve 26.00.
SOLVE_SCALE = 3
UPSAMPLE_RADIUS = 1          # in pixels of the small solve
UPSAMPLE_EPS = 1e-3          # squared L (0..1): steps of L above ~0.03 keep the residual's step
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


def _photo_ab(photo: np.ndarray) -> np.ndarray:
    """Return the photo's ab (zeros for a gray photo)."""
    if photo.ndim == 2 or np.array_equal(photo[..., 0], photo[..., 1]) and np.array_equal(photo[..., 1], photo[..., 2]):
        return np.zeros(photo.shape[:2] + (2,), np.float32)
    return color.rgb_to_lab(photo)[..., 1:]


def read_painted(path: Path, photo: np.ndarray) -> Hints:
    """Return the hints of a painted image: a stroke layer (transparent elsewhere) or a painted colour copy."""
    height, width = photo.shape[:2]
    image = _load_painted(path, height, width)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    rgba = np.asarray(image.convert("RGBA"))
    ab = color.rgb_to_lab(np.ascontiguousarray(rgba[..., :3]))[..., 1:]
    opaque = rgba[..., 3] >= OPAQUE_ALPHA
    if has_alpha and not opaque.all():   # a stroke layer: what is painted is the hint
        mask = opaque
    else:   # a colour copy: what differs from the photo's own colour is the hint
        mask = np.hypot(*np.moveaxis(ab - _photo_ab(photo), -1, 0)) > HINT_CHROMA
    return Hints.from_planes(mask, ab)


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


# --- hints at the model's working size, and their propagation ------------------

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
    return _pooled_hints(hints.colours, target, height, width)


def _pooled_hints(ab: np.ndarray, target: np.ndarray, height: int, width: int) -> Hints:
    """Return hints of (height, width) holding the mean of the hint colours `ab` (n, 2) pooled at the
    flat pixel indices `target` (n,)."""
    counts = np.bincount(target, minlength=height * width)
    sums = np.stack([np.bincount(target, ab[:, channel], height * width) for channel in range(ab.shape[1])], axis=-1)
    index = np.flatnonzero(counts)
    return Hints((height, width), index, (sums[index] / counts[index, None]).astype(np.float32))


def grid_edges(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (first, second) flat pixel indices of every 4-neighbour pair of a (height, width) grid."""
    index = np.arange(height * width).reshape(height, width)
    first = np.concatenate([index[:, :-1].ravel(), index[:-1, :].ravel()])
    second = np.concatenate([index[:, 1:].ravel(), index[1:, :].ravel()])
    return first, second


def lightness_weights(lightness: np.ndarray, first: np.ndarray, second: np.ndarray,
                      sigma: float = EDGE_L_SIGMA) -> np.ndarray:
    """Return exp(-dL^2 / sigma^2) for each edge, L (0..100) scaled to 0..1."""
    flat = lightness.ravel().astype(np.float64) / 100.0
    return np.exp(-((flat[first] - flat[second]) ** 2) / sigma ** 2)


def propagate_residual(residual: np.ndarray, fixed: np.ndarray, first: np.ndarray, second: np.ndarray,
                       weights: np.ndarray, pull: float = RESIDUAL_PULL) -> np.ndarray:
    """Return the residual (H, W, C) spread from the `fixed` pixels over the weighted graph.

    Minimises sum_edges w (r_i - r_j)^2 + pull * sum_i r_i^2 with r fixed where
    `fixed`: (D - W + pull I) restricted to the free pixels, one LU
    factorisation for all channels.
    """
    from scipy import sparse
    from scipy.sparse import linalg

    shape = residual.shape
    size = shape[0] * shape[1]
    values = residual.reshape(size, -1).astype(np.float64)
    fixed = fixed.ravel()
    if not fixed.any():
        return np.zeros(shape, np.float32)
    adjacency = sparse.coo_matrix((np.concatenate([weights, weights]),
                                   (np.concatenate([first, second]), np.concatenate([second, first]))),
                                  shape=(size, size)).tocsr()
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    free = ~fixed
    system = (sparse.diags(degree[free] + pull) - adjacency[free][:, free]).tocsc()
    right = adjacency[free][:, fixed] @ values[fixed]
    result = values.copy()
    # MMD on A+A' keeps the factor ~2x sparser than the default COLAMD on a
    # grid graph (0.45 s vs 0.64 s at 256x256, 2.8 s vs 4.4 s at 512x512).
    result[free] = linalg.splu(system, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                               options={"SymmetricMode": True}).solve(right)
    return result.reshape(shape).astype(np.float32)


def resize_plane_bilinear(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    """Return a float32 2-D array resized bilinearly (Pillow) to (height, width)."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(plane, np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR), np.float32)


def guided_upsample(small_guide: np.ndarray, small_source: np.ndarray, guide: np.ndarray,
                    radius: int, eps: float) -> np.ndarray:
    """Return `small_source` (h, w, C) brought up to `guide`'s (H, W), following the edges of `guide`.

    He and Sun's fast guided filter (2015): the guided filter's local linear
    fit source ~ slope * guide + offset is made at the small size, its slope
    and offset are resized bilinearly, and applied to the full-size guide, so
    the result steps where the full-size guide steps.
    """
    small_guide = np.asarray(small_guide, np.float64)[..., None]
    source = np.asarray(small_source, np.float64)
    mean_guide = box_mean(small_guide, radius)
    mean_source = box_mean(source, radius)
    variance = box_mean(small_guide * small_guide, radius) - mean_guide * mean_guide
    slope = (box_mean(small_guide * source, radius) - mean_guide * mean_source) / (variance + eps)
    offset = mean_source - slope * mean_guide
    height, width = guide.shape
    up = [np.stack([resize_plane_bilinear(box_mean(plane, radius)[..., k], height, width)
                    for k in range(source.shape[-1])], axis=-1) for plane in (slope, offset)]
    return (up[0] * guide[..., None] + up[1]).astype(np.float32)


def coarse_hints(working_lightness: np.ndarray, residual: Hints, scale: int) -> tuple[np.ndarray, Hints]:
    """Return the L of a grid `scale` times coarser and the hint residual pooled onto it.

    Each coarse pixel (a scale x scale block) takes the L of its block's centre
    pixel, not the block's mean: a mean halves a step of L that falls inside a
    block into two half steps, each weighted ~1e4 times more than the whole
    one, and colour leaked across such edges (a hint in a box coloured the
    background). A hint pixel joins its block only if its L is within
    2 EDGE_L_SIGMA of the centre's, so a hint beside an edge stays on its side.
    """
    height, width = working_lightness.shape
    small_height, small_width = -(-height // scale), -(-width // scale)
    centre_rows = np.minimum(np.arange(small_height) * scale + scale // 2, height - 1)
    centre_columns = np.minimum(np.arange(small_width) * scale + scale // 2, width - 1)
    small_lightness = working_lightness[centre_rows][:, centre_columns]
    flat = residual.index
    rows, columns = np.divmod(flat, width)
    near = np.abs(working_lightness.ravel()[flat] - small_lightness[rows // scale, columns // scale]) \
        <= 2 * EDGE_L_SIGMA * 100.0
    keep = near if near.any() else np.ones_like(near)   # a hint only along edges still counts
    small = _pooled_hints(residual.colours[keep],
                          (rows[keep] // scale) * small_width + columns[keep] // scale, small_height, small_width)
    return small_lightness, small


def upsample_residual(small_lightness: np.ndarray, spread: np.ndarray, working_lightness: np.ndarray,
                      small: Hints) -> np.ndarray:
    """Return a residual solved on the coarse grid brought back up along L's edges (a guided filter)."""
    up = guided_upsample(small_lightness / 100.0, spread, working_lightness / 100.0, UPSAMPLE_RADIUS, UPSAMPLE_EPS)
    # The local linear fit overshoots beside a step of L: the exact solution
    # never goes past every hint's residual nor past 0 (where the pull leads).
    fixed = small.colours
    return np.clip(up, np.minimum(fixed.min(axis=0), 0.0), np.maximum(fixed.max(axis=0), 0.0))


def spread_coarse(working_lightness: np.ndarray, residual: Hints, pull: float, scale: int) -> np.ndarray:
    """Return the hint residual (H, W, 2) propagated on a grid `scale` times coarser (coarse_hints) and
    brought back up along L's edges: the minimisation of propagate_residual on a scale^2 times smaller graph."""
    small_lightness, small = coarse_hints(working_lightness, residual, scale)
    first, second = grid_edges(*small_lightness.shape)
    weights = lightness_weights(small_lightness, first, second)
    # A pull p reaches ~1/sqrt(p) pixels; the same reach in pixels `scale` times larger needs p * scale^2.
    spread = propagate_residual(small.ab, small.mask, first, second, weights, pull * scale ** 2)
    return upsample_residual(small_lightness, spread, working_lightness, small)


def apply_hints(working_lightness: np.ndarray, model_ab: np.ndarray, hints: Hints, *,
                pull: float = RESIDUAL_PULL, scale: int = SOLVE_SCALE) -> np.ndarray:
    """Return the model's ab (working size, Lab units) steered by `hints` (any size; resized here unless
    already the working size): the residual solved on a grid `scale` times coarser (spread_coarse).

    The same solve with edges in the model's feature view is
    hint_features.apply_hints_with_features.
    """
    height, width = working_lightness.shape
    hints = hints_at_size(hints, height, width)
    if not hints.count:
        return model_ab
    steered = model_ab + spread_coarse(working_lightness, residual_hints(hints, model_ab), pull, scale)
    steered.reshape(-1, 2)[hints.index] = hints.colours   # a hint is the colour asked for, exactly
    return steered.astype(np.float32)


def residual_hints(hints: Hints, model_ab: np.ndarray) -> Hints:
    """Return what each hint asks beyond the model's ab (same size): hint ab minus the model's."""
    return Hints(hints.shape, hints.index, hints.colours - model_ab.reshape(-1, 2)[hints.index])
