"""The ab-class head: bins and prior from photos, rebalancing, the loss, and the decoding saved in the model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from colorize.models import ab_classes, model
from colorize.constants import AB_SCALE
from colorize.models.modelfile import inspect_model, load_model_file

RED_RGB = (200, 30, 30)


def photos() -> list[np.ndarray]:
    """Two photos: one mostly gray with a red corner, one green."""
    gray = np.full((40, 40, 3), 128, np.uint8)
    gray[:8, :8] = RED_RGB
    green = np.zeros((40, 40, 3), np.uint8)
    green[..., 1] = 160
    return [gray, green]


def classes_of_photos() -> ab_classes.AbClasses:
    return ab_classes.ab_classes_from_histogram(ab_classes.ab_histogram(photos()))


def tiny_class_model(classes: ab_classes.AbClasses, temperature: float = 1.0) -> keras.Model:
    """The tiny U-Net with a head over `classes` at half resolution, decoded to ab."""
    body = model.build_unet("tiny")
    features = keras.layers.AveragePooling2D(2, name="head_pool")(body.get_layer("decoder1_b_act").output)
    logits = keras.layers.Conv2D(classes.count, 1, name=ab_classes.LOGITS_LAYER)(features)
    return ab_classes.append_annealed_mean(keras.Model(body.input, logits), classes.centres, temperature, 2)


def test_bins_are_the_occupied_ones_with_gray_and_a_prior_that_sums_to_one():
    classes = classes_of_photos()
    centres = {tuple(centre) for centre in classes.centres.tolist()}
    assert (0.0, 0.0) in centres
    assert 3 <= classes.count <= 12                   # gray, red, green and their rounding neighbours
    assert all(value % ab_classes.AB_CLASS_BIN_SIZE == 0 for centre in centres for value in centre)
    assert classes.prior.sum() == pytest.approx(1.0, rel=1e-5)
    gray_share = classes.prior[classes.centres.tolist().index([0.0, 0.0])]
    red_share = classes.prior[int(np.argmax(classes.centres[:, 0]))]
    assert gray_share > 10 * red_share                # 1536 gray pixels to 64 red ones


def test_saved_centres_keep_their_bins_and_get_this_datas_prior():
    histogram = ab_classes.ab_histogram(photos())
    centres = np.array([[0, 0], [50, 50], [-100, 100]], np.float32)
    classes = ab_classes.ab_classes_from_histogram(histogram, centres)
    np.testing.assert_array_equal(classes.centres, centres)
    assert classes.prior[0] > classes.prior[2] > 0


def test_rebalancing_weights_favour_rare_classes_and_average_one_under_the_prior():
    prior = np.array([0.9, 0.09, 0.01], np.float32)
    weights = ab_classes.rebalancing_weights(prior, 0.5)
    assert float((prior * weights).sum()) == pytest.approx(1.0, rel=1e-5)
    assert weights[2] > weights[1] > weights[0]
    np.testing.assert_allclose(ab_classes.rebalancing_weights(prior, 1.0), 1.0, rtol=1e-5)


def test_loss_is_lowest_for_logits_that_pick_the_true_colour():
    classes = classes_of_photos()
    loss = ab_classes.AbClassLoss(classes.centres, np.ones(classes.count), head_stride=2)
    red_index = int(np.argmax(classes.centres[:, 0]))
    truth = np.broadcast_to(classes.centres[red_index] / AB_SCALE, (1, 4, 4, 2)).astype(np.float32)
    right, wrong = np.zeros((1, 2, 2, classes.count), np.float32), np.zeros((1, 2, 2, classes.count), np.float32)
    right[..., red_index] = 10.0
    wrong[..., 0] = 10.0
    assert float(loss(truth, right)) < 0.5 * float(loss(truth, wrong))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_decoding_lives_in_the_saved_model_with_its_temperature(tmp_path, suffix):
    classes = classes_of_photos()
    net = tiny_class_model(classes, temperature=0.5)
    lightness = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 1)).astype(np.float32)
    expected = net.predict(lightness, verbose=0)
    assert expected.shape == (2, 16, 16, 2)
    net.save(tmp_path / f"model{suffix}")
    loaded = load_model_file(tmp_path / f"model{suffix}")
    np.testing.assert_allclose(loaded.predict(lightness, verbose=0), expected, atol=1e-5)
    info = inspect_model(loaded)
    assert info.kind == "ab" and info.size_multiple == 4
    settings = ab_classes.class_head_settings(loaded)
    assert settings["temperature"] == pytest.approx(0.5)
    assert settings["head_stride"] == 2 and settings["classes"] == classes.count
    np.testing.assert_allclose(settings["centres"], classes.centres, atol=1e-4)


@pytest.mark.parametrize("temperature", [1.0, 0.38])
def test_decoding_is_the_annealed_mean_of_the_logits(temperature):
    classes = classes_of_photos()
    net = ab_classes.with_temperature(tiny_class_model(classes), temperature)
    lightness = np.random.default_rng(1).uniform(-1, 1, (1, 16, 16, 1)).astype(np.float32)
    logits = ab_classes.logits_view(net).predict(lightness, verbose=0)
    decoded = keras.Model(net.input, net.get_layer(ab_classes.EXPECTATION_LAYER).output).predict(lightness, verbose=0)
    scaled = np.exp((logits - logits.max(-1, keepdims=True)) / temperature)
    expected = (scaled / scaled.sum(-1, keepdims=True)) @ classes.centres / AB_SCALE
    np.testing.assert_allclose(decoded, expected, atol=1e-5)


def test_logits_view_trains_the_inference_model_with_decoded_colour_metrics():
    classes = classes_of_photos()
    net = tiny_class_model(classes)
    fit_model = model.compile_for_training(ab_classes.logits_view(net), classes=classes, rebalance=0.5)
    lightness = np.random.default_rng(2).uniform(-1, 1, (4, 16, 16, 1)).astype(np.float32)
    ab = np.broadcast_to(classes.centres[-1] / AB_SCALE, (4, 16, 16, 2)).astype(np.float32)
    before = net.predict(lightness, verbose=0)
    history = fit_model.fit(lightness, ab, epochs=3, batch_size=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert {"ab_mae", "chroma_gap"} <= set(history.history)
    assert not np.allclose(net.predict(lightness, verbose=0), before)   # shared layers moved
