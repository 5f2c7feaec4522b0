"""Each epoch validates on a fixed seeded sample of the validation split; the whole split is
scored once after training and reported (console, summary.txt, metrics.json).

Real tiny runs with the sample cut to 2 photos (the setting is 300; a tiny set never
reaches it) and the loader spied on: the epochs' validation data must be built from the
sample's files and the final score from all of them, under `fit` and under the
multi-worker loop (a cluster of one worker, in its own process).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from colorize.dataset.split import validation_sample
from conftest import REPO_ROOT, colorful_image, save_image

SAMPLE = 2
PHOTOS = 20   # 2 to test, 18 left: 4 to validate, 14 to train


def make_photos(folder: Path) -> Path:
    for index in range(PHOTOS):
        save_image(folder / f"img{index:02d}.png", colorful_image(32, 32, seed=index))
    return folder


def test_the_sample_is_all_photos_up_to_the_setting_then_a_fixed_seeded_subset():
    from colorize.constants import VALIDATION_SAMPLE_PHOTOS

    few = tuple(f"photo{index}" for index in range(VALIDATION_SAMPLE_PHOTOS))
    assert validation_sample(few, seed=1) == few
    many = tuple(f"photo{index:05d}" for index in range(VALIDATION_SAMPLE_PHOTOS * 10))
    sample = validation_sample(many, seed=1)
    assert len(set(sample)) == VALIDATION_SAMPLE_PHOTOS and set(sample) <= set(many)
    assert list(sample) == sorted(sample)            # split order, not the draw's
    assert sample == validation_sample(many, seed=1) != validation_sample(many, seed=2)


def test_fit_validates_each_epoch_on_the_sample_and_scores_the_whole_split_once(tmp_path, monkeypatch):
    from colorize.config import TrainConfig
    from colorize.dataset import loader, split as split_module
    from colorize.training.train import train_model

    monkeypatch.setattr(split_module, "VALIDATION_SAMPLE_PHOTOS", SAMPLE)
    built = []
    real_make_dataset = loader.make_dataset

    def spy(files, *args, **kwargs):
        built.append((tuple(entry.path for entry in files), kwargs.get("training"), kwargs.get("repeat", False)))
        return real_make_dataset(files, *args, **kwargs)

    monkeypatch.setattr(loader, "make_dataset", spy)
    messages = []
    config = TrainConfig(data=str(make_photos(tmp_path / "photos")), preset="tiny", image_size=32, batch_size=2,
                         epochs=2, test_size=2, output=str(tmp_path / "OUTPUT"), run_name="run", strategy="one")
    result = train_model(config, notify=messages.append)

    from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset

    split = split_dataset(scan_dataset(resolve_dataset_path(config.data)).ok, None, 2, config.seed)
    whole = tuple(entry.path for entry in split.validation)
    sample = tuple(entry.path for entry in validation_sample(split.validation, config.seed))
    assert len(whole) == 4 and len(sample) == SAMPLE and set(sample) < set(whole)
    validations = [files for files, training, repeat in built
                   if training is False and not repeat and set(files) <= set(whole)]   # not the test split's
    # fit's validation data (both epochs) is the sample; then the whole split, once
    assert validations == [sample, whole], validations
    assert result.validation["photos"] == 4 and result.validation["epoch_sample"] == SAMPLE
    assert result.validation["val_loss"] > 0
    assert any(f"each validated on a fixed sample of {SAMPLE} of the 4 validation photos" in line
               for line in messages), messages
    assert f"Validation loss on all 4 validation photos: {result.validation['val_loss']:.4f}" in "\n".join(messages)
    summary = (result.run_dir / "summary.txt").read_text()
    assert (f"Whole validation split (4 photos): val_loss {result.validation['val_loss']:.4f} "
            f"(each epoch validated on a fixed sample of {SAMPLE})") in summary
    recorded = json.loads((result.run_dir / "metrics.json").read_text())["validation"]
    assert recorded["photos"] == 4 and recorded["val_loss"] == pytest.approx(result.validation["val_loss"])


DRIVER = """
    import json, sys
    from colorize.dataset import loader, split as split_module
    split_module.VALIDATION_SAMPLE_PHOTOS = {sample}
    real = loader.make_dataset
    def spy(files, *args, **kwargs):
        if kwargs.get("training") is False:
            with open({log!r}, "a") as log:
                log.write(json.dumps(sorted(entry.path for entry in files)) + "\\n")
        return real(files, *args, **kwargs)
    loader.make_dataset = spy
    from colorize.frontends.cli import main
    sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_the_multiworker_loop_validates_on_the_sample_too(tmp_path, monkeypatch):
    from colorize.dataset import split as split_module
    from test_multiworker_bookkeeping import single_worker_tf_config

    monkeypatch.setattr(split_module, "VALIDATION_SAMPLE_PHOTOS", SAMPLE)

    data, log = make_photos(tmp_path / "photos"), tmp_path / "validation-files.jsonl"
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(DRIVER.format(sample=SAMPLE, log=str(log))))
    process = subprocess.run(
        [sys.executable, str(driver), "train", "--data", str(data), "--preset", "tiny", "--image-size", "32",
         "--batch-size", "2", "--epochs", "2", "--test-size", "2", "--output", str(tmp_path / "OUTPUT"),
         "--run-name", "run", "--strategy", "multiworker"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=600,
        env={**__import__("os").environ, "TF_CONFIG": single_worker_tf_config(), "NO_COLOR": "1"})
    assert process.returncode == 0, process.stdout + process.stderr
    from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset

    split = split_dataset(scan_dataset(resolve_dataset_path(str(data))).ok, None, 2, 42)
    whole = sorted(entry.path for entry in split.validation)
    sample = sorted(entry.path for entry in validation_sample(split.validation, 42))
    built = [files for files in map(json.loads, log.read_text().splitlines()) if set(files) <= set(whole)]
    # the loop's validation data is the 2-photo sample however often the strategy builds it; the
    # last, after training, is all 4
    assert len(built) >= 2 and all(files == sample for files in built[:-1]) and built[-1] == whole, built
    assert "Validation loss on all 4 validation photos" in process.stdout


def test_the_time_estimate_counts_the_sample_each_epoch_and_the_whole_split_once(tmp_path, monkeypatch):
    from colorize.config import TrainConfig
    from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset, split as split_module
    from colorize.dataset.loader import training_steps_per_epoch
    from colorize.training.train import estimate_training_time

    monkeypatch.setattr(split_module, "VALIDATION_SAMPLE_PHOTOS", SAMPLE)
    config = TrainConfig(data=str(make_photos(tmp_path / "photos")), preset="tiny", image_size=32, batch_size=2,
                         epochs=3, test_size=2, strategy="one")
    split = split_dataset(scan_dataset(resolve_dataset_path(config.data)).ok, None, 2, config.seed)
    estimate = estimate_training_time(config, split)
    trained = estimate.seconds_per_image * training_steps_per_epoch(config, split) * config.batch_size
    validation_per_epoch = estimate.seconds_per_epoch - trained
    # per image, the sample (2) each epoch and all 4 validation photos once
    assert estimate.seconds_final_validation == pytest.approx(validation_per_epoch * 4 / SAMPLE)
    assert estimate.seconds_total == pytest.approx(estimate.seconds_startup + 3 * estimate.seconds_per_epoch
                                                   + estimate.seconds_final_validation)
    assert estimate.for_epochs(1).seconds_total == pytest.approx(
        estimate.seconds_startup + estimate.seconds_per_epoch + estimate.seconds_final_validation)
