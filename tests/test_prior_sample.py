"""The colour prior's photos: a seeded sample of the training photos, each decoded small."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from colorize.dataset.imagefile import decode_rgb, decode_small_rgb
from colorize.models.ab_classes import PRIOR_SAMPLE_PHOTOS
from colorize.training.train import prior_sample
from conftest import colorful_image


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_photo_decodes_small_with_its_colours(tmp_path, suffix):
    path = tmp_path / f"photo{suffix}"
    Image.fromarray(colorful_image(640, 480, seed=1)).save(path, quality=95)
    small = decode_small_rgb(path, 64)
    assert 64 <= min(small.shape[:2]) < 128 and small.shape[2] == 3 and small.dtype == np.uint8
    assert small.shape[1] > small.shape[0]                       # landscape stays landscape
    np.testing.assert_allclose(small.reshape(-1, 3).mean(0), decode_rgb(path).reshape(-1, 3).mean(0), atol=3)


def test_a_photo_smaller_than_the_side_is_decoded_whole(tmp_path):
    path = tmp_path / "small.jpg"
    Image.fromarray(colorful_image(48, 40, seed=2)).save(path)
    assert decode_small_rgb(path, 64).shape == (40, 48, 3)


def test_the_prior_uses_every_photo_up_to_the_cap_then_a_seeded_sample():
    few = [f"photo{index}" for index in range(30)]
    assert prior_sample(few, seed=1) == few
    many = [f"photo{index}" for index in range(PRIOR_SAMPLE_PHOTOS + 500)]
    sample = prior_sample(many, seed=1)
    assert len(set(sample)) == PRIOR_SAMPLE_PHOTOS and set(sample) <= set(many)
    assert sample == prior_sample(many, seed=1) != prior_sample(many, seed=2)
