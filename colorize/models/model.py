"""The colourisers: the U-Net builders, the colour losses and metrics, compiling.

Every model takes L scaled to [-1, 1], shape (H, W, 1), and predicts
ab / AB_SCALE in about [-1, 1], shape (H, W, 2). Two families (presets.py):
- from scratch (tiny, cpu, gpu, large): a U-Net with a tanh ab head and L1 loss;
- pretrained: ImageNet-trained EfficientNet-Lite0 (encoder.py) with a U-Net
  decoder and a head over ab classes (ab_classes.py), decoded to ab inside the
  model by stock layers.
Both are fully convolutional: any H and W that are multiples of
`presets.size_multiple(preset)` work; other sizes fail inside the skip
concatenation, so callers pad or resize first. Only built-in Keras layers are
used, so `.keras` and `.h5` files load anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

from colorize.models import ab_classes
from colorize.constants import AB_SCALE
from colorize.models.presets import ENCODER_BLOCKS, has_class_head, preset_settings, require

if TYPE_CHECKING:
    from colorize.models.hint_model import HintBranch

LEAKY_SLOPE = 0.2
# The from-scratch presets' loss is plain L1 on ab: L2 and Huber average the
# plausible colours of an ambiguous texture into brown, L1 (the per-channel
# median) commits more. A class-rebalanced L1 was tried and dropped: in a
# 2-channel regression the rebalanced optimum is the centroid of the rare
# colours, which lean warm (a yellow cast). Rebalancing lives in the class head
# instead (ab_classes.py), where it weighs whole colours.


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


def build_unet(preset: str = "cpu", name: str = "colorize_unet", head_dropout: float = 0.0) -> keras.Model:
    """Return an uncompiled U-Net: input "gray_l" (None, None, 1) -> "ab" (None, None, 2) in [-1, 1]."""
    settings = preset_settings(preset)
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
    return _ab_regression_head(inputs, _student_dropout(x, head_dropout), name)


def _ab_regression_head(inputs, x, name: str) -> keras.Model:
    """Return the model ending in a 1x1 conv to 2 channels and tanh: ab / AB_SCALE."""
    x = keras.layers.Conv2D(2, 1, name="ab_head_conv")(x)
    # float32 output even under mixed precision, so the loss sees full precision.
    outputs = keras.layers.Activation("tanh", dtype="float32", name="ab")(x)
    return keras.Model(inputs, outputs, name=name)


def build_pretrained_unet(classes: "ab_classes.AbClasses", preset: str = "pretrained",
                          name: str = "colorize_pretrained", head_dropout: float = 0.0,
                          hint_branch: "HintBranch | None" = None) -> keras.Model:
    """Return the inference model: L -> gray RGB -> ImageNet encoder -> U-Net decoder -> ab classes -> ab.

    The encoder is frozen (its BatchNorm statistics stay ImageNet's); the
    decoder climbs from stride 32 to the head's stride with skips from the
    encoder at every stride on the way. `logits_view` of the result is what
    training fits. With a `hint_branch` (hint_model.py) the model also takes
    hints, which the branch adds to the decoder at every stride and to the logits.
    """
    from colorize.models import encoder

    settings = preset_settings(preset)
    inputs = keras.Input(shape=(None, None, 1), name="gray_l")
    # L / 100 in [0, 1] as gray RGB: close to the sRGB gray of that lightness
    # (L 20 -> 0.20 vs 0.19, L 50 -> 0.50 vs 0.47) and all stock layers.
    gray = keras.layers.Rescaling(0.5, offset=0.5, name="gray_unit")(inputs)
    rgb = keras.layers.Concatenate(name="gray_rgb")([gray, gray, gray])
    features = encoder.build_efficientnet_lite0(weights=encoder.read_weights())
    features.trainable = False
    skips = features(rgb)        # strides 2, 4, 8, 16, 32
    if settings.get("dropout"):
        # 205 training photos and a decoder of millions of weights: without it the
        # first run's train ab error fell to 6 while validation stayed at 10.
        skips = [keras.layers.SpatialDropout2D(settings["dropout"], name=f"encoder_dropout{2 ** (index + 1)}")(skip)
                 for index, skip in enumerate(skips)]
    stride_levels = {2 ** (index + 1): skip for index, skip in enumerate(skips)}
    x, stride = _fuse_global_context(skips[-1], settings.get("global_context", 0)), 32
    if hint_branch is not None:
        hint_branch.at_context(x)
    for filters in settings["decoder_widths"]:
        stride //= 2
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"decoder{stride}_up")(x)
        x = _conv_unit(x, filters, f"decoder{stride}_reduce")
        x = keras.layers.Concatenate(name=f"decoder{stride}_skip")([x, stride_levels[stride]])
        x = _conv_block(x, filters, f"decoder{stride}")
        if hint_branch is not None:
            x = hint_branch.at_level(x, stride, filters)
        if stride == settings["head_stride"]:
            break
    x = _student_dropout(x, head_dropout)
    logits = keras.layers.Conv2D(classes.count, 1, dtype="float32", name=ab_classes.LOGITS_LAYER)(x)
    if hint_branch is not None:
        logits = hint_branch.on_logits(logits, classes.count)
        inputs = [inputs, *hint_branch.inputs]
    logits_model = keras.Model(inputs, logits, name=name)
    return ab_classes.append_annealed_mean(logits_model, classes.centres, settings["temperature"],
                                           settings["head_stride"], name=name)


def _fuse_global_context(features, width: int):
    """Return the stride-32 features with the whole image's mean feature added to every position.

    Iizuka et al. 2016 fuse a global image descriptor into the colourisation net
    so that a patch of bright gaps between leaves is read as a canopy when the
    image is a forest, not as sky. Stock layers: the Add broadcasts (1, 1, C)
    over (H, W, C), so any image size works.
    """
    if not width:
        return features
    local = keras.layers.Conv2D(width, 1, name="context_local_conv")(features)
    pooled = keras.layers.GlobalAveragePooling2D(keepdims=True, name="context_global_pool")(features)
    summary = keras.layers.Conv2D(width, 1, name="context_global_conv")(pooled)
    fused = keras.layers.Add(name="context_fuse")([local, summary])
    fused = keras.layers.BatchNormalization(name="context_bn")(fused)
    return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="context_act")(fused)


ENCODER_NAME = "effnet_lite0"


def unfreeze_encoder_top(model: keras.Model, blocks: int) -> int:
    """Let the encoder's top `blocks` MBConv blocks (and its head conv) train; return the weights unfrozen.

    BatchNorm layers stay frozen, in inference mode with ImageNet's statistics
    (the Keras transfer-learning guide: training them on small batches of a few
    hundred photos wrecks what the encoder learnt).
    """
    import re

    if ENCODER_NAME not in {layer.name for layer in model.layers}:
        require(blocks == 0, "This model has no pretrained encoder to fine-tune; leave --fine-tune-blocks at 0.")
        return 0
    encoder = model.get_layer(ENCODER_NAME)
    encoder.trainable = True
    first = ENCODER_BLOCKS - blocks
    for layer in encoder.layers:
        match = re.match(r"effnet_block(\d+)_", layer.name)
        in_top = layer.name.startswith("effnet_head") if match is None else int(match[1]) >= first
        layer.trainable = blocks > 0 and in_top and not isinstance(layer, keras.layers.BatchNormalization)
    if blocks <= 0:
        encoder.trainable = False
    return sum(int(np.prod(weight.shape)) for weight in encoder.trainable_weights)


def _student_dropout(x, rate: float):
    """Return x through dropout before the head when rate > 0: a self-training student's model noise."""
    return keras.layers.Dropout(rate, name="student_dropout")(x) if rate > 0 else x


def build_model(preset: str, classes: "ab_classes.AbClasses | None" = None, head_dropout: float = 0.0) -> keras.Model:
    """Return a new inference model of the preset (class-head presets need the training photos' classes).

    `head_dropout` > 0 adds dropout before the head (Noisy Student's noise in the student).
    """
    if has_class_head(preset):
        return build_pretrained_unet(classes, preset, head_dropout=head_dropout)
    return build_unet(preset, head_dropout=head_dropout)


@keras.saving.register_keras_serializable(package="colorize")
class PixelWeightedL1(keras.losses.Loss):
    """L1 on ab, each pixel weighed by y_true's third channel when it has one (a student's pseudo-labels)."""

    def call(self, y_true, y_pred):
        y_true, label_weight = ab_classes.split_pixel_weights(y_true)
        error = tf.reduce_mean(tf.abs(tf.cast(y_pred, tf.float32) - tf.cast(y_true, tf.float32)), axis=-1)
        return error if label_weight is None else error * label_weight[..., 0]


def _decoded(y_true, y_pred, class_head: dict | None):
    """Return (true ab, predicted ab) in Lab units, decoding a class head's logits at its resolution."""
    y_true = ab_classes.split_pixel_weights(y_true)[0]   # the colour figures are unweighted
    if class_head is None:
        return tf.cast(y_true, tf.float32) * AB_SCALE, tf.cast(y_pred, tf.float32) * AB_SCALE
    truth = ab_classes.pool_to_head(y_true, class_head["head_stride"]) * AB_SCALE
    return truth, ab_classes.decode_logits(y_pred, np.asarray(class_head["centres"], np.float32))


def _mean_chroma(ab_units):
    """Return each image's mean chroma sqrt(a^2 + b^2)."""
    return tf.reduce_mean(tf.sqrt(tf.reduce_sum(tf.square(ab_units), axis=-1) + 1e-6), axis=[1, 2])


class _ColourMetric(keras.metrics.Mean):
    """A per-image colour figure in Lab units, on ab or on a class head's decoded logits."""

    def __init__(self, name: str, class_head: dict | None = None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.class_head = class_head
        self._direction = "down"   # Keras callbacks in mode="auto" minimise it

    def figure(self, truth, prediction):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        truth, prediction = _decoded(y_true, y_pred, self.class_head)
        return super().update_state(self.figure(truth, prediction), sample_weight=sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "class_head": self.class_head, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="colorize")
class AbMeanAbsoluteError(_ColourMetric):
    """Mean absolute ab error in Lab units: a checkpoint monitor that reads as colour error."""

    def __init__(self, name: str = "ab_mae", class_head: dict | None = None, dtype=None):
        super().__init__(name=name, class_head=class_head, dtype=dtype)

    def figure(self, truth, prediction):
        return tf.reduce_mean(tf.abs(truth - prediction), axis=[1, 2, 3])


@keras.saving.register_keras_serializable(package="colorize")
class ChromaGap(_ColourMetric):
    """Gap between predicted and true mean chroma (Lab units): catches washed-out output."""

    def __init__(self, name: str = "chroma_gap", class_head: dict | None = None, dtype=None):
        super().__init__(name=name, class_head=class_head, dtype=dtype)

    def figure(self, truth, prediction):
        return tf.abs(_mean_chroma(prediction) - _mean_chroma(truth))


def compile_for_training(model: keras.Model, learning_rate: float = 1e-3,
                         classes: "ab_classes.AbClasses | None" = None, rebalance: float = 1.0,
                         pixel_weights: bool = False, ema_momentum: float | None = None) -> keras.Model:
    """Compile the model training fits with Adam, its loss and the colour metrics; return it.

    A regression model (ab out) trains with L1 (see LEAKY_SLOPE's comment for the
    measured comparison), per-pixel weighted for a self-training student
    (`pixel_weights`). A class head's logits view trains with the rebalanced
    cross-entropy, which reads per-pixel weights whenever y_true has them;
    `rebalance` is Zhang's lambda (1: no rebalancing). With `ema_momentum`, Adam
    also keeps an exponential moving average of the weights (fit_model then
    swaps it in for validation and checkpoints: callbacks.build_callbacks).
    """
    if classes is None:
        loss = PixelWeightedL1(name="pixel_weighted_l1") if pixel_weights else keras.losses.MeanAbsoluteError()
        class_head = None
    else:
        head_stride = _head_stride(model)
        weights = ab_classes.rebalancing_weights(classes.prior, rebalance)
        loss = ab_classes.AbClassLoss(classes.centres, weights, head_stride)
        class_head = {"centres": classes.centres.tolist(), "head_stride": head_stride}
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, use_ema=ema_momentum is not None,
                                      ema_momentum=ema_momentum if ema_momentum is not None else 0.99)
    model.compile(optimizer=optimizer, loss=loss,
                  metrics=[AbMeanAbsoluteError(class_head=class_head), ChromaGap(class_head=class_head)])
    return model


def float32_copy(model: keras.Model) -> keras.Model:
    """Return `model` with every mixed_float16 layer in float32 and the same weights (`model` itself if none is).

    A model trained under mixed precision (a GPU's policy) keeps each layer's
    policy in its file, so a CPU would predict in float16: slower (0.147 s against
    0.078 s for a 512x332 photo, benchmarks/bench_gpu_training.py --cpu-smoke) and
    for no gain. The file is saved in float32 instead; the weights are float32 anyway.
    """
    if not _has_float16_layers(model):   # the usual case, and cheaper than a config round trip
        return model
    copy = model.__class__.from_config(_float32_policies(model.get_config()))
    copy.set_weights(model.get_weights())
    return copy


def _has_float16_layers(model) -> bool:
    """Return whether any layer of `model`, nested models' layers included, computes in mixed_float16."""
    stack = list(getattr(model, "layers", ()))
    while stack:
        layer = stack.pop()
        if getattr(getattr(layer, "dtype_policy", None), "name", None) == "mixed_float16":
            return True
        stack.extend(getattr(layer, "layers", ()))
    return False


def _float32_policies(value):
    """Return a layer config (nested dicts and lists) with every mixed_float16 dtype policy made float32."""
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy" and value.get("config", {}).get("name") == "mixed_float16":
            return {**value, "config": {**value["config"], "name": "float32"}}
        return {key: _float32_policies(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_float32_policies(item) for item in value]
    return value


def _head_stride(logits_model: keras.Model) -> int:
    """Return how many input pixels one logits cell covers (from a static probe shape)."""
    probe = 64
    output = logits_model.compute_output_shape((1, probe, probe, 1))
    return probe // int(output[1])
