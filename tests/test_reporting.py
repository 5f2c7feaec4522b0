"""The one reporter of the CLI and the wizard (issue 14): progress bars that start
with the work, scan summaries, lists of unusable files, results; and the default
answers both front ends share."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from colorize.frontends import console, reporting
from colorize import defaults
from colorize.dataset import ScannedFile, scan_dataset, split_dataset
from colorize.inference.predict import PredictResult

from conftest import colorful_image, save_image


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_a_progress_bar_made_before_the_work_counts_its_rate_from_the_first_report():
    stream = Terminal()
    bar = console.ProgressBar("Evaluating", stream=stream)
    time.sleep(1.0)          # training, before the evaluation's first report
    bar(0, 10)
    time.sleep(0.05)
    bar(10, 10)
    rate = float(re.search(r"([0-9.]+) images/s", stream.getvalue().splitlines()[-1]).group(1))
    assert rate > 50, stream.getvalue()    # 10 images in ~0.05 s, not in ~1.05 s (~10/s)


def test_a_delayed_bar_shows_nothing_for_quick_work_and_counts_from_the_first_report(capsys):
    quick = reporting.scan_progress()
    for done in range(4):
        quick(done, 3)
    assert capsys.readouterr().err == ""
    slow = console.ProgressBar("Scanning", unit="files", show_after_s=0.05)
    slow(0, 2)
    time.sleep(0.1)
    slow(2, 2)
    assert "Scanning 2/2" in capsys.readouterr().err


def entry(path: str, status: str, reason: str) -> ScannedFile:
    return ScannedFile(path, path, None, status, reason, 0, 0)


def test_bad_files_are_listed_up_to_a_limit_with_a_count_of_the_rest(capsys):
    bad = [entry(f"notes{index}.txt", "not_image", "not an image (text)") for index in range(25)]
    reporting.list_bad_files(bad)
    out = capsys.readouterr().out
    assert out.count("not an image (text)") == reporting.BAD_FILES_SHOWN
    assert "... and 5 more" in out
    reporting.list_bad_files(bad, limit=None)
    assert capsys.readouterr().out.count("not an image (text)") == 25


def test_scan_summary_and_counts(tmp_path, capsys):
    save_image(tmp_path / "a.png", colorful_image(40, 40))
    save_image(tmp_path / "gray.png", colorful_image(40, 40)[..., 0])
    (tmp_path / "notes.txt").write_text("x")
    reporting.show_scan(scan_dataset(tmp_path))
    out = capsys.readouterr().out
    assert "3 files." in out and "1 image is fine, 1 is grayscale, 1 is not an image." in out


def test_predict_result_names_the_results_the_bad_files_and_the_grids(tmp_path, capsys):
    result = PredictResult(output_dir=tmp_path, written=[tmp_path / "a.png"], skipped_existing=["b.png"],
                           bad=[entry("notes.txt", "not_image", "not an image (text)")],
                           grids=[tmp_path / "comparison-grids" / "grid-1.png"])
    reporting.show_predict_result(result)
    out = capsys.readouterr().out
    assert f"Colourised 1 photo into {tmp_path}" in out
    assert "1 already had a result there" in out
    assert "1 file could not be used and was skipped:" in out and "  notes.txt: not an image (text)" in out
    assert f"Comparison grids: {tmp_path / 'comparison-grids'} (1 page)" in out


# --- the defaults both front ends offer -------------------------------------------------

def test_defaults_follow_the_recipe_of_the_shipped_model():
    from colorize.frontends.cli import build_parser

    assert defaults.default_test_size(298) == 42          # data/models/README.md: --test-size 42
    assert defaults.default_test_size(3) == 1 and defaults.default_test_size(10_000) == 50
    assert defaults.default_test_size(298, train_size=290) == 8
    train = build_parser().parse_args(["train"])
    assert train.epochs == defaults.DEFAULT_EPOCHS == 30 and train.test_size is None
    assert build_parser().parse_args(["predict", "--input", "x"]).batch_size is None


def test_the_cli_without_flags_trains_with_the_default_config_and_split(tmp_path):
    from colorize.frontends.cli import build_parser, train_config_from_args
    from colorize.config import TrainConfig

    train = train_config_from_args(build_parser().parse_args(["train"]))
    assert train == TrainConfig()
    for index in range(15):
        save_image(tmp_path / f"photo{index:02d}.png", colorful_image(40, 40, seed=index))
    split = split_dataset(scan_dataset(tmp_path).ok, train.train_size, train.test_size, train.seed)
    assert (len(split.test), len(split.train) + len(split.validation)) == (2, 13)   # one in seven held out


def test_the_configs_and_their_defaults_load_without_tensorflow():
    import subprocess

    code = ("import sys, colorize.config; colorize.config.TrainConfig(); "
            "colorize.config.PredictConfig(input='x'); "
            "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --- scans before predict and evaluate show their progress --------------------------

@pytest.fixture(scope="module")
def many_tiny_photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("album")
    for index in range(40):
        save_image(folder / f"photo{index:02d}.png", colorful_image(32, 32, seed=index))
    return folder


@pytest.fixture(scope="module")
def tiny_ab_model(tmp_path_factory) -> Path:
    from tiny_models import build_ab_model, save_model

    return save_model(build_ab_model(levels=1), tmp_path_factory.mktemp("models") / "ab.keras")


@pytest.fixture
def scan_bar_at_once(monkeypatch):
    """Show the scan's bar from its first report (it waits SCAN_PROGRESS_DELAY_S on a real run)."""
    monkeypatch.setattr(reporting, "SCAN_PROGRESS_DELAY_S", 0.0)


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_the_cli_shows_the_scan_before_predict_and_evaluate(command, many_tiny_photos, tiny_ab_model, tmp_path,
                                                           capsys, scan_bar_at_once):
    from colorize.frontends.cli import main

    photos_flag = "--input" if command == "predict" else "--data"
    code = main([command, "--model", str(tiny_ab_model), photos_flag, str(many_tiny_photos),
                 "--output", str(tmp_path / "out"), "--limit", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Scanning 40/40 (100%)" in captured.err and "files/s" in captured.err
    assert "Scanning" not in captured.out
    result_line = "Colourised 2 photos into" if command == "predict" else "On 2 photos the model scored:"
    assert result_line in captured.out, captured.out   # the results from the reporter the wizard shares


def test_the_wizard_shows_the_scan_before_predict(many_tiny_photos, tiny_ab_model, output_root, monkeypatch,
                                                 capsys, scan_bar_at_once):
    from colorize.frontends.wizard import run_wizard

    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(
        f"{line}\n" for line in ["2", str(tiny_ab_model), str(many_tiny_photos), "", "", "q"])))
    code = run_wizard()
    captured = capsys.readouterr()
    assert code == 0, captured.err + captured.out
    assert "Scanning 40/40 (100%)" in captured.err
    assert "Colourised 40 photos" in captured.out


def test_predict_takes_one_photo_per_model_call_on_a_cpu(many_tiny_photos, tiny_ab_model, tmp_path):
    """Predict reports its progress after each model call: on a CPU (every GPU hidden, so on any
    machine) after each photo when no batch size is given, and after 5 when 8 are asked for."""
    code = textwrap.dedent("""
        import json, sys
        from colorize.config import PredictConfig
        from colorize.inference.predict import colorize_path

        steps = {}
        for name, batch_size in (("default", None), ("eight", 8)):
            done = steps[name] = []
            config = PredictConfig(models=(sys.argv[1],), input=sys.argv[2], output=f"{sys.argv[3]}/{name}",
                                   limit=5, batch_size=batch_size)
            colorize_path(config, progress=lambda count, total: done.append(count))
        print(json.dumps(steps))
        """)
    process = subprocess.run([sys.executable, "-c", code, str(tiny_ab_model), str(many_tiny_photos), str(tmp_path)],
                             capture_output=True, text=True, env=dict(os.environ, CUDA_VISIBLE_DEVICES="-1"))
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout.splitlines()[-1]) == {"default": [0, 1, 2, 3, 4, 5], "eight": [0, 5]}
