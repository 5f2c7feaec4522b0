"""Pseudo-labels for self-training (issue 16): real tiny teachers saved to disk, real photos, real PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import colorful_image, save_image
from tiny_models import build_ab_model, build_rgb_model, keras_module, save_model

from colorize.dataset import color
from colorize.training import pseudolabel
from colorize.dataset import scan_dataset
from colorize.errors import ModelError

SHORT_SIDE = 32
CLASS_CENTRES = np.array([[0, 0], [40, 40], [-40, 40], [40, -40]], np.float32)
PEAKED_LOGIT = 8.0   # logit of class 0 per unit of normalised L; mid gray (L 50) is 0: all logits equal


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A colour photo (landscape), a gray one (portrait) and a half mid-gray, half light one."""
    folder = tmp_path_factory.mktemp("unlabeled")
    save_image(folder / "a colour photo.png", colorful_image(60, 40, seed=1))
    gray = colorful_image(30, 50, seed=2)[..., 0]
    save_image(folder / "b-gray.jpg", gray, quality=95)
    halves = np.full((40, 40), 119, np.uint8)   # sRGB 119 is L 50
    halves[:, 20:] = 226                        # L 90
    save_image(folder / "c-halves.png", halves)
    scan = scan_dataset(folder, min_side=16)
    assert [entry.status for entry in scan.files] == ["ok", "grayscale", "grayscale"]
    return list(scan.files)


@pytest.fixture(scope="module")
def regression_teacher(tmp_path_factory) -> Path:
    return save_model(build_ab_model(levels=2, ab_gain=0.3), tmp_path_factory.mktemp("teacher") / "reg.keras")


def build_class_head_teacher():
    """Return a tiny class-head model whose logits are flat at L 50 and peaked where L is light."""
    keras = keras_module()
    from colorize.models import ab_classes

    inputs = keras.Input((None, None, 1), name="gray_l")
    pooled = keras.layers.AveragePooling2D(2, name="head_pool")(inputs)
    logits_layer = keras.layers.Conv2D(len(CLASS_CENTRES), 1, name=ab_classes.LOGITS_LAYER)
    logits = logits_layer(pooled)
    kernel = np.zeros((1, 1, 1, len(CLASS_CENTRES)), np.float32)
    kernel[..., 0] = PEAKED_LOGIT
    logits_layer.set_weights([kernel, np.zeros(len(CLASS_CENTRES), np.float32)])
    return ab_classes.append_annealed_mean(keras.Model(inputs, logits), CLASS_CENTRES, 1.0, 2)


