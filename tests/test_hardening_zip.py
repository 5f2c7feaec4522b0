"""Issue 8, zips: hostile archives get a clear error or a verdict per member, and
nothing is ever written outside the run's own folder.

test_dataset.py already covers '../', absolute and drive-letter names, the ratio
bomb, encrypted members, a cut central directory and a nested zip inside a zip;
this file adds fuzzed archive structure, lying size headers, names that differ
between the two headers, thousands of members, and predict/train fed hostile
zips through the CLI with the whole tmp tree watched.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import REPO_ROOT, colorful_image
from colorize.frontends import cli
from colorize.dataset import STATUSES, UnreadableImageError, load_rgb, scan_dataset
from colorize.errors import DatasetError


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


COLOUR_PNG = png_bytes(colorful_image(40, 40))
GRAY_PNG = png_bytes(colorful_image(40, 36, seed=5)[..., 0])


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tree_snapshot(folder: Path) -> dict[str, int]:
    """Every path under `folder` (links not followed) with its size."""
    return {str(path.relative_to(folder)): path.lstat().st_size for path in sorted(folder.rglob("*"))}


def scan_or_dataset_error(path: Path) -> None:
    """Scan a damaged zip: a DatasetError with one sentence, or one valid verdict per member."""
    try:
        result = scan_dataset(path)
    except DatasetError as error:
        assert str(error) and "\n" not in str(error)
        return
    for entry in result.files:
        assert entry.status in STATUSES and (entry.status == "ok" or entry.reason)
        if entry.status != "ok":
            continue
        try:
            assert load_rgb(entry).shape == (entry.height, entry.width, 3)
        except UnreadableImageError:
            pass   # the member's bytes differ from what the scan saw only if the zip changed


SOURCE_ZIP = zip_bytes({"a/colour.png": COLOUR_PNG, "a/gray.png": GRAY_PNG, "b/notes.txt": b"hello" * 20})
SOURCE_STORED = zip_bytes({"colour.png": COLOUR_PNG, "gray.png": GRAY_PNG}, zipfile.ZIP_STORED)


@st.composite
def damaged_zips(draw) -> bytes:
    """A small real zip with bits flipped (mostly in its headers) or cut short."""
    data = bytearray(draw(st.sampled_from([SOURCE_ZIP, SOURCE_STORED])))
    if draw(st.booleans()):
        directory = data.rfind(b"PK\x01\x02", 0, data.find(b"PK\x05\x06"))
        region_start = draw(st.sampled_from([0, max(directory - 200, 0), data.find(b"PK\x05\x06") - 40]))
        for _ in range(draw(st.integers(1, 6))):
            position = draw(st.integers(max(region_start, 0), len(data) - 1))
            data[position] ^= 1 << draw(st.integers(0, 7))
    else:
        data = data[:draw(st.integers(0, len(data) - 1))]
    return bytes(data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=damaged_zips())
def test_damaged_zip_structure_is_a_dataset_error_or_classified(tmp_path, data):
    path = tmp_path / "damaged.zip"
    path.write_bytes(data)
    scan_or_dataset_error(path)
    assert sorted(os.listdir(tmp_path)) == ["damaged.zip"]


def _set_declared_size(data: bytes, size: int) -> bytes:
    """Make every header of a one-member zip claim `size` uncompressed bytes."""
    data = bytearray(data)
    struct.pack_into("<I", data, 22, size)   # local header: uncompressed size
    directory = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, directory + 24, size)
    return bytes(data)


LYING_ZIP_SCAN = """
import json, sys

def peak_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork + exec, so a child of a
    # big pytest process (TensorFlow loaded) would report the parent's peak.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024

from colorize.dataset import UnreadableImageError, read_file_bytes, scan_dataset
(entry,) = scan_dataset(sys.argv[1]).files
try:
    size = len(read_file_bytes(entry))
except UnreadableImageError:
    size = -1
print(json.dumps({"status": entry.status, "read": size,
                  "peak_mb": peak_mb()}))
