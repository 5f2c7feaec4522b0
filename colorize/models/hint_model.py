"""A class-head model that also takes hints as input (Zhang et al. 2017), grown from a trained one.

Inputs: L as every model takes it, the hints' ab / AB_SCALE (0 where there is
no hint) and a mask (1 where there is). A small branch reads the hints pooled
to each decoder stride beside the decoder's own features, starting at stride
32 where a 3x3 conv already spans a third of a 256 px photo (the reach a hint
needs to cover its object), and adds what it finds to the decoder at strides
16, 8 and 4 and to the class logits. Each addition ends in a 1x1 conv that
starts at zero and is multiplied by the photo's largest mask value, so with no
hint the model gives exactly the colours of the model it grew from: training
the branch (the base stays frozen) cannot make automatic colour worse.
Only stock layers, so `.keras` and `.h5` files load anywhere.
"""

from __future__ import annotations

import keras
import numpy as np

from colorize.constants import AB_SCALE

HINT_AB_INPUT = "hint_ab"
HINT_MASK_INPUT = "hint_mask"
BRANCH_PREFIX = "hint_"
BRANCH_WIDTH = 64
CONTEXT_DILATIONS = (1, 2, 4)   # stride 32: 3x3 convs reaching 3, 7 and 15 cells (the whole working photo)


class HintBranch:
    """Builds the hint branch while build_pretrained_unet builds the decoder it feeds."""

    def __init__(self, width: int = BRANCH_WIDTH):
        self.width = width
        self.ab = keras.Input(shape=(None, None, 2), name=HINT_AB_INPUT)
        self.mask = keras.Input(shape=(None, None, 1), name=HINT_MASK_INPUT)
        self.inputs = [self.ab, self.mask]
        self.negated_ab = keras.layers.Rescaling(-1.0, name="hint_negated_ab")(self.ab)
        # 1 when the photo has any hint, else 0: gates every addition (see the module docstring).
        self.gate = keras.layers.GlobalMaxPooling2D(keepdims=True, name="hint_gate")(self.mask)
        self.state = None

    def _pooled(self, stride: int):
        """Return the hints at `stride`: each cell's hint ab at full strength and whether it holds a hint.

        Max pooling, not averaging: a 3x3 point averaged over a 32x32 cell is 1%
        of its colour, and a first branch built that way learnt to ignore the
        colour (its output was the same for 1, 10 and 100 points). max(ab) -
        max(-ab) is a lone hint's ab exactly (the other pixels of the plane are 0).
        """
        pool = lambda name: keras.layers.MaxPooling2D(stride, name=f"{BRANCH_PREFIX}{name}{stride}")  # noqa: E731
        ab = keras.layers.Subtract(name=f"{BRANCH_PREFIX}ab{stride}")([pool("ab_high")(self.ab),
                                                                       pool("ab_low")(self.negated_ab)])
        return keras.layers.Concatenate(name=f"{BRANCH_PREFIX}cells{stride}")([ab, pool("present")(self.mask)])

    def _conv(self, x, name: str, dilation: int = 1):
        return keras.layers.Conv2D(self.width, 3, padding="same", dilation_rate=dilation, activation="relu",
                                   name=f"{BRANCH_PREFIX}{name}")(x)

    def _gated_addition(self, x, state, filters: int, name: str):
        delta = keras.layers.Conv2D(filters, 1, use_bias=False, kernel_initializer="zeros", dtype="float32",
                                    name=f"{BRANCH_PREFIX}{name}_delta")(state)
        delta = keras.layers.Multiply(name=f"{BRANCH_PREFIX}{name}_gated")([delta, self.gate])
        return keras.layers.Add(name=f"{BRANCH_PREFIX}{name}_add")([x, delta])

    def at_context(self, features) -> None:
        """Start the branch at stride 32 from the context features and the hints pooled to that stride."""
        state = keras.layers.Concatenate(name="hint_context_in")([features, self._pooled(32)])
        for dilation in CONTEXT_DILATIONS:
            state = self._conv(state, f"context_d{dilation}", dilation)
        self.state = state

    def at_level(self, x, stride: int, filters: int):
        """Return the decoder's features at `stride` plus the branch's gated addition."""
        carried = keras.layers.UpSampling2D(2, name=f"hint_up{stride}")(self.state)
        state = keras.layers.Concatenate(name=f"hint_level{stride}_in")([x, self._pooled(stride), carried])
        state = self._conv(self._conv(state, f"level{stride}_a"), f"level{stride}_b")
        self.state = state
        return self._gated_addition(x, state, filters, f"level{stride}")

    def on_logits(self, logits, classes: int):
        """Return the class logits plus the branch's gated addition."""
        return self._gated_addition(logits, self.state, classes, "logits")


def has_hint_inputs(model: keras.Model) -> bool:
    """Return whether the model takes hints as input (HINT_AB_INPUT and HINT_MASK_INPUT)."""
    return {HINT_AB_INPUT, HINT_MASK_INPUT} <= {tensor.name for tensor in model.inputs}


def grow_hint_model(base: keras.Model, preset: str = "pretrained") -> keras.Model:
    """Return a hint model holding `base`'s weights (a class-head model of `preset`), base layers frozen."""
    from colorize.models import ab_classes
    from colorize.models.model import build_pretrained_unet

    settings = ab_classes.class_head_settings(base)
    classes = ab_classes.AbClasses(settings["centres"], np.full(settings["classes"], 1.0 / settings["classes"],
                                                                 np.float32))
    model = build_pretrained_unet(classes, preset, name=base.name, hint_branch=HintBranch())
    base_layers = {layer.name: layer for layer in base.layers}
    for layer in model.layers:
        if layer.name in base_layers:
            layer.set_weights(base_layers[layer.name].get_weights())
            layer.trainable = False
    temperature = model.get_layer(ab_classes.TEMPERATURE_LAYER)
    temperature.scale = base.get_layer(ab_classes.TEMPERATURE_LAYER).scale
    return model


def hint_planes(mask: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the model's hint inputs for hints at its working size: (ab / AB_SCALE, 0 off hints) and the mask."""
    planes = np.where(mask[..., None], ab / AB_SCALE, 0.0).astype(np.float32)
    return planes, mask[..., None].astype(np.float32)


def call_inputs(takes_hints: bool, lightness_batch, planes=None, mask=None):
    """Return what a model is called with for a batch of L (B, h, w, 1): L alone, or L with its hint
    planes (zeros, so no hint, when none are given) for a model that takes hints."""
    if not takes_hints:
        return lightness_batch
    if planes is None and isinstance(lightness_batch, np.ndarray):   # an eager call takes arrays only
        mask = np.zeros_like(lightness_batch)
        planes = np.concatenate([mask, mask], axis=-1)
    elif planes is None:   # inside a traced function: zeros shaped like the symbolic L
        mask = keras.ops.zeros_like(lightness_batch)
        planes = keras.ops.concatenate([mask, mask], axis=-1)
    return [lightness_batch, planes, mask]
