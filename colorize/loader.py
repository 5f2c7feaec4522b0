"""Streaming (L, ab) batches for training and validation with tf.data.

Only the list of scanned files lives in memory; every image is read and decoded
when its batch is needed (parallel, through the same `dataset.load_rgb` the
scanner uses, so both apply one set of format rules), cropped, augmented and
turned into the model's normalised Lab pair. Memory stays flat as the dataset
grows. Randomness is stateless and keyed on (seed, position in the stream), so
a run is reproducible from its seed whatever order the parallel decodes finish in.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import tensorflow as tf

from colorize import color
from colorize.constants import MIN_CROPS_PER_EPOCH
from colorize.dataset import ScannedFile, load_rgb
from colorize.errors import DatasetError

# For photos much larger than the crop, the crop is taken after scaling the
# shorter side to a random length between 1x and this many times the crop, so
# a 128 px crop of a 4000x3000 photo shows a third to all of the scene's height
# (a recognisable object) rather than a few leaves at full resolution.
MAX_SCALE_OVER_CROP = 2.0
NOISE_SEED_OFFSET = 1_000_003   # keeps noise seeds apart from crop seeds


def _decoder(entries: tuple[ScannedFile, ...]):
    """Return a numpy function: file index -> (H, W, 3) uint8, raising a readable error."""
    def decode(index: np.int64) -> np.ndarray:
        entry = entries[int(index)]
        try:
            return load_rgb(entry)
        except Exception as error:  # the file changed or vanished after the scan
            raise DatasetError(f"Could not read {entry.path} while training: {error}") from error
    return decode


def _target_short_side(short_side, image_size: int, training: bool, seed):
    """Return the shorter side to resize to: the crop size, or a random one up to 2x for big photos."""
    crop = tf.cast(image_size, tf.float32)
    if not training:
        return crop
    upper = tf.maximum(crop, tf.minimum(short_side, MAX_SCALE_OVER_CROP * crop))
    return tf.random.stateless_uniform([], seed, minval=crop, maxval=upper + 1e-3)


def _crop(rgb, image_size: int, training: bool, seed):
    """Take the square of the photo that becomes the crop, resize it to the crop size, flip it.

    The square's side is the crop size over the scale the shorter side is
    resized to (randomly larger when training; exactly the crop size for
    evaluation, whose square is the centre one). Cutting it out before
    converting and resizing works on ~128-256 px instead of the whole photo:
    1.13-1.22x the images/s of resizing first (benchmarks/bench_loader_versions.py).
    """
    scale_seed, top_seed, left_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 4))
    height, width = tf.shape(rgb)[0], tf.shape(rgb)[1]
    short_side = tf.minimum(height, width)
    target = _target_short_side(tf.cast(short_side, tf.float32), image_size, training, scale_seed)
    window = tf.cast(tf.round(image_size * tf.cast(short_side, tf.float32) / target), tf.int32)
    window = tf.clip_by_value(window, 1, short_side)
    if training:
        top = tf.random.stateless_uniform([], top_seed, 0, height - window + 1, dtype=tf.int32)
        left = tf.random.stateless_uniform([], left_seed, 0, width - window + 1, dtype=tf.int32)
    else:
        top, left = (height - window) // 2, (width - window) // 2
    image = tf.cast(rgb[top:top + window, left:left + window], tf.float32) / 255.0
    image = tf.cond(tf.equal(window, image_size), lambda: tf.reshape(image, [image_size, image_size, 3]),
                    lambda: tf.clip_by_value(tf.image.resize(image, [image_size, image_size], antialias=True),
                                             0.0, 1.0))
    if not training:
        return image
    # Left-right flips only: an upside-down photo puts sky colours at the bottom.
    return tf.image.stateless_random_flip_left_right(image, flip_seed)


def _model_pair(batch_number, rgb, noise: float, seed: int):
    """Turn a float RGB batch into (L in [-1, 1], ab / AB_SCALE), with Gaussian noise on L if asked."""
    lightness, ab = color.tf_rgb_to_model_pair(rgb)
    if noise > 0:
        noise_seed = tf.stack([tf.constant(seed + NOISE_SEED_OFFSET, tf.int64), batch_number])
        grain = tf.random.stateless_normal(tf.shape(lightness), noise_seed, stddev=noise)
        lightness = tf.clip_by_value(lightness + grain, -1.0, 1.0)
    return lightness, ab


def make_dataset(files: Sequence[ScannedFile], image_size: int, batch_size: int, *,
                 training: bool, seed: int = 42, noise: float = 0.0,
                 repeat: bool = False) -> tf.data.Dataset:
    """Return a tf.data pipeline of (L, ab) batches: float32 (B, S, S, 1) and (B, S, S, 2).

    training=True: shuffled by seed each pass, random scale, crop and flip, noise on L.
    training=False: deterministic (shorter side resized to S, centre crop, file order).
    repeat=True loops forever (for steps_per_epoch). Nothing is read until iterated.
    """
    entries = tuple(files)
    if not entries:
        raise DatasetError("No images to load: the file list is empty.")
    decode = _decoder(entries)
    indices = tf.data.Dataset.range(len(entries))
    if training:
        indices = indices.shuffle(len(entries), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        indices = indices.repeat()

    def load_and_crop(position, index):
        rgb = tf.numpy_function(decode, [index], tf.uint8, stateful=False)
        rgb.set_shape([None, None, 3])
        return _crop(rgb, image_size, training, tf.stack([tf.constant(seed, tf.int64), position]))

    crops = indices.enumerate().map(load_and_crop, num_parallel_calls=tf.data.AUTOTUNE,
                                    deterministic=not training)
    # Lab conversion runs once per batch: one vectorised op beats B small ones.
    batches = crops.batch(batch_size).enumerate().map(
        lambda number, rgb: _model_pair(number, rgb, noise if training else 0.0, seed),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return batches.prefetch(tf.data.AUTOTUNE)


def training_steps_per_epoch(config, split, global_batch: int | None = None) -> int:
    """Return the batches in one epoch: a pass over the photos, or MIN_CROPS_PER_EPOCH crops if more.

    `global_batch` is the images per step across all replicas (multi-worker
    training), so an epoch means the same amount of training with any strategy.
    """
    batch = global_batch or config.batch_size
    return max(math.ceil(len(split.train) / batch), math.ceil(MIN_CROPS_PER_EPOCH / batch))