"""


def test_member_that_inflates_past_its_declared_size_is_cut_off_not_read(tmp_path):
    """The headers say 2 KB; the deflate stream holds 256 MB of zeros (a bomb the ratio check cannot see)."""
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("big.bmp", "w", force_zip64=True) as member:
            for _ in range(256):
                member.write(bytes(1024**2))
    data = bytearray(path.read_bytes())
    directory = data.find(b"PK\x01\x02")
    struct.pack_into("<II", data, directory + 20, len(data) - 200, 2048)   # sizes no longer zip64
    struct.pack_into("<II", data, 18, len(data) - 200, 2048)
    path.write_bytes(bytes(data))
    process = subprocess.run([sys.executable, "-c", LYING_ZIP_SCAN, str(path)], capture_output=True, text=True,
                             timeout=120, cwd=REPO_ROOT)
    if process.returncode:   # the patched zip64 extra may make the archive unreadable as a whole: also fine
        assert "DatasetError" in process.stderr or "not a readable zip" in process.stderr, process.stderr
        return
    verdict = json.loads(process.stdout)
    assert verdict["status"] in ("unreadable", "not_image") and verdict["read"] <= 2048, verdict
    assert verdict["peak_mb"] < 150, verdict


def test_member_whose_local_name_escapes_is_unreadable_and_nothing_is_written(tmp_path):
    """The central directory says 'photo.png'; the local header says '../evil.png' (same length)."""
    data = bytearray(zip_bytes({"photo.png": COLOUR_PNG, "fine.png": COLOUR_PNG}, zipfile.ZIP_STORED))
    assert data[30:39] == b"photo.png"
    data[30:39] = b"../ev.png"
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "mixed.zip"
    path.write_bytes(bytes(data))
    before = tree_snapshot(tmp_path)
    found = {entry.path: entry for entry in scan_dataset(path).files}
    assert found["photo.png"].status == "unreadable" and "corrupt zip member" in found["photo.png"].reason
    assert found["fine.png"].status == "ok"
    assert tree_snapshot(tmp_path) == before


def test_zip_with_thousands_of_members_is_scanned_completely(tmp_path):
    members = {f"set{index // 500}/photo{index:04d}.png": COLOUR_PNG if index % 3 else GRAY_PNG
               for index in range(3000)}
    members.update({f"notes/{index}.txt": b"x" for index in range(500)})
    path = tmp_path / "many.zip"
    path.write_bytes(zip_bytes(members, zipfile.ZIP_STORED))
    counts = scan_dataset(path).counts()
    assert counts == {"total": 3500, "ok": 2000, "grayscale": 1000, "not_image": 500, "unreadable": 0,
                      "too_small": 0, "film": 0, "skipped": 0}


# --- predict and train fed hostile zips, through the CLI ------------------------------------

@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from tiny_models import build_ab_model, save_model

    return save_model(build_ab_model(levels=1), tmp_path_factory.mktemp("model") / "tiny.keras")


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "Something unexpected" not in captured.err, captured.err
    return code, captured.out, captured.err


HOSTILE_ZIPS = {
    "traversal": {"photo.png": GRAY_PNG, "../../escaped.png": GRAY_PNG},
    "absolute": {"photo.png": GRAY_PNG, "/tmp/escaped.png": GRAY_PNG},
    "drive_letter": {"photo.png": GRAY_PNG, "C:\\escaped.png": GRAY_PNG},
}


@pytest.mark.parametrize("case", sorted(HOSTILE_ZIPS))
def test_predict_from_an_escaping_zip_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, tiny_model,
                                                                     case):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COLORIZE_OUTPUT", raising=False)
    (tmp_path / "hostile.zip").write_bytes(zip_bytes(HOSTILE_ZIPS[case]))
    before = tree_snapshot(tmp_path)
    code, _, err = run_cli(["predict", "--model", str(tiny_model), "--input", "hostile.zip"], capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "refused" in err
    assert tree_snapshot(tmp_path) == before
    assert not Path("/tmp/escaped.png").exists()


def test_predict_from_a_zip_of_bombs_nested_zips_and_photos_writes_only_into_its_output(
        tmp_path, monkeypatch, capsys, tiny_model):
    monkeypatch.chdir(tmp_path)
    members = {"album/old.png": GRAY_PNG, "album/colour.png": COLOUR_PNG,
               "album/inner.zip": zip_bytes({"x.png": GRAY_PNG}),
               "album/bomb.bmp": bytes(8 * 1024**2),            # deflates ~1000:1
               "album/notes.txt": b"hello"}
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "mixed.zip").write_bytes(zip_bytes(members))
    outside = {name: size for name, size in tree_snapshot(tmp_path).items()}
    code, out, err = run_cli(["predict", "--model", str(tiny_model), "--input", "input/mixed.zip",
                              "--output", "coloured"], capsys)
    assert code == 0, err
    assert "Colourised 2 photos" in out and "bomb.bmp" in out and "inner.zip" in out
    after = tree_snapshot(tmp_path)
    new = set(after) - set(outside)
    assert all(name == "coloured" or name.startswith("coloured/") for name in new), new
    assert {name for name in new if name.endswith(".png") and "grid" not in name} == {
        "coloured/album/old.png", "coloured/album/colour.png"}
    assert all(after[name] == size for name, size in outside.items())


def test_train_on_a_zip_of_only_bombs_is_one_line_and_writes_no_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    members = {f"bomb{index}.bmp": bytes(2 * 1024**2) for index in range(4)}
    members["ok.png"] = COLOUR_PNG
    (tmp_path / "bombs.zip").write_bytes(zip_bytes(members))
    before = tree_snapshot(tmp_path)
    code, _, err = run_cli(["train", "--data", "bombs.zip", "--preset", "tiny", "--image-size", "32",
                            "--epochs", "1", "--test-size", "1", "--output", "OUT"], capsys)
    assert code == 1 and "Only 1 usable colour image" in err
    assert len(err.strip().splitlines()) == 1
    after = tree_snapshot(tmp_path)
    assert set(after) - set(before) <= {"OUT", "OUT/models"} and not any(Path("OUT").rglob("*.*"))


def test_zip_member_that_is_also_a_folder_name_does_not_stop_the_others(tmp_path, monkeypatch, capsys,
                                                                        tiny_model):
    """A zip may hold a file 'x.png' and a file 'x.png/y.png'; a folder cannot. The first
    output then blocks the second's folder: that member is reported, the rest are done."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clash.zip").write_bytes(zip_bytes({"x.png": GRAY_PNG, "x.png/y.png": GRAY_PNG,
                                                   "z.png": GRAY_PNG}))
    code, out, err = run_cli(["predict", "--model", str(tiny_model), "--input", "clash.zip",
                              "--output", "coloured"], capsys)
    assert code == 0, err
    assert (tmp_path / "coloured" / "x.png").is_file() and (tmp_path / "coloured" / "z.png").is_file()
    assert "x.png/y.png" in out
