"""The streaming loader: shapes, ranges, determinism, seeds, Lab agreement, and
that nothing is read before the dataset is iterated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize.dataset import color, loader
from colorize.constants import AB_SCALE
from colorize.dataset import scan_dataset
from colorize.errors import DatasetError
from conftest import colorful_image, save_image


def scanned(folder: Path):
    return scan_dataset(folder).ok


def all_batches(dataset) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(lightness.numpy(), ab.numpy()) for lightness, ab in dataset]
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


def crop_signatures(ab: np.ndarray) -> np.ndarray:
    """Per-crop fingerprints, sorted: the same crops whatever their order."""
    return np.sort(ab.reshape(len(ab), -1).sum(axis=1))


def test_batches_have_model_shapes_and_ranges(color_folder):
    dataset = loader.make_dataset(scanned(color_folder), 16, 5, training=True, seed=1, noise=0.1)
    shapes = [(lightness.shape, ab.shape) for lightness, ab in dataset]
    assert [s[0] for s in shapes] == [(5, 16, 16, 1), (5, 16, 16, 1), (2, 16, 16, 1)]
    assert shapes[0][1] == (5, 16, 16, 2)
    lightness, ab = all_batches(dataset)
    assert lightness.dtype == np.float32 and ab.dtype == np.float32
    assert -1.0 <= lightness.min() and lightness.max() <= 1.0
    assert np.abs(ab).max() <= 128 / 110 and np.abs(ab).max() > 0.2


def test_evaluation_batches_are_deterministic(color_folder):
    dataset = loader.make_dataset(scanned(color_folder), 16, 4, training=False)
    first, second = all_batches(dataset), all_batches(dataset)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_training_crops_follow_the_seed(color_folder):
    files = scanned(color_folder)
    crops = {seed: crop_signatures(all_batches(loader.make_dataset(files, 16, 4, training=True, seed=seed))[1])
             for seed in (1, 1, 2)}
    again = crop_signatures(all_batches(loader.make_dataset(files, 16, 4, training=True, seed=1))[1])
    np.testing.assert_allclose(crops[1], again, rtol=1e-5)
    assert not np.allclose(crops[1], crops[2], rtol=1e-3)


def parallel_map_order(dataset) -> list[str]:
    """Return the `deterministic` setting of each parallel map in a tf.data pipeline's graph."""
    import tensorflow as tf

    graph = tf.compat.v1.GraphDef.FromString(
        tf.raw_ops.DatasetToGraphV2(input_dataset=dataset._variant_tensor).numpy())
    nodes = list(graph.node) + [node for function in graph.library.function for node in function.node_def]
    return [node.attr["deterministic"].s.decode() for node in nodes if node.op.startswith("ParallelMapDataset")]


def test_training_pipelines_hand_on_crops_in_stream_order(color_folder, tmp_path):
    """The module's promise, the same seed giving the same batches in the same order, needs every
    parallel map to keep stream order. (Comparing two runs' batches could not catch it: on these
    small folders tf.data never let a finished decode overtake one in either setting.)"""
    files = scanned(color_folder)
    label = save_image(tmp_path / "label.png", np.zeros((20, 20, 4), np.uint8))
    pipelines = [loader.make_dataset(files, 16, 4, training=True, seed=1, noise=0.1, repeat=True),
                 loader.make_student_dataset(files, [label], 16, 4, unlabeled_share=0.5, seed=1)]
    for pipeline in pipelines:
        order = parallel_map_order(pipeline)
        assert len(order) >= 2 and set(order) == {"true"}, order


def test_lab_pair_matches_numpy_conversion_of_a_known_image(tmp_path):
    image = colorful_image(32, 32, seed=7)
    save_image(tmp_path / "known.png", image)
    lightness, ab = all_batches(loader.make_dataset(scanned(tmp_path), 32, 1, training=False))
    lab = color.rgb_to_lab(image)
    np.testing.assert_allclose(lightness[0, ..., 0], color.normalize_l(lab[..., 0]), atol=2e-3)
    np.testing.assert_allclose(ab[0], lab[..., 1:] / AB_SCALE, atol=2e-3)


def test_larger_and_smaller_photos_are_resized_to_the_crop(tmp_path):
    save_image(tmp_path / "wide.png", colorful_image(200, 60, seed=1))
    save_image(tmp_path / "small.png", colorful_image(40, 34, seed=2))
    for training in (False, True):
        lightness, ab = all_batches(loader.make_dataset(scanned(tmp_path), 48, 2, training=training))
        assert lightness.shape == (2, 48, 48, 1) and ab.shape == (2, 48, 48, 2)


