"""`info`, `--help` and argparse usage errors, through real subprocesses."""

import json

from conftest import run_colorize


def test_info_reports_versions_devices_and_paths(tmp_path):
    result = run_colorize("info", "--json", env={"COLORIZE_OUTPUT": str(tmp_path / "out")})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["libraries"]["tensorflow"] != "not installed"
    assert report["output_dir"] == str(tmp_path / "out")
    assert "COLORIZE_OUTPUT" in report["output_reason"]
    assert_devices_line_names_the_gpus(report)


def assert_devices_line_names_the_gpus(report: dict) -> None:
    """The summary names every GPU the report lists, or says CPU only when it lists none."""
    gpus, summary = report["gpus"], report["devices_summary"]
    if gpus:
        assert summary.startswith(f"{len(gpus)} GPU(s): "), summary
        for gpu in gpus:
            assert gpu["name"] and f"{gpu['name']} ({gpu['memory']})" in summary, (gpu, summary)
    else:
        assert summary == "CPU only (no GPU visible to TensorFlow)", summary


def test_info_says_cpu_only_when_no_gpu_is_visible():
    # the CPU branch runs on a GPU machine too: CUDA_VISIBLE_DEVICES=-1 hides every GPU
    result = run_colorize("info", "--json", env={"CUDA_VISIBLE_DEVICES": "-1"})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["gpus"] == []
    assert_devices_line_names_the_gpus(report)


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
