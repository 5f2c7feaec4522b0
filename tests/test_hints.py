"""Hints (issue 26): each file format read from real files, every bad input refused, simulated hints, propagation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from colorize.dataset import color
from colorize.errors import HintError, UsageError
from colorize.hints import feature_edges, propagation, sources

RED = "#c0302a"


def _ab_of(hex_colour: str) -> np.ndarray:
    rgb = np.array([[[int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
    return color.rgb_to_lab(rgb)[0, 0, 1:]


def _hints_on(shape: tuple[int, int], region, ab) -> sources.Hints:
    """Return hints of a (height, width) photo: the pixels of `region` (np.s_[...]) in colour `ab`."""
    mask, planes = np.zeros(shape, bool), np.zeros(shape + (2,), np.float32)
    mask[region] = True
    planes[mask] = ab
    return sources.Hints.from_planes(mask, planes)


def _gray_photo(height: int = 60, width: int = 100) -> np.ndarray:
    rng = np.random.default_rng(1)
    level = rng.integers(40, 200, (height, width), dtype=np.uint8)
    return np.repeat(level[..., None], 3, axis=-1)


def test_points_json_gives_patches_of_the_colour(tmp_path):
    path = tmp_path / "photo.json"
    path.write_text(json.dumps({"points": [{"x": 10, "y": 20, "color": RED}, {"x": 99, "y": 59, "color": "#2040F0"}]}))
    hints = sources.read_hints(path, _gray_photo())
    assert hints.mask.shape == (60, 100) and hints.ab.shape == (60, 100, 2)
    assert hints.mask[20, 10] and hints.mask[59, 99]
    side = sources.patch_side(60, 100)           # 1% of 100 px: 1 px
    assert side == 1 and hints.count == 2
    np.testing.assert_allclose(hints.ab[20, 10], _ab_of(RED), atol=1e-4)
    np.testing.assert_allclose(hints.ab[59, 99], _ab_of("#2040f0"), atol=1e-4)
    assert not hints.ab[~hints.mask].any()


def test_a_point_covers_one_percent_of_the_long_side(tmp_path):
    path = tmp_path / "photo.json"
    path.write_text(json.dumps({"points": [{"x": 250, "y": 100, "color": RED}]}))
    hints = sources.read_hints(path, _gray_photo(300, 500))
    assert hints.count == 5 * 5 and hints.mask[98:103, 248:253].all()


def test_stroke_layer_png_every_opaque_pixel_is_a_hint(tmp_path):
    layer = np.zeros((60, 100, 4), np.uint8)
    layer[10:14, 20:50] = (192, 48, 42, 255)
    layer[30, 30] = (0, 255, 0, 40)      # nearly transparent: not a stroke
    path = tmp_path / "photo.png"
    Image.fromarray(layer, "RGBA").save(path)
    hints = sources.read_hints(path, _gray_photo())
    assert hints.count == 4 * 30 and hints.mask[10:14, 20:50].all()
    np.testing.assert_allclose(hints.ab[12, 30], _ab_of(RED), atol=1e-3)


def test_painted_colour_copy_of_a_jpeg_photo(tmp_path):
    photo = _gray_photo()
    painted = photo.copy()
    painted[40:50, 10:60] = (40, 160, 60)   # a green stroke on the gray copy
    path = tmp_path / "photo.jpg"
    Image.fromarray(painted).save(path, quality=80)
    hints = sources.read_hints(path, photo)
    near_stroke = np.zeros((60, 100), bool)
    near_stroke[32:58, 2:68] = True     # the stroke and one 8-px JPEG block around it, where its colour bleeds
    # JPEG noise on the gray copy (per-pixel noise, the worst case) stays below the
    # chroma threshold away from the stroke; the stroke's inside is found.
    assert hints.mask[42:48, 12:58].all()
    assert (hints.mask & ~near_stroke).sum() < 0.005 * (~near_stroke).sum()
    assert np.degrees(np.arctan2(hints.ab[45, 30, 1], hints.ab[45, 30, 0])) > 90   # green, not red


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"dots": []}', '"points"'),
    ('{"points": [{"x": 1, "y": 2}]}', '"color"'),
    ('{"points": [{"x": 1, "y": 2, "color": "red"}]}', "#rrggbb"),
    ('{"points": [{"x": 1, "y": 2, "color": "#12345"}]}', "#rrggbb"),
    ('{"points": [{"x": 1.5, "y": 2, "color": "#123456"}]}', "whole pixel"),
    ('{"points": [{"x": 100, "y": 2, "color": "#123456"}]}', "outside the photo"),
    ('{"points": [{"x": 3, "y": -1, "color": "#123456"}]}', "outside the photo"),
])
def test_bad_points_file_is_one_line_and_left_unchanged(tmp_path, content, message):
    path = tmp_path / "photo.json"
    path.write_text(content)
    before = path.read_bytes()
    with pytest.raises(HintError) as caught:
        sources.read_hints(path, _gray_photo())
    text = str(caught.value)
    assert message in text and str(path) in text and "\n" not in text
    assert isinstance(caught.value, UsageError)
    assert path.read_bytes() == before


@pytest.mark.parametrize("make, message", [
    (lambda path: Image.new("RGBA", (99, 60)).save(path), "99x60"),
    (lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n not really"), "Cannot read"),
])
def test_bad_painted_image_is_one_line_and_left_unchanged(tmp_path, make, message):
    path = tmp_path / "photo.png"
    make(path)
    before = path.read_bytes()
    with pytest.raises(HintError) as caught:
        sources.read_hints(path, _gray_photo())
    assert message in str(caught.value) and str(path) in str(caught.value)
    assert path.read_bytes() == before


def test_missing_hint_file(tmp_path):
    with pytest.raises(HintError, match="does not exist"):
        sources.read_hints(tmp_path / "none.json", _gray_photo())


def test_simulated_hints_are_seeded_patch_means():
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (120, 300, 3), dtype=np.uint8)
    first = sources.simulate_hints(rgb, 10, seed=7)
    assert np.array_equal(first.mask, sources.simulate_hints(rgb, 10, seed=7).mask)
    assert not np.array_equal(first.mask, sources.simulate_hints(rgb, 10, seed=8).mask)
    assert sources.simulate_hints(rgb, 0, seed=7).count == 0
    # One point on a photo whose long side is 300: a 3x3 patch holding the mean true ab.
    single = sources.simulate_hints(rgb, 1, seed=5)
    rows, columns = np.nonzero(single.mask)
    assert single.count == 9 and np.ptp(rows) == 2 and np.ptp(columns) == 2
    true_ab = color.rgb_to_lab(rgb)[..., 1:]
    patch = (slice(rows.min(), rows.max() + 1), slice(columns.min(), columns.max() + 1))
    np.testing.assert_allclose(single.ab[rows[0], columns[0]], true_ab[patch].reshape(-1, 2).mean(axis=0), atol=1e-3)


def _box_scene(size: int = 96):
    """L of a flat gray box (L 60) on a different gray (L 35), with a short red stroke inside the box."""
    lightness = np.full((size, size), 35.0, np.float32)
    box = np.zeros((size, size), bool)
    box[24:72, 24:72] = True
    lightness[box] = 60.0
    hints = _hints_on((size, size), np.s_[46:50, 40:56], _ab_of(RED))
    return lightness, box, hints


def test_red_stroke_in_a_gray_box_turns_the_box_red():
    lightness, box, hints = _box_scene()
    ab = propagation.apply_hints(lightness, np.zeros(lightness.shape + (2,), np.float32), hints)
    red = _ab_of(RED)
    close = np.hypot(*np.moveaxis(ab - red, -1, 0)) < 0.5 * np.hypot(*red)
    assert close[box].mean() >= 0.7
    assert close[~box].mean() < 0.2
    np.testing.assert_allclose(ab[hints.mask], np.broadcast_to(red, (hints.count, 2)), atol=1e-3)


def test_hints_at_a_smaller_working_size_keep_their_colour():
    lightness, box, hints = _box_scene(96)
    small = sources.hints_at_size(hints, 48, 48)
    assert small.mask[23:25, 20:28].all() and small.count == 2 * 8
    np.testing.assert_allclose(small.ab[small.mask], np.broadcast_to(_ab_of(RED), (small.count, 2)), atol=1e-3)
    ab = propagation.apply_hints(lightness[::2, ::2], np.zeros((48, 48, 2), np.float32), hints)
    np.testing.assert_allclose(ab[small.mask], np.broadcast_to(_ab_of(RED), (small.count, 2)), atol=1e-3)


def test_shrinking_hints_puts_each_hint_pixel_in_the_pixel_holding_its_centre():
    mask, ab = np.zeros((100, 100), bool), np.zeros((100, 100, 2), np.float32)
    mask[0, 0] = mask[99, 99] = mask[50, 49] = mask[50, 50] = True
    ab[0, 0], ab[99, 99] = (10.0, -10.0), (-30.0, 20.0)
    ab[50, 49], ab[50, 50] = (40.0, 0.0), (20.0, 10.0)
    hints = sources.Hints.from_planes(mask, ab)
    small = sources.hints_at_size(hints, 33, 33)      # 100 px to 33: ratio 3.03, not whole
    assert small.count == 3 and small.mask[0, 0] and small.mask[32, 32] and small.mask[16, 16]
    np.testing.assert_allclose(small.ab[32, 32], (-30.0, 20.0))
    np.testing.assert_allclose(small.ab[16, 16], (30.0, 5.0))   # both middle pixels' centres fall in (16, 16)
    assert not small.ab[~small.mask].any()


def test_small_solve_comes_back_up_with_the_step_of_lightness():
    """The residual solved on a 3x coarser grid stops where the full-size L steps (column 31, inside a
    coarse pixel). Measured: 39.5 up to column 27, 35.5, 31, 26.4 to the edge, then 0.3 and less; a
    bilinear resize of the coarse solve (no guide) gives 10.4, 7.3, 4.4, 2.8 past the edge."""
    lightness = np.full((48, 64), 30.0, np.float32)
    lightness[:, 31:] = 70.0
    hints = _hints_on((48, 64), np.s_[20:23, 10:13], (40.0, 0.0))
    ab = propagation.apply_hints(lightness, np.zeros((48, 64, 2), np.float32), hints, scale=3)
    assert (ab[:, :27, 0] > 38.0).all() and (ab[:, :31, 0] > 20.0).all()   # the hint's side takes its colour
    assert (ab[..., 0] <= 40.0 + 1e-3).all()                              # and no more
    assert (np.abs(ab[:, 31:, 0]) < 1.0).all()                            # none past the edge


def test_a_hint_beside_an_edge_stays_on_its_side():
    """A hint whose pixels share a coarse pixel with the other side of an edge (columns 30-32 make one,
    its centre, 31, is past the step) must not colour that side."""
    lightness = np.full((48, 64), 30.0, np.float32)
    lightness[:, 31:] = 70.0
    hints = _hints_on((48, 64), np.s_[20:23, 28:31], (40.0, 0.0))
    ab = propagation.apply_hints(lightness, np.zeros((48, 64, 2), np.float32), hints, scale=3)
    assert (ab[:, :27, 0] > 30.0).all()
    assert (np.abs(ab[:, 32:, 0]) < 2.0).all()


def test_no_hints_leave_the_model_colour_alone():
    lightness, _, _ = _box_scene()
    model_ab = np.full(lightness.shape + (2,), 7.0, np.float32)
    assert np.array_equal(propagation.apply_hints(lightness, model_ab, sources.no_hints(96, 96)), model_ab)


def test_network_view_carries_a_hint_across_texture_and_not_into_the_background():
    """A striped box (L 40/70 every 2 px) that a feature map sees as one thing: the plain small solve
    stops at every stripe; with the network's view (KNN edges, feature_edges.FEATURE_EDGES) the hint
    fills the box and the flat background, another thing in that view, stays the model's colour."""
    size = 96
    box = np.zeros((size, size), bool)
    box[24:72, 24:72] = True
    stripes = np.where((np.arange(size) // 2) % 2 == 0, 40.0, 70.0)[None, :]
    lightness = np.where(box, np.broadcast_to(stripes, (size, size)), 55.0).astype(np.float32)
    features = np.zeros((size // 4, size // 4, 6), np.float32)
    features[..., 0] = 1.0
    features[6:18, 6:18] = (0.0, 1.0, 0.0, 0.0, 0.0, 0.0)   # the box, at the feature map's stride 4
    features += 0.05 * np.random.default_rng(0).standard_normal(features.shape).astype(np.float32)
    red = np.array([50.0, 40.0], np.float32)
    hints = _hints_on((size, size), np.s_[46:49, 46:49], red)
    model_ab = np.zeros((size, size, 2), np.float32)

    def reddened(ab):
        return np.hypot(*np.moveaxis(ab - red, -1, 0)) < 32.0

    plain = reddened(propagation.apply_hints(lightness, model_ab, hints))
    steered = reddened(feature_edges.apply_feature_hints(lightness, model_ab, hints, features))
    assert plain[box].mean() < 0.5
    assert steered[box].mean() >= 0.8
    assert steered[~box].mean() <= 0.02


def test_feature_solve_without_feature_edges_is_the_plain_small_solve():
    lightness, _, _ = _box_scene()
    hints = _hints_on(lightness.shape, np.s_[40:43, 40:43], (30.0, -20.0))
    plain = propagation.spread_coarse(lightness, hints, 1e-5, 3)
    same = feature_edges.spread_with_features(lightness, hints, np.zeros((4, 4, 3), np.float32), 1e-5, 3,
                                              feature_sigma=0.0, l_sigma=0.2, knn=0, knn_weight=0.0, spatial=1.0)
    np.testing.assert_allclose(same, plain, atol=1e-4)