def read_label(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return the RGB and the confidence (0..1) of a pseudo-label file."""
    with Image.open(path) as image:
        assert image.mode == "RGBA"
        rgba = np.asarray(image)
    return rgba[..., :3], rgba[..., 3] / 255.0


def test_labels_are_rgba_at_the_work_size_with_the_photos_own_lightness(photos, regression_teacher, tmp_path):
    done = []
    paths = pseudolabel.label_photos(str(regression_teacher), photos, tmp_path / "labels", SHORT_SIDE,
                                     progress=lambda count, total: done.append((count, total)))
    assert [path.name for path in paths] == ["00000-a-colour-photo.png", "00001-b-gray.png", "00002-c-halves.png"]
    assert done[-1] == (3, 3)
    # size multiple 4: 60x40 -> short side 32, long 48; 30x50 (scaled up) -> 32, 53.3 -> 52
    expected_sizes = [(48, 32), (32, 52), (32, 32)]
    for path, photo, size in zip(paths, photos, expected_sizes):
        rgb, confidence = read_label(path)
        assert Image.open(path).size == size
        assert 0.0 <= confidence.min() and confidence.max() <= 1.0
        from colorize.dataset import load_rgb
        from colorize.inference.fullres import full_lightness, resize_plane

        photo_l = resize_plane(full_lightness(load_rgb(photo)), size[1], size[0])
        label_l = color.rgb_to_lab(rgb)[..., 0]
        assert np.abs(label_l - photo_l).mean() < 1.0      # the teacher changes colour, not light


def test_a_regression_teacher_is_sure_where_it_agrees_with_its_mirror(regression_teacher):
    teacher = pseudolabel.check_teacher(str(regression_teacher))
    assert not teacher.class_head
    runner = pseudolabel.TeacherRunner(teacher)
    symmetric = np.full((32, 32), 60.0, np.float32)        # its own mirror: only the zero-padded borders differ
    confidence = pseudolabel.label_lightness(runner, symmetric).confidence
    assert confidence[4:-4, 4:-4].min() > 0.999
    ab = np.zeros((2, 3, 2), np.float32)
    shifted = ab.copy()
    shifted[:, 0, 0] = pseudolabel.FLIP_AGREEMENT_SCALE        # mirrored back, column 0 lands on column 2
    agreement = pseudolabel.flip_agreement(ab, shifted)
    np.testing.assert_allclose(agreement[:, :2], 1.0)
    np.testing.assert_allclose(agreement[:, 2], np.exp(-1.0), rtol=1e-6)


def test_a_class_head_teacher_is_less_sure_where_its_logits_are_flat(photos, tmp_path):
    path = save_model(build_class_head_teacher(), tmp_path / "classes.keras")
    teacher = pseudolabel.check_teacher(str(path))
    assert teacher.class_head and teacher.temperature == pytest.approx(1.0)
    [label] = pseudolabel.label_photos(teacher, [photos[2]], tmp_path / "labels", SHORT_SIDE)
    _, confidence = read_label(label)
    flat, peaked = confidence[:, :12], confidence[:, 20:]   # away from the border the upsampling blurs
    assert flat.max() < 0.1 < 0.9 < peaked.min()


def test_a_second_run_keeps_the_files_of_the_first(photos, regression_teacher, tmp_path):
    folder = tmp_path / "labels"
    first = pseudolabel.label_photos(str(regression_teacher), photos, folder, SHORT_SIDE)
    times = [path.stat().st_mtime_ns for path in first]
    first[1].unlink()                                    # as a run killed before its second photo
    second = pseudolabel.label_photos(str(regression_teacher), photos, folder, SHORT_SIDE)
    assert second == first
    assert [path.stat().st_mtime_ns for path in second][::2] == times[::2]
    assert not list(folder.glob(".partial-*"))


def test_a_photo_that_cannot_be_read_is_told_and_left_out(photos, regression_teacher, tmp_path):
    broken_folder = tmp_path / "broken"
    save_image(broken_folder / "photo.png", colorful_image(40, 40))
    [entry] = scan_dataset(broken_folder, min_side=16).ok
    (broken_folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n broken now")
    told = []
    paths = pseudolabel.label_photos(str(regression_teacher), [entry, photos[0]], tmp_path / "labels",
                                     SHORT_SIDE, notify=told.append)
    assert [path.name for path in paths] == ["00001-a-colour-photo.png"]
    assert len(told) == 1 and "photo.png" in told[0]


def test_work_size_keeps_a_fixed_input_size_and_rounds_to_the_multiple():
    from colorize.models.modelfile import ModelInfo

    assert pseudolabel.work_size(400, 300, 256, ModelInfo("ab", (64, 64), 1)) == (64, 64)
    assert pseudolabel.work_size(300, 400, 256, ModelInfo("ab", None, 32)) == (256, 352)   # 341.3 -> 352
    assert pseudolabel.work_size(10, 20, 256, ModelInfo("ab", None, 8)) == (256, 512)


def one_line_error(path: str) -> str:
    with pytest.raises(ModelError) as caught:
        pseudolabel.check_teacher(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_check_teacher_refuses_what_cannot_teach_colour_in_one_line(tmp_path):
    assert "not found" in one_line_error(str(tmp_path / "missing.keras"))
    text = tmp_path / "notes.keras"
    text.write_text("not a model\n")
    assert "not a usable model" in one_line_error(str(text))
    rgb = save_model(build_rgb_model(16), tmp_path / "rgb.keras")
    assert "RGB colouriser" in one_line_error(str(rgb))
    weights = tmp_path / "model.weights.h5"
    build_ab_model().save_weights(weights)
    assert "weights only" in one_line_error(str(weights))
