"""Mixed precision (a GPU's mixed_float16 policy) keeps the class head's logits, softmax and decoding in float32."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from colorize.constants import AB_SCALE
from colorize.models import ab_classes, model


@pytest.fixture
def mixed_float16():
    """Turn on the policy strategy.detect_devices sets on a capable GPU; restore the old one afterwards."""
    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def test_the_pretrained_class_head_computes_in_float32_and_trains_one_step(mixed_float16):
    classes = ab_classes.AbClasses(np.array([[0, 0], [40, 20], [-30, 40]], np.float32),
                                   np.array([0.6, 0.2, 0.2], np.float32))
    net = model.build_model("pretrained", classes)
    assert net.get_layer("decoder4_b_conv").compute_dtype == "float16"   # the body is in float16
    for name in (ab_classes.LOGITS_LAYER, ab_classes.TEMPERATURE_LAYER, ab_classes.PROBABILITIES_LAYER,
                 ab_classes.EXPECTATION_LAYER, ab_classes.OUTPUT_LAYER):
        layer = net.get_layer(name)
        assert (layer.compute_dtype, layer.output.dtype) == ("float32", "float32"), name
    fit_model = model.compile_for_training(ab_classes.logits_view(net), classes=classes, rebalance=0.5)
    assert isinstance(fit_model.optimizer, keras.optimizers.LossScaleOptimizer)
    lightness = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    ab = np.broadcast_to(classes.centres[1] / AB_SCALE, (2, 32, 32, 2)).astype(np.float32)
    logits = fit_model(lightness)
    assert logits.dtype == "float32"
    history = fit_model.fit(lightness, ab, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    output = net.predict(lightness, verbose=0)
    assert output.dtype == np.float32 and output.shape == (2, 32, 32, 2) and np.isfinite(output).all()


def test_a_model_trained_in_mixed_precision_is_saved_in_float32(mixed_float16, tmp_path):
    from colorize.config import TrainConfig
    from colorize.models.modelfile import load_model_file
    from colorize.training.runfolder import save_final_model

    classes = ab_classes.AbClasses(np.array([[0, 0], [40, 20], [-30, 40]], np.float32),
                                   np.array([0.6, 0.2, 0.2], np.float32))
    net = model.build_model("pretrained", classes)
    lightness = np.random.default_rng(1).uniform(-1, 1, (1, 64, 64, 1)).astype(np.float32)
    mixed_output = net.predict(lightness, verbose=0)
    path = save_final_model(net, TrainConfig(data="default"), tmp_path)["model"]
    keras.mixed_precision.set_global_policy("float32")     # a CPU machine loading the file
    loaded = load_model_file(path)
    assert {layer.dtype_policy.name for layer in loaded.layers} == {"float32"}
    assert {layer.dtype_policy.name for layer in loaded.get_layer(model.ENCODER_NAME).layers} == {"float32"}
    np.testing.assert_allclose(loaded.predict(lightness, verbose=0), mixed_output, atol=0.02)
