"""The U-Net colouriser: presets, the builder, the colour loss and metrics.

The model takes L scaled to [-1, 1], shape (H, W, 1), and predicts ab / AB_SCALE
in [-1, 1] (tanh), shape (H, W, 2). It is fully convolutional, so any H and W
that are multiples of `depth_factor(preset)` work (2 ** number of poolings:
2 for tiny, 8 for cpu, 16 for gpu and large); other sizes fail inside the
skip concatenation, so callers pad or resize first (`check_image_size` says
so in one sentence). Only built-in Keras layers are used, so `.keras` and
`.h5` files load anywhere; the loss and metrics are registered serialisable
objects so a model saved with its compile config also loads.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from colorize.constants import AB_SCALE
from colorize.errors import UsageError

# Presets are plain dicts (keras-hub style). `widths` are the encoder levels,
# the last one is the bottleneck; `dilations` are extra 3x3 convs in the
# bottleneck that widen the receptive field cheaply at 1/8 or 1/16 resolution
# (Zhang et al. 2016 use dilated convs for the same reason: colour needs context).
# cpu: widths 16..128 at 128x128 trained ~6-35 images/s on this 2-core machine
# (DESIGN.md); bigger presets are for GPUs.
PRESETS: dict[str, dict] = {
    "tiny": {"widths": (4, 8), "dilations": (), "image_size": 32, "batch_size": 4,
             "learning_rate": 1e-3, "description": "tests only: seconds on a CPU"},
    "cpu": {"widths": (16, 32, 64, 128), "dilations": (2, 4), "image_size": 128, "batch_size": 16,
            "learning_rate": 1e-3, "description": "default on a CPU: about 0.8 M parameters"},
    "gpu": {"widths": (32, 64, 128, 256, 512), "dilations": (2, 4), "image_size": 256, "batch_size": 32,
            "learning_rate": 1e-3, "description": "one GPU: about 13 M parameters"},
    "large": {"widths": (64, 128, 256, 512, 768), "dilations": (2, 4, 8), "image_size": 256,
              "batch_size": 32, "learning_rate": 5e-4, "description": "big GPUs: about 44 M parameters"},
}

# Names `train --monitor` accepts. All are minimised; the metrics carry
# `_direction = "down"` so Keras callbacks in mode="auto" pick "min" themselves.
MONITORS: tuple[str, ...] = ("val_loss", "loss", "val_ab_mae", "ab_mae", "val_chroma_gap", "chroma_gap")

LEAKY_SLOPE = 0.2
# Zhang et al. 2016 (richzhang/colorization): 10-wide ab bins, prior smoothed
# with a Gaussian of sigma 5 (ab units), mixed with a uniform prior at lambda 0.5.
AB_BIN_SIZE = 10.0
PRIOR_SIGMA = 5.0
REBALANCE_MIX = 0.5
# What compile_for_training uses: plain L1. Measured on data/default (cpu preset,
# 400 steps of 16 crops, 42 held-out photos, true mean chroma 21.4, mean b 3.1):
# Huber chroma 8.7 / b 3.1 / hue cosine 0.38; L1 9.3 / 6.0 / 0.39 (and the lowest ab
# error, 12.6); L1 rebalanced by bins at 0.5 reached chroma 20.1 but as a yellow cast
# (mean b 16.7, hue cosine 0.32), likewise at 0.25 (17.6 / 16.2) and by chroma rings.
# In a 2-channel regression the rebalanced optimum is the centroid of the rare
# colours, which lean warm, so rebalancing stays an option for long runs, not the default.
DEFAULT_REBALANCE = 0.0


def _preset(preset: str) -> dict:
    """Return the preset dict or raise UsageError naming the choices."""
    if preset not in PRESETS:
        raise UsageError(f"Unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    return PRESETS[preset]


def depth_factor(preset: str) -> int:
    """Return the number image sides must be a multiple of for this preset."""
    return 2 ** (len(_preset(preset)["widths"]) - 1)


def check_image_size(size: int, preset: str) -> None:
    """Raise UsageError unless `size` is a positive multiple of the preset's depth factor."""
    factor = depth_factor(preset)
    if size < factor or size % factor:
        raise UsageError(f"Image size {size} does not fit the {preset!r} model: use a multiple of "
                         f"{factor} (for example {max(factor, size // factor * factor)}).")


