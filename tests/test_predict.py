"""Predict: full-resolution colourising of arrays, files, folders and zips with real tiny models."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize.dataset import color
from colorize.config import PredictConfig
from colorize.constants import DEFAULT_MODEL_PATH
from colorize.errors import OutputError, UsageError
from colorize.inference.colorizer import Colorizer
from colorize.inference.fullres import full_lightness
from colorize.inference.predict import colorize_path
from conftest import colorful_image, run_colorize, save_image
from tiny_models import build_ab_model, build_rgb_model, save_model


def detailed_gray(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Return a uint8 gray image with fine detail (noise over a gradient): blur would show."""
    rng = np.random.default_rng(seed)
    gradient = np.linspace(20, 230, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    return np.clip(gradient + rng.normal(0, 25, (height, width)), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def ab_colorizer() -> Colorizer:
    return Colorizer(build_ab_model(levels=2, ab_gain=0.3))


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {"ab.keras": save_model(build_ab_model(levels=2), folder / "ab.keras"),
            "rgb.h5": save_model(build_rgb_model(size=64), folder / "rgb.h5")}


# --- arrays ---------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(333, 517), (517, 333, 3), (31, 17), (1, 5)])
def test_output_has_the_input_size(ab_colorizer, shape):
    image = detailed_gray(*shape[:2])
    if len(shape) == 3:
        image = np.repeat(image[..., None], 3, axis=2)
    output = ab_colorizer.colorize(image)
    assert output.shape == shape[:2] + (3,) and output.dtype == np.uint8


def test_full_resolution_lightness_is_kept(ab_colorizer):
    image = detailed_gray(333, 517)
    output = ab_colorizer.colorize(image)
    difference = np.abs(color.rgb_to_lab(output)[..., 0] - full_lightness(image))
    # Only uint8 rounding and rare gamut clipping move L; a model-size L would blur the noise (~10 units).
    assert difference.mean() < 0.5 and np.percentile(difference, 99) < 2.0
    assert not np.allclose(output[..., 0], output[..., 2], atol=2)   # it did add colour


def test_rgb_model_at_fixed_size_keeps_full_size_and_lightness(tmp_path):
    colorizer = Colorizer(build_rgb_model(size=64))
    image = detailed_gray(333, 517)
    output = colorizer.colorize(image)
    assert output.shape == (333, 517, 3)
    difference = np.abs(color.rgb_to_lab(output)[..., 0] - full_lightness(image))
    assert np.percentile(difference, 99) < 3.0


def test_saturation_scales_the_colours(ab_colorizer):
    image = detailed_gray(64, 96)
    chroma = {}
    for saturation in (0.0, 1.0, 2.0):
        lab = color.rgb_to_lab(ab_colorizer.colorize(image, saturation=saturation))
        chroma[saturation] = float(np.hypot(lab[..., 1], lab[..., 2]).mean())
    assert chroma[0.0] < 1.0 < chroma[1.0] < chroma[2.0]


def test_batch_equals_one_by_one(ab_colorizer):
    images = [detailed_gray(40, 60, seed=1), detailed_gray(60, 40, seed=2), detailed_gray(40, 60, seed=3)]
    batch = ab_colorizer.colorize_batch(images)
    for image, batched in zip(images, batch):
        assert np.abs(batched.astype(int) - ab_colorizer.colorize(image).astype(int)).max() <= 1


def test_colour_input_uses_its_own_lightness(ab_colorizer):
    colour = colorful_image(50, 30)
    assert np.allclose(full_lightness(colour), color.rgb_to_lab(colour)[..., 0], atol=1e-3)
    gray = detailed_gray(30, 50)
    assert np.allclose(full_lightness(gray), color.rgb_to_lab(np.repeat(gray[..., None], 3, 2))[..., 0], atol=1e-3)


def test_working_size_is_a_multiple_and_never_upsamples():
    colorizer = Colorizer(build_ab_model(levels=3), working_long_side=256)
    assert colorizer.info.size_multiple == 8
    for height, width in [(333, 517), (3000, 4000), (20, 30), (5, 3)]:
        working = colorizer.working_size(height, width)
        assert all(side % 8 == 0 and side >= 8 for side in working)
        assert max(working) <= max(256, 8) and max(working) <= max(max(height, width), 8) + 4


@pytest.mark.parametrize("bad", [np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8), np.float32),
                                 np.zeros((0, 8), np.uint8)])