def test_nothing_is_read_until_iterated(tmp_path):
    folder = tmp_path / "photos"
    for index in range(12):
        save_image(folder / f"p{index:02d}.png", np.full((32, 32, 3), (200, 30, 30), np.uint8))
    dataset = loader.make_dataset(scanned(folder), 32, 4, training=False)
    for index in range(12):  # repaint every photo green after the dataset exists
        save_image(folder / f"p{index:02d}.png", np.full((32, 32, 3), (30, 200, 30), np.uint8))
    _, ab = all_batches(dataset)
    assert ab.shape[0] == 12
    assert (ab[..., 0] < -0.3).all()   # green (negative a), not the red it held at creation


def test_a_file_gone_before_reading_is_named_in_the_error(tmp_path):
    save_image(tmp_path / "here.png", colorful_image(32, 32))
    save_image(tmp_path / "gone.png", colorful_image(32, 32, seed=3))
    dataset = loader.make_dataset(scanned(tmp_path), 32, 2, training=False)
    (tmp_path / "gone.png").unlink()
    with pytest.raises(Exception, match="gone.png"):
        all_batches(dataset)


def test_grayscale_saved_as_rgb_decodes_with_no_colour(tmp_path):
    gray = np.repeat(np.linspace(0, 255, 32 * 32).reshape(32, 32, 1).astype(np.uint8), 3, axis=2)
    Image.fromarray(gray).save(tmp_path / "gray_rgb.png")
    save_image(tmp_path / "colour.png", colorful_image(32, 32))
    entries = scan_dataset(tmp_path).predictable
    lightness, ab = all_batches(loader.make_dataset(entries, 32, 2, training=False))
    gray_index = [entry.path for entry in entries].index("gray_rgb.png")
    assert np.abs(ab[gray_index]).max() < 0.01
    assert lightness[gray_index].max() - lightness[gray_index].min() > 1.5


def test_repeat_keeps_going_and_noise_changes_only_lightness(tmp_path):
    save_image(tmp_path / "one.png", colorful_image(32, 32))
    files = scanned(tmp_path)
    batches = list(loader.make_dataset(files, 32, 1, training=True, repeat=True).take(3))
    assert len(batches) == 3
    clean = all_batches(loader.make_dataset(files, 32, 1, training=True, seed=5))
    noisy = all_batches(loader.make_dataset(files, 32, 1, training=True, seed=5, noise=0.1))
    np.testing.assert_array_equal(clean[1], noisy[1])
    assert 0.05 < np.std(noisy[0] - clean[0]) < 0.15


def test_empty_file_list_is_a_dataset_error():
    with pytest.raises(DatasetError):
        loader.make_dataset([], 32, 4, training=True)


def test_a_jpeg_square_decoded_small_matches_the_full_decode_and_keeps_the_exif_turn(tmp_path):
    from PIL import Image

    from colorize.dataset.imagefile import decode_rgb, decode_rgb_square

    photo = colorful_image(640, 480, seed=3)
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo).save(path, quality=95)
    # the centre square (480 px) for a 128 px crop: decoded at half size, then resized
    square = decode_rgb_square(path, lambda width, height: ((width - 480) // 2, 0, 480), 128)
    full = decode_rgb(path)[:, 80:560].astype(np.float32)
    reference = np.asarray(Image.fromarray(full.astype(np.uint8)).resize((128, 128), Image.Resampling.BILINEAR))
    assert square.shape == (128, 128, 3) and square.dtype == np.uint8
    assert np.abs(square.astype(np.float32) - reference).mean() < 2.0
    # EXIF orientation 6 (a quarter turn): the square is placed in the turned photo, as decode_rgb turns it
    turned = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(photo).save(turned, quality=95, exif=exif)
    sizes = []
    corner = decode_rgb_square(turned, lambda width, height: sizes.append((width, height)) or (0, 0, 256), 64)
    upright = decode_rgb(turned)
    assert sizes == [(480, 640)] and upright.shape == (640, 480, 3)
    reference = np.asarray(Image.fromarray(upright[:256, :256]).resize((64, 64), Image.Resampling.BILINEAR))
    assert np.abs(corner.astype(np.float32) - reference).mean() < 3.0