def _conv_unit(x, filters: int, name: str, dilation: int = 1):
    """3x3 conv (no bias: BatchNorm follows) -> BatchNorm -> LeakyReLU."""
    x = keras.layers.Conv2D(filters, 3, padding="same", dilation_rate=dilation, use_bias=False,
                            name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{name}_act")(x)


def _conv_block(x, filters: int, name: str):
    """Two conv units: the body of every encoder and decoder level."""
    x = _conv_unit(x, filters, f"{name}_a")
    return _conv_unit(x, filters, f"{name}_b")


def build_unet(preset: str = "cpu", name: str = "colorize_unet") -> keras.Model:
    """Return an uncompiled U-Net: input "gray_l" (None, None, 1) -> "ab" (None, None, 2) in [-1, 1]."""
    settings = _preset(preset)
    widths, dilations = settings["widths"], settings["dilations"]
    inputs = keras.Input(shape=(None, None, 1), name="gray_l")
    x, skips = inputs, []
    for level, filters in enumerate(widths[:-1], start=1):
        x = _conv_block(x, filters, f"encoder{level}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"encoder{level}_pool")(x)
    x = _conv_block(x, widths[-1], "bottleneck")
    for index, rate in enumerate(dilations, start=1):
        x = _conv_unit(x, widths[-1], f"bottleneck_dilated{index}", dilation=rate)
    for level in range(len(widths) - 1, 0, -1):
        filters = widths[level - 1]
        # Nearest, not bilinear: Keras 3.15's bilinear UpSampling2D fails when a
        # predict retraces with unknown H, W (symbolic size used as a Python bool);
        # the 3x3 conv right after smooths the blocks, and it avoids the
        # checkerboard artefacts of Conv2DTranspose.
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"decoder{level}_up")(x)
        x = _conv_unit(x, filters, f"decoder{level}_reduce")
        x = keras.layers.Concatenate(name=f"decoder{level}_skip")([x, skips[level - 1]])
        x = _conv_block(x, filters, f"decoder{level}")
    x = keras.layers.Conv2D(2, 1, name="ab_head_conv")(x)
    # float32 output even under mixed precision, so the loss sees full precision.
    outputs = keras.layers.Activation("tanh", dtype="float32", name="ab")(x)
    return keras.Model(inputs, outputs, name=name)


def _ab_bin_index(ab_units, bins_per_axis: int):
    """Return the flat 10x10 ab-bin index of every pixel of ab (Lab units, (..., 2))."""
    half = bins_per_axis * AB_BIN_SIZE / 2.0
    index = tf.clip_by_value(tf.floor((ab_units + half) / AB_BIN_SIZE), 0, bins_per_axis - 1)
    index = tf.cast(index, tf.int32)
    return index[..., 0] * bins_per_axis + index[..., 1]


def _gaussian_kernel(sigma_bins: float, dimensions: int) -> np.ndarray:
    """Return a normalised Gaussian conv kernel, (k, 1, 1) for 1-D or (k, k, 1, 1) for 2-D."""
    radius = max(1, int(np.ceil(3 * sigma_bins)))
    offsets = np.arange(-radius, radius + 1, dtype=np.float32)
    line = np.exp(-0.5 * (offsets / sigma_bins) ** 2)
    kernel = line if dimensions == 1 else np.outer(line, line)
    return (kernel / kernel.sum()).astype(np.float32).reshape(kernel.shape + (1, 1))


def _colour_classes(ab_true, by: str) -> tuple:
    """Return (class index per pixel, number of classes, histogram shape) for the prior.

    by="bin": Zhang's 10x10 ab squares. by="chroma": 10-wide rings of sqrt(a^2 + b^2),
    so every hue at one saturation shares a weight.
    """
    ab_units = ab_true * AB_SCALE
    if by == "chroma":
        rings = int(np.ceil(AB_SCALE * np.sqrt(2) / AB_BIN_SIZE))
        chroma = tf.sqrt(tf.reduce_sum(tf.square(ab_units), axis=-1))
        index = tf.cast(tf.clip_by_value(tf.floor(chroma / AB_BIN_SIZE), 0, rings - 1), tf.int32)
        return index, rings, [1, rings, 1]
    bins_per_axis = int(np.ceil(2 * AB_SCALE / AB_BIN_SIZE))
    return _ab_bin_index(ab_units, bins_per_axis), bins_per_axis**2, [1, bins_per_axis, bins_per_axis, 1]


def rebalancing_weights(ab_true, mix: float = REBALANCE_MIX, by: str = "bin"):
    """Return one weight per pixel (..., ) from the batch's ab prior: rare colours weigh more.

    Zhang et al. 2016, eq. 4: w ~ ((1 - mix) * smoothed_prior + mix / Q) ** -1, scaled so
    the mean weight over the batch's pixels is 1 (the loss keeps L1's scale). The prior
    is the histogram of the batch itself, so the loss needs no dataset pass and no saved
    state (it works for any dataset); Q counts the classes the batch occupies.
    """
    index, classes, shape = _colour_classes(ab_true, by)
    counts = tf.math.unsorted_segment_sum(tf.ones_like(index, tf.float32), index, classes)
    kernel = _gaussian_kernel(PRIOR_SIGMA / AB_BIN_SIZE, len(shape) - 2)
    convolve = tf.nn.conv1d if len(shape) == 3 else tf.nn.conv2d
    smoothed = tf.reshape(convolve(tf.reshape(counts, shape), kernel, 1, "SAME"), [-1])
    prior = smoothed / tf.reduce_sum(smoothed)
    occupied = tf.reduce_sum(tf.cast(prior > 0, tf.float32))
    weights = 1.0 / ((1.0 - mix) * prior + mix / occupied)
    pixel_weights = tf.gather(weights, index)
    return tf.stop_gradient(pixel_weights / tf.reduce_mean(pixel_weights))


def _chroma(ab):
    """Return sqrt(a^2 + b^2) per pixel (in the units of ab), with a gradient at 0."""
    return tf.sqrt(tf.reduce_sum(tf.square(ab), axis=-1) + 1e-6)


@keras.saving.register_keras_serializable(package="colorize")
class RebalancedL1Loss(keras.losses.Loss):
    """Mean absolute ab error, optionally weighted by the rarity of each pixel's true colour.

    Why this loss: L2 (and Huber, L2 near zero) regression predicts the conditional
    mean of the plausible colours, which for ambiguous objects is brownish gray: the
    sepia wash of the feasibility run (DESIGN.md). L1 predicts the per-channel median,
    which commits to a colour that occurs instead of averaging. Zhang et al.'s class
    rebalancing (rebalance > 0) stops the common desaturated pixels from dominating
    the gradient; measured here it buys saturation as a warm cast (DEFAULT_REBALANCE).
    `saturation` adds a hinge on missing chroma (also measured: it turns everything
    yellow at short training, so it defaults to 0).
    Classification over ab bins would commit harder but needs a 313-channel head
    and annealed-mean decoding; we keep a 2-channel tanh head so a saved model
    stays a plain "ab" model for predict. `rebalance` is how much of the weight
    comes from the empirical prior (Zhang: 0.5); 0 gives plain L1.
    """

    def __init__(self, rebalance: float = DEFAULT_REBALANCE, by: str = "bin", saturation: float = 0.0,
                 name: str = "rebalanced_l1", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= rebalance <= 1.0:
            raise UsageError(f"Rebalance must be between 0 and 1 (got {rebalance}).")
        if by not in ("bin", "chroma"):
            raise UsageError(f"Rebalance by 'bin' or 'chroma' (got {by!r}).")
        if saturation < 0.0:
            raise UsageError(f"Saturation weight cannot be negative (got {saturation}).")
        self.rebalance = float(rebalance)
        self.by = by
        self.saturation = float(saturation)

    def call(self, y_true, y_pred):
        y_true = tf.cast(y_true, tf.float32)
        y_pred = tf.cast(y_pred, tf.float32)
        per_pixel = tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)
        if self.saturation > 0.0:
            # Penalise only missing chroma: its gradient is radial, so it deepens the hue
            # the model chose instead of pulling every pixel towards one common hue.
            shortfall = tf.nn.relu(_chroma(y_true) - _chroma(y_pred))
            per_pixel = per_pixel + self.saturation * shortfall
        if self.rebalance <= 0.0:  # all uniform prior: every weight is 1
            return per_pixel
        # rebalance is the share of the empirical prior; Zhang's lambda is the uniform share.
        return per_pixel * rebalancing_weights(y_true, mix=1.0 - self.rebalance, by=self.by)

    def get_config(self) -> dict:
        return {**super().get_config(), "rebalance": self.rebalance, "by": self.by,
                "saturation": self.saturation}


def ab_mean_absolute_error(y_true, y_pred):
    """Per-image mean absolute ab error in Lab units (a and b averaged)."""
    difference = tf.abs(tf.cast(y_true, tf.float32) - tf.cast(y_pred, tf.float32)) * AB_SCALE
    return tf.reduce_mean(difference, axis=[1, 2, 3])


def chroma_gap(y_true, y_pred):
    """Per-image |mean predicted chroma - mean true chroma| in Lab units (0 = as vivid as the photo)."""
    def mean_chroma(ab):
        ab = tf.cast(ab, tf.float32) * AB_SCALE
        return tf.reduce_mean(tf.sqrt(tf.reduce_sum(tf.square(ab), axis=-1) + 1e-6), axis=[1, 2])
    return tf.abs(mean_chroma(y_pred) - mean_chroma(y_true))


@keras.saving.register_keras_serializable(package="colorize")
class AbMeanAbsoluteError(keras.metrics.MeanMetricWrapper):
    """Mean absolute ab error in Lab units: a checkpoint monitor that reads as colour error."""

    def __init__(self, name: str = "ab_mae", dtype=None):
        super().__init__(fn=ab_mean_absolute_error, name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="colorize")
class ChromaGap(keras.metrics.MeanMetricWrapper):
    """Gap between predicted and true mean chroma (Lab units): catches washed-out output."""

    def __init__(self, name: str = "chroma_gap", dtype=None):
        super().__init__(fn=chroma_gap, name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


def compile_for_training(model: keras.Model, learning_rate: float = 1e-3, **loss_options) -> keras.Model:
    """Compile `model` with Adam, the rebalanced L1 loss and the colour metrics; return it.

    loss_options go to RebalancedL1Loss: rebalance=0 (default) is plain L1, 0.5 Zhang's
    mix, 1 pure inverse frequency; by="bin" | "chroma"; saturation >= 0. L1, not Huber
    or MSE: see DEFAULT_REBALANCE for the measured comparison.
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss=RebalancedL1Loss(**loss_options),
                  metrics=[AbMeanAbsoluteError(), ChromaGap()])
    return model
