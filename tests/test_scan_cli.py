"""`python -m colorize scan` through real subprocesses: summary, --print-bad,
the --json contract, exit codes, and that the scanned folder is left alone."""

import json
import zipfile

from conftest import colorful_image, run_colorize, save_image


def make_mixed_folder(folder):
    save_image(folder / "colour1.png", colorful_image(48, 48, seed=1))
    save_image(folder / "colour2.jpg", colorful_image(48, 48, seed=2))
    save_image(folder / "gray.png", colorful_image(48, 48)[..., 0])
    save_image(folder / "tiny.png", colorful_image(8, 8))
    (folder / "notes.jpg").write_text("not a photo")
    (folder / ".DS_Store").write_bytes(b"junk")
    return folder


def assert_one_red_line(result):
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr


def test_scan_default_json_reports_the_shipped_photos():
    result = run_colorize("scan", "default", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)   # the whole of stdout is one JSON object
    assert report["ok"] == 298
    assert report["total"] == 300 and report["not_image"] == 2   # MANIFEST.csv, LICENSES.md
    assert {item["path"] for item in report["bad"]} == {"MANIFEST.csv", "LICENSES.md"}


def test_scan_json_contract_on_a_mixed_folder(tmp_path):
    folder = make_mixed_folder(tmp_path / "mixed")
    result = run_colorize("scan", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {key: report[key] for key in ("total", "ok", "not_image", "unreadable", "grayscale",
                                         "too_small", "skipped")} == {
        "total": 5, "ok": 2, "not_image": 1, "unreadable": 0, "grayscale": 1, "too_small": 1, "skipped": 1}
    assert report["bad"] == [
        {"path": "gray.png", "status": "grayscale", "reason": "grayscale"},
        {"path": "notes.jpg", "status": "not_image", "reason": "not an image (text)"},
        {"path": "tiny.png", "status": "too_small", "reason": "8x8, shorter side below 32 px"}]


def test_scan_summary_and_print_bad_leave_the_folder_untouched(tmp_path):
    folder = make_mixed_folder(tmp_path / "mixed")
    before = {path: (path.stat().st_size, path.stat().st_mtime_ns) for path in folder.rglob("*")}
    result = run_colorize("scan", str(folder), "--print-bad", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "2 images are fine, 1 is grayscale, 1 is too small, 1 is not an image." in result.stdout
    assert "1 hidden or system entry skipped." in result.stdout
    assert "  notes.jpg: not an image (text)" in result.stdout
    assert "  tiny.png: 8x8, shorter side below 32 px" in result.stdout
    after = {path: (path.stat().st_size, path.stat().st_mtime_ns) for path in folder.rglob("*")}
    assert after == before


def test_scan_user_errors_are_one_red_line(tmp_path):
    assert_one_red_line(run_colorize("scan", str(tmp_path / "missing")))
    (tmp_path / "empty").mkdir()
    assert_one_red_line(run_colorize("scan", str(tmp_path / "empty")))
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    assert_one_red_line(run_colorize("scan", str(tmp_path / "broken.zip"), "--json"))


def test_scan_refuses_a_zip_with_path_traversal(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("../../outside.png", b"x")
    result = run_colorize("scan", str(tmp_path / "evil.zip"))
    assert_one_red_line(result)
    assert "'../../outside.png'" in result.stderr and "refused" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["evil.zip"]
    assert not (tmp_path.parent.parent / "outside.png").exists()


def test_progress_bar_appears_only_for_long_scans(capsys):
    from colorize.frontends.console import ProgressBar

    quick = ProgressBar("Scanning", unit="files", show_after_s=60)
    for done in range(4):
        quick(done, 3)
    assert capsys.readouterr().err == ""
    slow = ProgressBar("Scanning", unit="files", show_after_s=0)
    for done in range(4):
        slow(done, 3)
    assert "Scanning 3/3" in capsys.readouterr().err


def test_scanner_and_cli_start_without_tensorflow():
    import subprocess
    import sys

    code = ("import sys, colorize.frontends.cli, colorize.dataset; "
            "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
