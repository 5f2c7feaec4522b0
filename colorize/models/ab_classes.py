"""Colour as classes over the ab plane (Zhang et al. 2016): bins, prior, loss, decoding.

A regression head (L1 or L2) averages the plausible colours of an ambiguous
texture into beige; a softmax over quantised ab commits to one of them. This
module holds the four parts of that head:

- the bins: 10-wide squares of the ab plane, centred on multiples of 10 so gray
  (0, 0) is a bin centre; only bins the training photos occupy are kept;
- the prior: how often the training photos use each bin, smoothed; it gives the
  class-rebalancing weights (Zhang eq. 4);
- the loss: cross-entropy against a soft encoding of the true ab (a Gaussian
  over the bin centres), at the head's resolution;
- the decoding: softmax(logits / T), then the expectation over the bin centres
  (the annealed mean), built from stock layers and appended to the network, so
  the saved model still maps L to ab and records T in its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from colorize.constants import AB_SCALE

AB_CLASS_BIN_SIZE = 10.0     # Zhang et al.: 10-wide bins (313 in gamut; ~190-260 occupied here)
SOFT_ENCODING_SIGMA = 5.0    # Zhang et al.: the true ab spread over nearby bins with sigma 5
PRIOR_SMOOTHING_SIGMA = 5.0  # ...and the prior smoothed with the same sigma
PRIOR_SAMPLE_STRIDE = 4      # every 4th pixel of every 4th row is plenty for a histogram
# The prior comes from a seeded sample of at most PRIOR_SAMPLE_PHOTOS training photos,
# each decoded to about PRIOR_DECODE_SIDE px on its shorter side (every pixel counted):
# bootstrap samples of data/default's photos are within total variation 0.0175 of the
# whole set's prior at 2000 photos (0.0315 at 1000; benchmarks/bench_prior_sample.py),
# and 64 px is about what the head sees (crops near the image size, targets pooled
# over head_stride cells); it moves the prior by 0.062 from full-size decoding, mostly
# into low-chroma bins, and keeps the occupied bins (200 vs 198 of data/default).
PRIOR_SAMPLE_PHOTOS = 2000
PRIOR_DECODE_SIDE = 64
BINS_PER_SIDE = 2 * int(np.ceil(AB_SCALE / AB_CLASS_BIN_SIZE)) + 1   # -110..110: wider than sRGB

LOGITS_LAYER = "ab_logits"
TEMPERATURE_LAYER = "annealed_mean_temperature"
PROBABILITIES_LAYER = "ab_probabilities"
EXPECTATION_LAYER = "ab_expectation"
OUTPUT_LAYER = "ab"


@dataclass(frozen=True)
class AbClasses:
    """The occupied ab bins and how often the training photos use each."""

    centres: np.ndarray      # (Q, 2) float32, Lab units
    prior: np.ndarray        # (Q,) float32, smoothed share of pixels, sums to 1

    @property
    def count(self) -> int:
        """Return Q, the number of classes."""
        return int(len(self.centres))


def _grid_index(ab: np.ndarray) -> np.ndarray:
    """Return each ab pair's (row, column) on the bin grid centred on multiples of the bin size."""
    half = BINS_PER_SIDE // 2
    return np.clip(np.rint(np.asarray(ab) / AB_CLASS_BIN_SIZE).astype(int) + half, 0, BINS_PER_SIDE - 1)


def ab_histogram(rgb_images: Sequence[np.ndarray] | Callable, count: int | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 stride: int = PRIOR_SAMPLE_STRIDE) -> np.ndarray:
    """Return how many sampled pixels of the photos fall in every bin of the full ab grid.

    `rgb_images` is a sequence of (H, W, 3) uint8 arrays, or a function index ->
    array with `count` images (so photos are decoded one at a time). Every
    `stride`-th pixel of every `stride`-th row is counted (1 for photos already
    decoded small).
    """
    from skimage.color import rgb2lab

    load = rgb_images if callable(rgb_images) else rgb_images.__getitem__
    total = count if callable(rgb_images) else len(rgb_images)
    histogram = np.zeros((BINS_PER_SIDE, BINS_PER_SIDE), np.float64)
    for index in range(total):
        sample = load(index)[::stride, ::stride]
        rows, columns = _grid_index(rgb2lab(sample)[..., 1:].reshape(-1, 2)).T
        np.add.at(histogram, (rows, columns), 1)
        if progress:
            progress(index + 1, total)
    return histogram


