"""The U-Net builder, its presets, the colour loss and metrics, and saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from colorize.models import model, presets
from colorize.errors import UsageError


def random_pair(batch: int, height: int, width: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    lightness = rng.uniform(-1, 1, size=(batch, height, width, 1)).astype(np.float32)
    ab = rng.uniform(-0.5, 0.5, size=(batch, height, width, 2)).astype(np.float32)
    return lightness, ab


def test_tiny_preset_builds_and_predicts_ab_in_range():
    net = model.build_unet("tiny")
    assert net.input_shape == (None, None, None, 1)
    assert net.output_shape == (None, None, None, 2)
    assert net.inputs[0].name == "gray_l"
    output = net.predict(random_pair(2, 32, 32)[0], verbose=0)
    assert output.shape == (2, 32, 32, 2)
    assert np.abs(output).max() <= 1.0


def test_layers_are_named_blocks():
    names = {layer.name for layer in model.build_unet("cpu").layers}
    for expected in ("encoder1_a_conv", "encoder3_pool", "bottleneck_b_bn", "bottleneck_dilated2_conv",
                     "decoder1_up", "decoder1_skip", "decoder3_b_act", "ab_head_conv", "ab"):
        assert expected in names


@pytest.mark.parametrize("preset, factor", [("tiny", 2), ("cpu", 8), ("gpu", 16), ("large", 16),
                                            ("pretrained", 32)])
def test_size_multiple_and_preset_defaults_fit(preset, factor):
    assert presets.size_multiple(preset) == factor
    presets.check_image_size(presets.PRESETS[preset]["image_size"], preset)


def test_any_size_divisible_by_depth_factor_works():
    net = model.build_unet("cpu")
    for height, width in ((8, 8), (24, 40), (64, 16)):
        assert net.predict(np.zeros((1, height, width, 1), np.float32), verbose=0).shape == (1, height, width, 2)


def test_non_divisible_size_fails_and_check_says_why():
    net = model.build_unet("cpu")
    # 30 -> 15 -> 7 pooled, 7 -> 14 upsampled: the skip join meets 6 and 7 at the deepest level
    with pytest.raises(ValueError, match=r"(?s)Concatenate.*but are 6 and 7"):
        net.predict(np.zeros((1, 30, 30, 1), np.float32), verbose=0)
    with pytest.raises(UsageError, match="multiple of 8"):
        presets.check_image_size(30, "cpu")
    with pytest.raises(UsageError, match="multiple of 16"):
        presets.check_image_size(24, "large")
    with pytest.raises(UsageError, match="16..2048"):
        presets.check_image_size(8, "gpu")


def test_unknown_preset_is_a_usage_error():
    with pytest.raises(UsageError, match="pretrained, tiny, cpu, gpu, large"):
        model.build_unet("huge")


def test_loss_is_plain_l1():
    truth, prediction = random_pair(2, 8, 8, seed=3)[1], random_pair(2, 8, 8, seed=4)[1]
    net = model.compile_for_training(model.build_unet("tiny"))
    assert float(net.loss(truth, prediction)) == pytest.approx(float(np.abs(truth - prediction).mean()), rel=1e-5)


def test_colour_metrics_read_in_lab_units():
    truth = np.zeros((1, 4, 4, 2), np.float32)
    prediction = np.full((1, 4, 4, 2), 0.1, np.float32)
    mae, gap = model.AbMeanAbsoluteError(), model.ChromaGap()
    mae.update_state(truth, prediction)
    gap.update_state(truth, prediction)
    assert float(mae.result()) == pytest.approx(11.0, rel=1e-4)
    assert float(gap.result()) == pytest.approx(11.0 * np.sqrt(2), rel=1e-3)


def test_every_monitor_a_run_may_watch_is_logged_by_fit():
    lightness, ab = random_pair(4, 16, 16)
    net = model.compile_for_training(model.build_unet("tiny"))
    history = net.fit(lightness, ab, validation_data=(lightness, ab), epochs=1, batch_size=2, verbose=0)
    assert set(presets.MONITORS) <= set(history.history)


def _averaged_tiny_net():
    keras.utils.set_random_seed(3)
    return model.compile_for_training(model.build_unet("tiny"), learning_rate=0.05, ema_momentum=0.5)


def _averaging_data():
    """Return (training pair, held-out pair) for the weight-averaging tests."""
    return random_pair(8, 16, 16, seed=5), random_pair(4, 16, 16, seed=6)


def test_weight_averaging_is_what_validation_scores_and_the_checkpoint_keeps(tmp_path):
    """With ema_momentum, each epoch's val_loss, ModelCheckpoint and the model fit leaves
    are Adam's averaged weights, not the last step's: the checkpoint reproduces the
    best logged val_loss, and the model fit leaves reproduces the last one."""
    from colorize.training.callbacks import build_callbacks
    from colorize.config import TrainConfig
    from colorize.constants import CHECKPOINT_FILE_NAME, HISTORY_FILE_NAME

    assert not model.compile_for_training(model.build_unet("tiny")).optimizer.use_ema
    (lightness, ab), held_out = _averaging_data()
    net = _averaged_tiny_net()
    assert net.optimizer.use_ema and net.optimizer.ema_momentum == 0.5
    callbacks = build_callbacks(TrainConfig(preset="tiny", image_size=16), tmp_path, averaged=True)
    assert isinstance(callbacks[0], keras.callbacks.SwapEMAWeights) and callbacks[0].swap_on_epoch
    assert not any(isinstance(callback, keras.callbacks.SwapEMAWeights)
                   for callback in build_callbacks(TrainConfig(), tmp_path / "plain"))
    history = net.fit(lightness, ab, validation_data=held_out, epochs=3, batch_size=2, verbose=0,
                      callbacks=callbacks)
    assert (tmp_path / HISTORY_FILE_NAME).is_file()
    best = model.compile_for_training(model.build_unet("tiny"))
    best.load_weights(tmp_path / CHECKPOINT_FILE_NAME)
    assert best.evaluate(*held_out, verbose=0, return_dict=True)["loss"] == pytest.approx(
        min(history.history["val_loss"]), rel=1e-5)
    # fit ends with the averaged weights in the model: what the last epoch's val_loss scored
    # (without the swap, validation would have scored the last step's weights instead).
    assert net.evaluate(*held_out, verbose=0, return_dict=True)["loss"] == pytest.approx(
        history.history["val_loss"][-1], rel=1e-5)


class _KillAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt   # the process dies here: what BackupAndRestore saved is all that is left


def test_a_killed_averaged_run_resumes_exactly_as_if_never_killed(tmp_path):
    """BackupAndRestore saves the between-epochs state (the average in the model, the
    trained weights in the optimizer). Stock SwapEMAWeights, new after the restart,
    took the average for the trained weights: training went on from the wrong ones."""
    from colorize.training.callbacks import build_callbacks
    from colorize.config import TrainConfig

    data, held_out = _averaging_data()
    config = TrainConfig(preset="tiny", image_size=16)

    def fit(net, run_dir, initial_epoch=0, extra=()):
        run_dir.mkdir(exist_ok=True)
        return net.fit(*data, validation_data=held_out, epochs=4, batch_size=2, verbose=0, shuffle=False,
                       callbacks=[*build_callbacks(config, run_dir, initial_epoch, averaged=True), *extra])

    whole = _averaged_tiny_net()
    whole_losses = fit(whole, tmp_path / "whole").history["val_loss"]
    with pytest.raises(KeyboardInterrupt):
        fit(_averaged_tiny_net(), tmp_path / "killed", extra=[_KillAtEpoch(2)])
    resumed = _averaged_tiny_net()
    resumed_losses = fit(resumed, tmp_path / "killed", initial_epoch=2).history["val_loss"]
    assert resumed_losses == pytest.approx(whole_losses[2:], rel=1e-5)
    for mine, reference in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(mine, reference, atol=1e-6)


def test_an_averaged_run_stopped_early_keeps_the_average_it_scored(tmp_path):
    """Ctrl-C (as train.fit_model orders the callbacks) or early stopping ends fit
    before its last epoch; stock Keras then copied the trained weights over the
    average, so the model kept was not the one validation had scored."""
    from colorize.training.callbacks import StopOnInterrupt, build_callbacks
    from colorize.config import TrainConfig

    data, held_out = _averaging_data()
    stopper = StopOnInterrupt(lambda message: None)

    class CtrlCInSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            stopper.interrupted = epoch == 1

    config = TrainConfig(preset="tiny", image_size=16, save_best=False, early_stopping=True)
    callbacks = build_callbacks(config, tmp_path, averaged=True)
    assert [type(callback) for callback in callbacks].index(keras.callbacks.EarlyStopping) < len(callbacks) - 1
    net = _averaged_tiny_net()
    history = net.fit(*data, validation_data=held_out, epochs=5, batch_size=2, verbose=0, shuffle=False,
                      callbacks=[CtrlCInSecondEpoch(), stopper, *callbacks])
    assert len(history.history["val_loss"]) == 2
    assert net.evaluate(*held_out, verbose=0, return_dict=True)["loss"] == pytest.approx(
        history.history["val_loss"][-1], rel=1e-5)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_model_round_trips_with_and_without_compile(tmp_path, suffix):
    lightness, ab = random_pair(4, 16, 16)
    net = model.compile_for_training(model.build_unet("tiny"))
    net.fit(lightness, ab, epochs=1, batch_size=2, verbose=0)   # moves weights and BatchNorm statistics
    expected = net.predict(lightness, verbose=0)
    path = tmp_path / f"model{suffix}"
    net.save(path)
    for compile_flag in (False, True):
        loaded = keras.models.load_model(path, compile=compile_flag)
        np.testing.assert_allclose(loaded.predict(lightness, verbose=0), expected, atol=1e-6)
    assert isinstance(loaded.loss, keras.losses.MeanAbsoluteError)
    assert np.isfinite(loaded.evaluate(lightness, ab, verbose=0)).all()
