"""`info`, `--help` and argparse usage errors, through real subprocesses."""

import json

from conftest import run_colorize


def test_info_reports_versions_devices_and_paths(tmp_path):
    result = run_colorize("info", "--json", env={"COLORIZE_OUTPUT": str(tmp_path / "out")})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["libraries"]["tensorflow"] != "not installed"
    assert "CPU only" in report["devices_summary"] or report["gpus"]
    assert report["output_dir"] == str(tmp_path / "out")
    assert "COLORIZE_OUTPUT" in report["output_reason"]


def test_info_plain_text_has_no_tensorflow_noise():
    result = run_colorize("info")
    assert result.returncode == 0
    assert "Devices:" in result.stdout
    assert "oneDNN" not in result.stderr


def test_unknown_subcommand_is_usage_error():
    result = run_colorize("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_non_numeric_flag_is_usage_error():
    result = run_colorize("train", "--epochs", "many")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