def ab_classes_from_histogram(histogram: np.ndarray, centres: np.ndarray | None = None) -> AbClasses:
    """Return the classes of the occupied bins (or of given centres, a saved model's) with their smoothed prior."""
    from skimage.filters import gaussian

    if not histogram.any():
        raise ValueError("No pixels to build the ab prior from.")
    if centres is None:
        occupied = histogram > 0
        occupied[BINS_PER_SIDE // 2, BINS_PER_SIDE // 2] = True   # gray is always a choice
        offsets = (np.arange(BINS_PER_SIDE) - BINS_PER_SIDE // 2) * AB_CLASS_BIN_SIZE
        centre_a, centre_b = np.meshgrid(offsets, offsets, indexing="ij")
        centres = np.stack([centre_a[occupied], centre_b[occupied]], axis=-1)
    centres = np.asarray(centres, np.float32)
    smoothed = gaussian(histogram / histogram.sum(), sigma=PRIOR_SMOOTHING_SIGMA / AB_CLASS_BIN_SIZE)
    rows, columns = _grid_index(centres).T
    prior = np.maximum(smoothed[rows, columns], 1e-12)
    return AbClasses(centres, (prior / prior.sum()).astype(np.float32))


def rebalancing_weights(prior: np.ndarray, uniform_share: float) -> np.ndarray:
    """Return Zhang et al.'s per-class weights, ((1 - lambda) p + lambda / Q) ** -1, with mean 1 under p.

    uniform_share is lambda: 1 gives every class weight 1 (no rebalancing), 0.5 is
    Zhang's choice, smaller values favour rare colours more strongly.
    """
    prior = np.asarray(prior, np.float64)
    weights = 1.0 / ((1.0 - uniform_share) * prior + uniform_share / len(prior))
    return (weights / (prior * weights).sum()).astype(np.float32)


@keras.saving.register_keras_serializable(package="colorize")
class AbClassLoss(keras.losses.Loss):
    """Rebalanced cross-entropy between the head's ab logits and the soft-encoded true ab.

    y_true is the loader's full-resolution ab / AB_SCALE; y_pred the logits at
    1/head_stride resolution. The true ab is averaged over each head cell first
    (encoding every full-resolution pixel would need Q times the batch in memory).
    A self-training student's y_true carries a third channel, each pixel's weight
    (1 for a true colour, the teacher's confidence for a pseudo-label): see
    split_pixel_weights.
    """

    def __init__(self, centres, weights, head_stride: int = 4, name: str = "ab_class_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.centres = np.asarray(centres, np.float32).reshape(-1, 2)
        self.weights = np.asarray(weights, np.float32).reshape(-1)
        self.head_stride = int(head_stride)

    def call(self, y_true, y_pred):
        y_true, label_weight = split_pixel_weights(y_true)
        ab = pool_to_head(y_true, self.head_stride) * AB_SCALE
        squared_distance = squared_distances_to_centres(ab, self.centres)
        target = tf.nn.softmax(-squared_distance / (2.0 * SOFT_ENCODING_SIGMA ** 2), axis=-1)
        pixel_weight = tf.gather(tf.constant(self.weights), tf.argmin(squared_distance, axis=-1))
        log_probabilities = tf.nn.log_softmax(tf.cast(y_pred, tf.float32), axis=-1)
        loss = -tf.reduce_sum(target * log_probabilities, axis=-1) * pixel_weight
        if label_weight is None:
            return loss
        return loss * pool_to_head(label_weight, self.head_stride)[..., 0]

    def get_config(self) -> dict:
        return {**super().get_config(), "centres": self.centres.tolist(), "weights": self.weights.tolist(),
                "head_stride": self.head_stride}


def split_pixel_weights(y_true):
    """Return (ab, per-pixel weights (B, H, W, 1) or None) of a 2- or 3-channel y_true.

    The weights ride in y_true rather than Keras's sample_weight: a class head's
    loss is at 1/head_stride resolution, and only the loss knows how to pool them.
    """
    if y_true.shape[-1] == 3:
        return y_true[..., :2], tf.cast(y_true[..., 2:], tf.float32)
    return y_true, None


def pool_to_head(ab, head_stride: int):
    """Return ab (B, H, W, 2) averaged over head_stride x head_stride cells."""
    ab = tf.cast(ab, tf.float32)
    if head_stride == 1:
        return ab
    return tf.nn.avg_pool2d(ab, head_stride, head_stride, "VALID")


def squared_distances_to_centres(ab_units, centres: np.ndarray):
    """Return (..., Q) squared distances from each ab pair (Lab units) to every bin centre."""
    centres = tf.constant(centres, tf.float32)
    return (tf.reduce_sum(ab_units * ab_units, -1, keepdims=True)
            - 2.0 * tf.tensordot(ab_units, tf.transpose(centres), 1)
            + tf.reduce_sum(centres * centres, -1))


def decode_logits(logits, centres: np.ndarray, temperature: float = 1.0):
    """Return the annealed-mean ab (Lab units) of logits (..., Q): the metrics' view of a class head."""
    probabilities = tf.nn.softmax(tf.cast(logits, tf.float32) / temperature, axis=-1)
    return tf.tensordot(probabilities, tf.constant(centres, tf.float32), 1)


def append_annealed_mean(logits_model: keras.Model, centres: np.ndarray, temperature: float,
                         head_stride: int, name: str | None = None) -> keras.Model:
    """Return the inference model: logits -> softmax(logits / T) -> expectation over bins -> full-size ab.

    All stock layers (Rescaling, Softmax, a fixed 1x1 Conv2D holding the bin
    centres, UpSampling2D), so the file loads anywhere, .h5 included, and still
    takes L and gives ab / AB_SCALE. T lives in the Rescaling layer's config.
    """
    logits = logits_model.outputs[0]
    scaled = keras.layers.Rescaling(1.0 / temperature, name=TEMPERATURE_LAYER, dtype="float32")(logits)
    probabilities = keras.layers.Softmax(name=PROBABILITIES_LAYER, dtype="float32")(scaled)
    expectation = keras.layers.Conv2D(2, 1, use_bias=False, trainable=False, dtype="float32",
                                      name=EXPECTATION_LAYER)
    ab = expectation(probabilities)
    expectation.set_weights([(np.asarray(centres, np.float32) / AB_SCALE).reshape(1, 1, -1, 2)])
    if head_stride > 1:
        # Nearest, not bilinear: Keras 3.15's bilinear UpSampling2D fails when
        # predict retraces with unknown H, W (a symbolic size used as a Python
        # bool). predict's guided filter smooths the blocks along L's edges.
        ab = keras.layers.UpSampling2D(head_stride, interpolation="nearest", dtype="float32",
                                       name=OUTPUT_LAYER)(ab)
    else:
        ab = keras.layers.Activation("linear", dtype="float32", name=OUTPUT_LAYER)(ab)
    return keras.Model(logits_model.inputs, ab, name=name or logits_model.name)


def has_class_head(model: keras.Model) -> bool:
    """Return whether `model` predicts ab through an annealed mean over ab classes."""
    return any(layer.name == LOGITS_LAYER for layer in model.layers)


def logits_view(model: keras.Model) -> keras.Model:
    """Return the model from L to the ab logits (sharing its layers): what training fits."""
    # The temperature's input, not LOGITS_LAYER's output: a hint model adds its branch after that layer.
    return keras.Model(model.inputs, model.get_layer(TEMPERATURE_LAYER).input, name=f"{model.name}_logits")


def class_head_settings(model: keras.Model) -> dict:
    """Return the bin centres (Lab units), temperature and head stride stored in an inference model."""
    kernel = model.get_layer(EXPECTATION_LAYER).get_weights()[0]
    centres = kernel.reshape(-1, 2) * AB_SCALE
    temperature = 1.0 / float(model.get_layer(TEMPERATURE_LAYER).scale)
    logits_shape = model.get_layer(LOGITS_LAYER).output.shape
    output_layer = model.get_layer(OUTPUT_LAYER)
    stride = int(output_layer.size[0]) if isinstance(output_layer, keras.layers.UpSampling2D) else 1
    return {"centres": centres.astype(np.float32), "temperature": temperature, "head_stride": stride,
            "classes": int(logits_shape[-1])}


def with_temperature(model: keras.Model, temperature: float) -> keras.Model:
    """Return an inference model that shares `model`'s weights and decodes at another temperature."""
    settings = class_head_settings(model)
    return append_annealed_mean(logits_view(model), settings["centres"], temperature,
                                settings["head_stride"], name=model.name)
