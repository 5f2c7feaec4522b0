"""How hints steer a model's colour: an edge-aware propagation of what they ask beyond it (issue 26).

apply_hints: at the model's working size, the hint's residual (hint ab minus
the model's ab) is spread by an edge-aware propagation over a 4-neighbour graph
on L (weights exp(-dL^2 / 0.05^2), L in 0..1), with a small pull of the
residual towards 0 (the model's own colour) and the hints fixed; solved on a 3x
coarser grid and brought back up along L's edges (spread_coarse). Edges in the
model's feature view are feature_edges.py's; the class-head experiment (KNN
edges, re-weighted class probabilities) lives in benchmarks/bench_hints.py.

numpy, scipy and Pillow only (scipy's sparse solver is imported on the first
hint): no TensorFlow here.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from colorize.hints.sources import Hints, hints_at_size, pooled_hints
from colorize.inference.guided_filter import box_mean
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
    small = pooled_hints(residual.colours[keep],
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
    feature_edges.apply_hints_with_features.
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
