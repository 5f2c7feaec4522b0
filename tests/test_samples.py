"""The shipped black-and-white samples (issue 14): gray copies of photos the
shipped model never trained on, with their licences, offered as `default` by
`predict --input` and by the wizard's colourise path."""

from __future__ import annotations

import csv

import pytest
from PIL import Image

from colorize import defaults
from colorize.constants import DEFAULT_DATASET_DIR
from colorize.errors import DatasetError
from conftest import run_colorize

SAMPLES = defaults.SAMPLES_DIR.parent


def manifest_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as manifest:
        return list(csv.DictReader(manifest))


def test_five_to_eight_gray_jpegs_at_most_800_px():
    photos = sorted(defaults.SAMPLES_DIR.iterdir())
    assert 5 <= len(photos) <= 8
    for photo in photos:
        with Image.open(photo) as image:
            assert (image.format, image.mode) == ("JPEG", "L"), photo
            assert max(image.size) <= 800, photo


def test_every_sample_was_held_out_of_the_shipped_models_training_and_keeps_its_licence():
    from colorize.dataset import scan_dataset, split_dataset

    # data/models/README.md: the shipped model's command held out --test-size 42 --seed 42.
    held_out = {entry.path for entry in split_dataset(scan_dataset(DEFAULT_DATASET_DIR).ok, None, 42, 42).test}
    sources = {row["file"]: row for row in manifest_rows(DEFAULT_DATASET_DIR / "MANIFEST.csv")}
    rows = manifest_rows(SAMPLES / "MANIFEST.csv")
    assert sorted(row["file"] for row in rows) == sorted(f"photos/{path.name}"
                                                          for path in defaults.SAMPLES_DIR.iterdir())
    licences = (SAMPLES / "LICENSES.md").read_text(encoding="utf-8")
    for row in rows:
        source = row["made_from"].removeprefix("data/default/")
        assert source in held_out, row
        for key in ("license", "attribution", "original_path", "source_package"):
            assert row[key] == sources[source][key], (row, key)
        assert f"| {row['file'].removeprefix('photos/')} | {source} | {row['license']} |" in licences


def test_the_samples_are_gray_to_the_scanner():
    from colorize.dataset import scan_dataset

    scan = scan_dataset(defaults.SAMPLES_DIR)
    assert {entry.status for entry in scan.files} == {"grayscale"} and not scan.skipped


def test_default_names_the_samples_and_a_missing_folder_says_how_to_get_it(monkeypatch, tmp_path):
    assert defaults.resolve_photos_to_colourise("default") == str(defaults.SAMPLES_DIR)
    assert defaults.resolve_photos_to_colourise("album") == "album"
    monkeypatch.setattr(defaults, "SAMPLES_DIR", tmp_path / "absent")
    with pytest.raises(DatasetError, match="pip install -e"):
        defaults.resolve_photos_to_colourise("default")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tiny_models import build_ab_model, save_model

    return save_model(build_ab_model(levels=1), tmp_path_factory.mktemp("model") / "tiny.keras")


def test_predict_input_default_colourises_the_samples(tmp_path, tiny_model):
    result = run_colorize("predict", "--model", str(tiny_model), "--input", "default",
                          "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    count = len(list(defaults.SAMPLES_DIR.iterdir()))
    assert f"Colourised {count} photos" in result.stdout and "could not be used" not in result.stdout
    assert sorted(path.name for path in (tmp_path / "out").glob("*.jpg")) == \
        sorted(path.name for path in defaults.SAMPLES_DIR.iterdir())


def test_the_wizard_offers_the_samples_as_default(tmp_path, tiny_model):
    stdin = "".join(f"{line}\n" for line in ["2", str(tiny_model), "", "", "", "q"])
    result = run_colorize(stdin=stdin, env={"COLORIZE_OUTPUT": str(tmp_path / "OUTPUT")})
    assert result.returncode == 0, result.stderr
    assert "'default' for the shipped black-and-white samples) [default]" in result.stdout
    assert f"Colourised {len(list(defaults.SAMPLES_DIR.iterdir()))} photos" in result.stdout
