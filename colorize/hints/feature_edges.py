"""Same-object affinities for hints from what the network sees (issue 26).

The plain propagation (propagation.apply_hints) spreads a hint's residual over a
4-neighbour graph on L, so it stops at every texture edge inside an object. Here the
coarse solve of propagation.spread_coarse gets extra edges from a feature map of the
shipped model (the frozen EfficientNet-Lite0 encoder's stride-8 or stride-16
block outputs, read where the decoder concatenates them, or the decoder's own
layers): 4-neighbour edges whose feature vectors agree keep a weight even across
a step of L, and each coarse pixel is joined to its few nearest coarse pixels in
feature space (cosine, plus L and place), so a hint reaches the same stuff across
texture.

benchmarks/bench_hint_affinities.py measures these against the plain way: only
the KNN edges in the decoder's last layer's view win (apply_feature_hints,
what predict uses); agreement weights on 4-neighbour edges leak across L's edges,
superpixels gain less, and the polar residual (an experiment that lives in that
benchmark) loses ~0.7 dB.
"""

from __future__ import annotations

import numpy as np

from colorize.hints import propagation, sources

# Where the decoder concatenates an encoder output after its own channels:
# (layer, first encoder channel); see colorize/models/model.py's decoder.
ENCODER_SLICES = {"encoder16": ("decoder16_skip", 192), "encoder8": ("decoder8_skip", 128)}
# The view whose nearest neighbours carry a hint best: the decoder's last
# layer (stride 4, 96 channels), the class head's input.
FEATURE_LAYER = "decoder4_b_act"
# Chosen on the validation split of data/default (51 photos, 10 simulated
# points; benchmarks/bench_hint_affinities.py): plain 26.04 dB; encoder
# stride 16 / 8 KNN 6 26.30 / 26.26; the decoder's last layer KNN 6 weight 1
# 26.41, KNN 2-3 weight 0.3 spatial 0.5-5 a plateau at 26.44-26.53 (this one
# best: SSIM 0.9433 vs 0.9409, green 89.9% vs 90.1%).
FEATURE_EDGES = {"feature_sigma": 0.0, "l_sigma": 0.2, "knn": 2, "knn_weight": 0.3, "spatial": 5.0}
# The feature solve's grid: 6x coarser than the working size (43x32 for
# 256x192), coarser than the stride-4 feature map itself. Same validation
# photos: 26.53 dB at 3x (the L-only way's grid), 26.50 / 26.64 / 26.63 /
# 26.58 at 4x / 5x / 6x / 8x; 6x takes ~11 ms a photo where 3x took ~40 ms
# (the KNN query and the sparse LU scale with the nodes), which keeps hints
# within issue 26's +20% of a 1 MP predict (BENCHMARKS.md).
FEATURE_SOLVE_SCALE = 6


def feature_model(model, names: tuple[str, ...]):
    """Return a Keras model from L to (ab / AB_SCALE, *feature maps named in `names`).

    A name is a key of ENCODER_SLICES (the encoder's output at that stride) or
    a layer name of `model`.
    """
    import keras

    outputs = [model.output]
    for name in names:
        layer, start = ENCODER_SLICES.get(name, (name, 0))
        tensor = model.get_layer(layer).output
        outputs.append(tensor[..., start:] if start else tensor)
    return keras.Model(model.inputs, outputs)


def cosine_features(raw: np.ndarray, dimensions: int = 8) -> np.ndarray:
    """Return (h, w, dimensions): each pixel's feature vector scaled to unit length (so distances are
    cosine distances) and projected on the main axes of the photo's vectors."""
    # float32 (the axes in float64): the same hinted colours to ~4e-6 ab, 0.75 ms less at 1 MP
    flat = raw.reshape(-1, raw.shape[-1]).astype(np.float32)
    flat /= np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-9)
    centred = flat - flat.mean(axis=0)
    axes = main_axes((centred.T @ centred).astype(np.float64), dimensions).astype(np.float32)
    return (centred @ axes).reshape(raw.shape[:2] + (-1,))


def main_axes(covariance: np.ndarray, dimensions: int, iterations: int = 30) -> np.ndarray:
    """Return (C, dimensions) orthonormal axes spanning the main eigenvectors of a C x C covariance.

    Subspace iteration (twice the columns, seeded): only the span matters to
    the distances, and it matches LAPACK's eigh to ~1e-3. ~1 ms steadily, where
    eigh and an SVD of the pixels took 30-300 ms right after a model call
    (OpenBLAS's threads against TensorFlow's on 2 cores).
    """
    basis = np.random.default_rng(0).standard_normal((covariance.shape[0], 2 * dimensions))
    for _ in range(iterations):
        basis = np.linalg.qr(covariance @ basis)[0]
    return basis[:, :dimensions]


def features_at(features: np.ndarray, height: int, width: int) -> np.ndarray:
    """Return (height, width, C) features resized bilinearly."""
    return np.stack([propagation.resize_plane_bilinear(features[..., k], height, width)
                     for k in range(features.shape[-1])], axis=-1)


