"""Streaming (L, ab) batches for training and validation with tf.data.

Only the list of scanned files lives in memory; every image is read and decoded
when its batch is needed (parallel, through the same `dataset.load_rgb` the
scanner uses, so both apply one set of format rules), cropped, augmented and
turned into the model's normalised Lab pair. Memory stays flat as the dataset
grows. Randomness is stateless and keyed on (seed, position in the stream), and
the parallel decodes hand their crops on in stream order (deterministic=True), so
the same seed gives the same batches, image for image, in the same order.
Letting finished decodes overtake (deterministic=False) read 11-14% more images/s
on 2 busy cores (BENCHMARKS.md, "Loader: crops in stream order"), far more than a
CPU training step takes in; reproducibility is worth that.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf
from PIL import Image

from colorize.dataset import color
from colorize.constants import (MAX_SCALE_OVER_CROP, MIN_CROPS_PER_EPOCH, STUDENT_BRIGHTNESS_JITTER,
                                STUDENT_CONTRAST_JITTER)
from colorize.dataset import ScannedFile, load_rgb
from colorize.dataset.scan import load_rgb_square
from colorize.errors import DatasetError

NOISE_SEED_OFFSET = 1_000_003   # keeps noise seeds apart from crop seeds
JITTER_SEED_OFFSET = 2_000_003  # ...jitter seeds apart from both
PSEUDO_SEED_OFFSET = 3_000_017  # ...and pseudo-label crops apart from the colour photos' crops


def _decoder(entries: tuple[ScannedFile, ...]):
    """Return a numpy function: file index -> (H, W, 3) uint8, raising a readable error."""
    def decode(index: np.int64) -> np.ndarray:
        entry = entries[int(index)]
        try:
            return load_rgb(entry)
        except Exception as error:  # the file changed or vanished after the scan
            raise DatasetError(f"Could not read {entry.path} while training: {error}") from error
    return decode


def _square_decoder(entries: tuple[ScannedFile, ...], image_size: int, training: bool):
    """Return a numpy function: (file index, three uniform draws) -> the crop, (S, S, 3) uint8, unflipped."""
    def decode(index: np.int64, draws: np.ndarray) -> np.ndarray:
        entry = entries[int(index)]
        try:
            return load_rgb_square(entry, lambda width, height: _place(width, height, image_size, training, draws),
                                   image_size)
        except Exception as error:  # the file changed or vanished after the scan
            raise DatasetError(f"Could not read {entry.path} while training: {error}") from error
    return decode


def _place(width: int, height: int, image_size: int, training: bool, draws) -> tuple[int, int, int]:
    """Return (left, top, side) of the square that becomes a photo's crop, as `_crop` picks it.

    The shorter side is scaled to the crop size (training: to a random length up
    to MAX_SCALE_OVER_CROP times it, for photos that big), so the square's side is
    the crop size over that scale; training places it at random, evaluation in the
    centre. `draws`: three uniform numbers in [0, 1) for the scale, top and left.
    """
    scale_draw, top_draw, left_draw = (float(value) for value in draws)
    short_side = min(width, height)
    target = float(image_size)
    if training:
        upper = max(image_size, min(short_side, MAX_SCALE_OVER_CROP * image_size))
        target = image_size + scale_draw * (upper + 1e-3 - image_size)
    window = min(max(round(image_size * short_side / target), 1), short_side)
    if not training:
        return (width - window) // 2, (height - window) // 2, window
    return int(left_draw * (width - window + 1)), int(top_draw * (height - window + 1)), window


def _target_short_side(short_side, image_size: int, training: bool, seed):
    """Return the shorter side to resize to: the crop size, or a random one up to 2x for big photos."""
    crop = tf.cast(image_size, tf.float32)
    if not training:
        return crop
    upper = tf.maximum(crop, tf.minimum(short_side, MAX_SCALE_OVER_CROP * crop))
    return tf.random.stateless_uniform([], seed, minval=crop, maxval=upper + 1e-3)


def _crop(rgb, image_size: int, training: bool, seed):
    """Take the square of the photo that becomes the crop, resize it to the crop size, flip it.

    Any extra channel after RGB (a pseudo-label's confidence) is cropped and flipped with it.

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
    channels = rgb.shape[-1]   # 3, or 4 for a pseudo-label (RGB + the teacher's confidence)
    image = tf.cond(tf.equal(window, image_size), lambda: tf.reshape(image, [image_size, image_size, channels]),
                    lambda: tf.clip_by_value(tf.image.resize(image, [image_size, image_size], antialias=True),
                                             0.0, 1.0))
    if not training:
        return image
    # Left-right flips only: an upside-down photo puts sky colours at the bottom.
    return tf.image.stateless_random_flip_left_right(image, flip_seed)


def _model_pair(batch_number, rgb, noise: float, seed: int):
    """Turn an 8-bit RGB batch into (L in [-1, 1], ab / AB_SCALE), with Gaussian noise on L if asked."""
    lightness, ab = color.tf_uint8_rgb_to_model_pair(rgb)
    return _add_grain(batch_number, lightness, noise, seed), ab


def _add_grain(batch_number, lightness, noise: float, seed: int):
    """Return L with Gaussian grain of std `noise` (keyed on the seed and batch), clipped to [-1, 1]."""
    if noise <= 0:
        return lightness
    noise_seed = tf.stack([tf.constant(seed + NOISE_SEED_OFFSET, tf.int64), batch_number])
    grain = tf.random.stateless_normal(tf.shape(lightness), noise_seed, stddev=noise)
    return tf.clip_by_value(lightness + grain, -1.0, 1.0)


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
    decode = _square_decoder(entries, image_size, training)
    indices = tf.data.Dataset.range(len(entries))
    if training:
        indices = indices.shuffle(len(entries), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        indices = indices.repeat()

    def load_and_crop(position, index):
        # The square is cut out and resized in the decode (Pillow, on 8-bit pixels, a JPEG at a
        # reduced DCT scale where that still gives the crop its pixels): the random draws are
        # made here, keyed on the seed and the position in the stream, and handed in.
        seeds = tf.unstack(tf.random.experimental.stateless_split(
            tf.stack([tf.constant(seed, tf.int64), position]), 4))
        draws = tf.stack([tf.random.stateless_uniform([], part) for part in seeds[:3]])
        rgb = tf.numpy_function(decode, [index, draws], tf.uint8, stateful=False)
        rgb.set_shape([image_size, image_size, 3])
        # Left-right flips only: an upside-down photo puts sky colours at the bottom. Still 8-bit:
        # the batch is made float once, with its Lab conversion.
        return tf.image.stateless_random_flip_left_right(rgb, seeds[3]) if training else rgb

    crops = indices.enumerate().map(load_and_crop, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    # Lab conversion runs once per batch, on its 8-bit pixels and compiled by XLA: one fused loop
    # beats B small maps (the float map unfused cost ~0.9 ms more CPU per image, BENCHMARKS.md).
    batches = crops.batch(batch_size).enumerate().map(
        lambda number, rgb: _model_pair(number, rgb, noise if training else 0.0, seed),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return batches.prefetch(tf.data.AUTOTUNE)


def _pseudo_label_decoder(paths: tuple[Path, ...], weighted: bool):
    """Return a numpy function: index -> (H, W, 4) uint8 of a pseudo-label PNG (RGB + confidence, or 255)."""
    def decode(index: np.int64) -> np.ndarray:
        path = paths[int(index)]
        try:
            with Image.open(path) as image:
                label = np.array(image.convert("RGBA"))
        except Exception as error:  # the file changed or vanished after labelling
            raise DatasetError(f"Could not read the pseudo-label {path} while training: {error}") from error
        if not weighted:
            label[..., 3] = 255
        return label
    return decode


def _crops(count: int, decode, channels: int, image_size: int, seed: int):
    """Return an endless, shuffled stream of training crops (float, `channels` deep) of `count` images."""
    indices = tf.data.Dataset.range(count).shuffle(count, seed=seed, reshuffle_each_iteration=True).repeat()

    def load_and_crop(position, index):
        image = tf.numpy_function(decode, [index], tf.uint8, stateful=False)
        image.set_shape([None, None, channels])
        return _crop(image, image_size, True, tf.stack([tf.constant(seed, tf.int64), position]))

    return indices.enumerate().map(load_and_crop, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _jitter_lightness(lightness, batch_number, seed: int):
    """Scale each photo's L contrast about its mean and shift its brightness, at random (student noise)."""
    batch = tf.shape(lightness)[0]
    contrast_seed, brightness_seed = tf.unstack(tf.random.experimental.stateless_split(
        tf.stack([tf.constant(seed + JITTER_SEED_OFFSET, tf.int64), batch_number]), 2))
    contrast = tf.random.stateless_uniform([batch, 1, 1, 1], contrast_seed, 1.0 - STUDENT_CONTRAST_JITTER,
                                           1.0 + STUDENT_CONTRAST_JITTER)
    # L spans [-1, 1], so a shift of 2x the share moves it by that share of its range.
    shift = tf.random.stateless_uniform([batch, 1, 1, 1], brightness_seed, -2.0 * STUDENT_BRIGHTNESS_JITTER,
                                        2.0 * STUDENT_BRIGHTNESS_JITTER)
    mean = tf.reduce_mean(lightness, axis=[1, 2, 3], keepdims=True)
    return tf.clip_by_value((lightness - mean) * contrast + mean + shift, -1.0, 1.0)


def make_student_dataset(files: Sequence[ScannedFile], pseudo_labels: Sequence[Path], image_size: int,
                         batch_size: int, *, unlabeled_share: float, seed: int = 42,
                         noise: float = 0.0, weighted: bool = True) -> tf.data.Dataset:
    """Return an endless tf.data pipeline of a self-training student's (L, ab + weight) batches.

    Crops of the colour photos (weight 1) and of the teacher's pseudo-labels
    (weight: the teacher's confidence, the PNG's alpha; 1 unless `weighted`) are drawn at random in
    the ratio `unlabeled_share`; the student's input is noised (Noisy Student):
    random scale, crop and flip as in ordinary training, plus contrast and
    brightness jitter and `noise` grain on L. y is (B, S, S, 3): ab / AB_SCALE
    and the weight, which the losses read (ab_classes.split_pixel_weights).
    """
    if not files or not pseudo_labels:
        raise DatasetError("Self-training needs both colour photos and pseudo-labels to learn from.")
    entries, paths = tuple(files), tuple(Path(path) for path in pseudo_labels)
    labelled = _crops(len(entries), _rgb_with_full_weight(_decoder(entries)), 4, image_size, seed)
    pseudo = _crops(len(paths), _pseudo_label_decoder(paths, weighted), 4, image_size, seed + PSEUDO_SEED_OFFSET)
    mixed = tf.data.Dataset.sample_from_datasets([labelled, pseudo], [1.0 - unlabeled_share, unlabeled_share],
                                                 seed=seed)

    def student_pair(number, crops):
        lightness, ab = color.tf_rgb_to_model_pair(crops[..., :3])
        lightness = _add_grain(number, _jitter_lightness(lightness, number, seed), noise, seed)
        return lightness, tf.concat([ab, crops[..., 3:]], axis=-1)

    batches = mixed.batch(batch_size).enumerate().map(student_pair, num_parallel_calls=tf.data.AUTOTUNE,
                                                      deterministic=True)
    return batches.prefetch(tf.data.AUTOTUNE)


def _rgb_with_full_weight(decode):
    """Return a decoder giving a colour photo as RGB plus a constant weight channel of 255 (weight 1)."""
    def decode_with_weight(index: np.int64) -> np.ndarray:
        rgb = decode(index)
        return np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    return decode_with_weight


def training_steps_per_epoch(config, split, global_batch: int | None = None) -> int:
    """Return the batches in one epoch: a pass over the photos, or MIN_CROPS_PER_EPOCH crops if more.

    `global_batch` is the images per step across all replicas (multi-worker
    training), so an epoch means the same amount of training with any strategy.
    """
    batch = global_batch or config.batch_size
    return max(math.ceil(len(split.train) / batch), math.ceil(MIN_CROPS_PER_EPOCH / batch))