def test_unusable_arrays_are_refused(ab_colorizer, bad):
    with pytest.raises(UsageError):
        ab_colorizer.colorize(bad)


# --- files, folders, zips -------------------------------------------------------------

EXPECTED_SIZES = {   # output path -> (height, width) of the oriented input
    "odd.png": (333, 517),
    "sub/deep/sixteen.png": (45, 61),
    "sub/rotated.jpg": (64, 40),
    "colour.png": (48, 48),
}
EXPECTED_BAD = {"broken.jpg", "notes.txt"}


def make_photo_tree(folder: Path) -> Path:
    """Write the mixed test folder: odd size, 16-bit gray, EXIF-rotated JPEG, colour, broken, text."""
    save_image(folder / "odd.png", detailed_gray(333, 517))
    sixteen = (detailed_gray(45, 61).astype(np.uint16) * 257)
    save_image(folder / "sub" / "deep" / "sixteen.png", sixteen)
    exif = Image.Exif()
    exif[0x0112] = 6   # orientation: rotate 90 degrees; stored 40 high x 64 wide
    save_image(folder / "sub" / "rotated.jpg", detailed_gray(40, 64), exif=exif, quality=90)
    save_image(folder / "colour.png", colorful_image(48, 48))
    good_jpeg = folder / "sub" / "rotated.jpg"
    (folder / "broken.jpg").write_bytes(good_jpeg.read_bytes()[:300])
    (folder / "notes.txt").write_text("not a photo\n")
    return folder


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Return every file under `folder` with its content hash and modification time."""
    return {str(path.relative_to(folder)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def output_sizes(folder: Path) -> dict[str, tuple[int, int]]:
    sizes = {}
    for path in folder.rglob("*"):
        if path.is_file() and "comparison-grids" not in path.parts:
            with Image.open(path) as image:
                sizes[path.relative_to(folder).as_posix()] = (image.height, image.width)
    return sizes


def test_folder_is_mirrored_at_full_size_and_a_second_run_skips_everything(tmp_path, model_files):
    photos = make_photo_tree(tmp_path / "photos")
    before = snapshot(photos)
    messages: list[str] = []
    config = PredictConfig(model=str(model_files["ab.keras"]), input=str(photos), output=str(tmp_path / "out"))
    first = colorize_path(config, notify=messages.append)
    assert output_sizes(first.output_dir) == EXPECTED_SIZES
    assert {entry.path for entry in first.bad} == EXPECTED_BAD
    assert first.converted_from_colour == ["colour.png"] and any("colour.png" in text for text in messages)
    assert first.grids and all(grid.is_file() for grid in first.grids)
    with Image.open(first.output_dir / "sub" / "rotated.jpg") as written:
        assert written.format == "JPEG"
    outputs = snapshot(first.output_dir)
    second = colorize_path(config)
    assert second.written == [] and sorted(second.skipped_existing) == sorted(
        ["odd.png", "sub/deep/sixteen.png", "sub/rotated.jpg", "colour.png"])
    assert {name: value for name, value in snapshot(first.output_dir).items() if name in outputs} == outputs
    assert snapshot(photos) == before


def test_zip_members_are_mirrored_with_the_rgb_h5_model(tmp_path, model_files):
    photos = make_photo_tree(tmp_path / "photos")
    archive = tmp_path / "album.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(photos.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(photos).as_posix())
    archive_bytes = archive.read_bytes()
    result = colorize_path(PredictConfig(model=str(model_files["rgb.h5"]), input=str(archive),
                                         output=str(tmp_path / "out")))
    assert output_sizes(result.output_dir) == EXPECTED_SIZES
    assert {entry.path for entry in result.bad} == EXPECTED_BAD
    assert archive.read_bytes() == archive_bytes


def test_an_interrupted_run_is_continued_without_rewriting(tmp_path, model_files):
    photos = make_photo_tree(tmp_path / "photos")
    config = dict(model=str(model_files["ab.keras"]), input=str(photos), output=str(tmp_path / "out"))
    partial = colorize_path(PredictConfig(limit=2, **config))
    assert len(partial.written) == 2
    kept = snapshot(partial.output_dir)
    rest = colorize_path(PredictConfig(**config))
    assert len(rest.written) == 2 and len(rest.skipped_existing) == 2
    assert output_sizes(rest.output_dir) == EXPECTED_SIZES
    assert all(snapshot(rest.output_dir)[name] == value for name, value in kept.items())


@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_output_overlapping_the_input_folder_is_refused_and_nothing_is_written(tmp_path, model_files, where):
    photos = make_photo_tree(tmp_path / "photos")
    before = snapshot(photos)
    output = {"same": photos, "inside": photos / "coloured", "around": tmp_path}[where]
    with pytest.raises(OutputError, match="outside"):
        colorize_path(PredictConfig(model=str(model_files["ab.keras"]), input=str(photos), output=str(output)))
    assert snapshot(photos) == before
    assert not (photos / "coloured").exists()


def test_single_file_goes_to_a_new_run_folder_and_not_beside_itself(tmp_path, model_files, output_root):
    photo = save_image(tmp_path / "photos" / "old.jpg", detailed_gray(33, 51), quality=90)
    before = snapshot(photo.parent)
    with pytest.raises(OutputError):
        colorize_path(PredictConfig(model=str(model_files["ab.keras"]), input=str(photo), output=str(photo.parent)))
    result = colorize_path(PredictConfig(model=str(model_files["ab.keras"]), input=str(photo)))
    assert result.output_dir.parent == output_root / "results"
    assert output_sizes(result.output_dir) == {"old.jpg": (33, 51)}
    assert snapshot(photo.parent) == before


def test_predict_cli_end_to_end(tmp_path, model_files):
    photos = make_photo_tree(tmp_path / "photos")
    before = snapshot(photos)
    finished = run_colorize("predict", "--model", str(model_files["ab.keras"]), "--input", str(photos),
                            "--output", str(tmp_path / "out"), "--saturation", "1.5")
    assert finished.returncode == 0, finished.stderr
    assert "Colourised 4 photos" in finished.stdout
    assert "broken.jpg" in finished.stdout and "notes.txt" in finished.stdout
    assert "Comparison grids" in finished.stdout and "images/s" in finished.stderr
    assert "Traceback" not in finished.stdout + finished.stderr
    assert output_sizes(tmp_path / "out") == EXPECTED_SIZES
    assert snapshot(photos) == before


def test_shipped_default_model_loads_and_colourises_a_small_photo(tmp_path):
    """Issue 7: `--model default` works on a fresh checkout with zero downloads."""
    assert DEFAULT_MODEL_PATH.is_file(), "data/models/default.keras must ship with the repo"
    sky_over_sand = np.zeros((48, 72), dtype=np.uint8)
    sky_over_sand[:24], sky_over_sand[24:] = 200, 120
    photo = save_image(tmp_path / "photo.png", sky_over_sand)
    finished = run_colorize("predict", "--model", "default", "--input", str(photo), "--output",
                            str(tmp_path / "out"), cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    result = np.asarray(Image.open(tmp_path / "out" / "photo.png").convert("RGB"))
    assert result.shape == (48, 72, 3)
    chroma = np.abs(result.astype(int) - result.mean(axis=2, keepdims=True)).mean()
    assert chroma > 0.5, "the shipped model should add some colour, not return gray"


def test_shipped_model_saved_as_h5_predicts_what_the_keras_file_predicts(tmp_path):
    """Only default.keras ships (16 MB, its weights float16); `train --h5` users get the same model as .h5."""
    from colorize.models.modelfile import load_model_file
    from colorize.inference.colorizer import Colorizer

    photo = detailed_gray(40, 56)
    load_model_file(DEFAULT_MODEL_PATH).save(tmp_path / "default.h5")
    from_keras = Colorizer.from_path(DEFAULT_MODEL_PATH).colorize(photo)
    from_h5 = Colorizer.from_path(tmp_path / "default.h5").colorize(photo)
    assert np.abs(from_keras.astype(int) - from_h5.astype(int)).max() <= 1


def test_read_only_input_folder_is_colourised_and_left_as_it_was(tmp_path, model_files):
    photos = make_photo_tree(tmp_path / "photos")
    before = snapshot(photos)
    folders = [photos, *[path for path in photos.rglob("*") if path.is_dir()]]
    for folder in folders:
        folder.chmod(0o555)
    try:
        result = colorize_path(PredictConfig(model=str(model_files["ab.keras"]), input=str(photos),
                                             output=str(tmp_path / "out")))
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert output_sizes(result.output_dir) == EXPECTED_SIZES
    assert snapshot(photos) == before