def knn_edges(features: np.ndarray, neighbours: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (first, second, squared distance) linking each pixel to its nearest pixels in feature space."""
    from scipy.spatial import cKDTree

    flat = features.reshape(-1, features.shape[-1]).astype(np.float32)
    distances, indices = cKDTree(flat).query(flat, k=neighbours + 1, workers=1)
    first = np.repeat(np.arange(len(flat)), neighbours)
    return first, indices[:, 1:].ravel(), (distances[:, 1:] ** 2).ravel()


def feature_edges(small_lightness: np.ndarray, small_features: np.ndarray, *, feature_sigma: float,
                  l_sigma: float, knn: int, knn_weight: float, spatial: float):
    """Return (first, second, weights) of the coarse graph: 4-neighbour edges weighted by the larger of
    the L weight and a feature weight (feature agreement times a loose L weight), plus KNN feature edges."""
    height, width = small_lightness.shape
    first, second = propagation.grid_edges(height, width)
    weights = propagation.lightness_weights(small_lightness, first, second)
    flat = small_features.reshape(height * width, -1)
    if feature_sigma:
        distance = ((flat[first] - flat[second]) ** 2).sum(axis=-1)
        same = np.exp(-distance / feature_sigma ** 2) * propagation.lightness_weights(
            small_lightness, first, second, l_sigma)
        weights = np.maximum(weights, same)
    if knn:
        rows, columns = np.mgrid[0:height, 0:width] / max(height, width)
        space = np.concatenate([small_features / (feature_sigma or 0.5),
                                small_lightness[..., None] / 100.0 / l_sigma,
                                np.stack([rows, columns], axis=-1) / spatial], axis=-1)
        extra_first, extra_second, distance = knn_edges(space, knn)
        first, second = np.concatenate([first, extra_first]), np.concatenate([second, extra_second])
        weights = np.concatenate([weights, knn_weight * np.exp(-distance)])
    return first, second, weights


def superpixels(small_lightness: np.ndarray, small_features: np.ndarray, segments: int,
                feature_share: float = 0.5, compactness: float = 0.1) -> np.ndarray:
    """Return SLIC superpixel labels (h, w) of the coarse grid, on L (0..1) and the features."""
    from skimage.segmentation import slic

    spread = np.sqrt((small_features ** 2).sum(axis=-1).mean()) + 1e-9
    image = np.concatenate([small_lightness[..., None] / 100.0,
                            feature_share * small_features / spread / np.sqrt(small_features.shape[-1])], axis=-1)
    return slic(image, n_segments=segments, compactness=compactness, channel_axis=-1, start_label=0,
                enforce_connectivity=True)


def spread_with_features(working_lightness: np.ndarray, residual: sources.Hints, features: np.ndarray,
                         pull: float, scale: int, **edge_options) -> np.ndarray:
    """Return the residual (H, W, 2) propagated on the `scale` times coarser grid of
    propagation.coarse_hints with feature edges (feature_edges), brought back up along L's edges."""
    small_lightness, small = propagation.coarse_hints(working_lightness, residual, scale)
    small_height, small_width = small_lightness.shape
    mask, small_values = small.mask.ravel(), small.ab
    segments, hub_weight = edge_options.pop("segments", 0), edge_options.pop("hub_weight", 1.0)
    small_features = features_at(features, small_height, small_width)
    first, second, weights = feature_edges(small_lightness, small_features, **edge_options)
    nodes = small_height * small_width
    if segments:
        labels = superpixels(small_lightness, small_features, segments)
        first = np.concatenate([first, np.arange(nodes)])
        second = np.concatenate([second, nodes + labels.ravel()])
        weights = np.concatenate([weights, np.full(nodes, hub_weight)])
    hubs = int(second.max()) + 1 - nodes if segments else 0
    values = np.concatenate([small_values.reshape(nodes, -1), np.zeros((hubs, small_values.shape[-1]))])
    spread = propagation.propagate_residual(values[:, None], np.concatenate([mask, np.zeros(hubs, bool)])[:, None],
                                            first, second, weights, pull * scale ** 2)
    spread = spread[:nodes, 0].reshape(small_height, small_width, -1)
    return propagation.upsample_residual(small_lightness, spread, working_lightness, small)


def apply_hints_with_features(working_lightness: np.ndarray, model_ab: np.ndarray, hints: sources.Hints,
                              features: np.ndarray, *, pull: float = propagation.RESIDUAL_PULL,
                              scale: int = propagation.SOLVE_SCALE, feature_sigma: float = 0.5,
                              l_sigma: float = 0.2, knn: int = 0, knn_weight: float = 1.0,
                              spatial: float = 0.2, segments: int = 0, hub_weight: float = 1.0) -> np.ndarray:
    """Return the model's ab steered by `hints`, spread with feature affinities (spread_with_features)."""
    height, width = working_lightness.shape
    hints = sources.hints_at_size(hints, height, width)
    if not hints.count:
        return model_ab
    residual = propagation.residual_hints(hints, model_ab)
    steered = model_ab + spread_with_features(working_lightness, residual, features, pull, scale,
                                              feature_sigma=feature_sigma, l_sigma=l_sigma, knn=knn,
                                              knn_weight=knn_weight, spatial=spatial, segments=segments,
                                              hub_weight=hub_weight)
    steered.reshape(-1, 2)[hints.index] = hints.colours
    return steered.astype(np.float32)


def apply_feature_hints(working_lightness: np.ndarray, model_ab: np.ndarray, hints: sources.Hints,
                        features: np.ndarray) -> np.ndarray:
    """Return the model's ab steered by `hints` with the chosen feature edges (FEATURE_EDGES) on the
    raw feature map of FEATURE_LAYER: what predict and evaluate use when the model has that layer."""
    return apply_hints_with_features(working_lightness, model_ab, hints, cosine_features(features),
                                     scale=FEATURE_SOLVE_SCALE, **FEATURE_EDGES)
