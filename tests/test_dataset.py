"""The dataset scanner on real files made in tmp_path: every class, every format
rule, links and permissions, zip safety, order, the split."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from conftest import colorful_image, save_image
from colorize.constants import DEFAULT_DATASET_DIR, MAX_ZIP_RATIO
from colorize.dataset import (ScannedFile, UnreadableImageError, load_rgb, read_file_bytes,
                              resolve_dataset_path, scan_dataset, split_dataset)
from colorize.errors import DatasetError, UnsafeArchiveError
from colorize.dataset.imagefile import ImageDecodeError

FORMATS = {"jpg": "JPEG", "png": "PNG", "bmp": "BMP", "gif": "GIF", "tif": "TIFF", "webp": "WEBP"}


def verdicts(root) -> dict[str, ScannedFile]:
    return {entry.path: entry for entry in scan_dataset(root).files}


def only_verdict(path: Path) -> ScannedFile:
    (entry,) = scan_dataset(path).files
    return entry


def gray_photo(width: int = 64, height: int = 48) -> np.ndarray:
    return colorful_image(width, height, seed=3)[..., 0]


def image_bytes(array: np.ndarray, image_format: str, **save_args) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, image_format, **save_args)
    return buffer.getvalue()


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under `folder` with its size and mtime."""
    return {str(path.relative_to(folder)): (path.lstat().st_size, path.lstat().st_mtime_ns)
            for path in sorted(folder.rglob("*"))}


# --- one class per file ------------------------------------------------------

def test_every_file_gets_exactly_one_class(tmp_path):
    save_image(tmp_path / "colour.png", colorful_image(64, 48))
    save_image(tmp_path / "gray.png", gray_photo())
    save_image(tmp_path / "tiny.png", colorful_image(16, 40))
    (tmp_path / "notes.jpg").write_text("this is not a photo\n")
    full = image_bytes(colorful_image(96, 64), "JPEG")
    (tmp_path / "cut.jpg").write_bytes(full[: len(full) // 2])
    result = scan_dataset(tmp_path)
    by_path = {entry.path: entry for entry in result.files}
    assert {path: entry.status for path, entry in by_path.items()} == {
        "colour.png": "ok", "gray.png": "grayscale", "tiny.png": "too_small",
        "notes.jpg": "not_image", "cut.jpg": "unreadable"}
    assert by_path["notes.jpg"].reason == "not an image (text)"
    assert by_path["cut.jpg"].reason == "truncated JPEG"
    assert by_path["tiny.png"].reason == "16x40, shorter side below 32 px"
    assert (by_path["colour.png"].width, by_path["colour.png"].height) == (64, 48)
    counts = result.counts()
    assert counts == {"total": 5, "ok": 1, "not_image": 1, "unreadable": 1, "grayscale": 1,
                      "too_small": 1, "film": 0, "skipped": 0}
    assert [entry.path for entry in result.ok] == ["colour.png"]
    assert {entry.path for entry in result.predictable} == {"colour.png", "gray.png", "tiny.png"}
    assert len(result.bad) == 4


def test_min_side_is_a_parameter(tmp_path):
    path = save_image(tmp_path / "small.png", colorful_image(40, 40))
    assert scan_dataset(path).files[0].status == "ok"
    assert scan_dataset(path, min_side=64).files[0].status == "too_small"


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_each_format_colour_gray_and_truncated(tmp_path, suffix):
    image_format = FORMATS[suffix]
    colour = colorful_image(80, 60, seed=1)
    (tmp_path / f"colour.{suffix}").write_bytes(image_bytes(colour, image_format))
    (tmp_path / f"gray.{suffix}").write_bytes(image_bytes(gray_photo(80, 60), image_format))
    whole = image_bytes(colour, image_format)
    (tmp_path / f"cut.{suffix}").write_bytes(whole[: len(whole) // 2])
    found = verdicts(tmp_path)
    expected_colour = "ok"
    assert found[f"colour.{suffix}"].status == expected_colour
    assert found[f"gray.{suffix}"].status == "grayscale"
    assert found[f"cut.{suffix}"].status == "unreadable"


def test_truncated_jpeg_is_caught_although_only_a_reduced_decode_is_made(tmp_path):
    whole = image_bytes(colorful_image(1024, 768), "JPEG", quality=95)
    for cut in (len(whole) // 3, len(whole) - 200):
        (tmp_path / f"cut{cut}.jpg").write_bytes(whole[:cut])
    assert {entry.status for entry in scan_dataset(tmp_path).files} == {"unreadable"}
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# --- format rules: decided on decoded, converted pixels -------------------------

def test_rgba_is_composited_on_white(tmp_path):
    colour = colorful_image(48, 48)
    invisible = np.dstack([colour, np.zeros((48, 48), np.uint8)])   # colour hidden by alpha 0
    opaque = np.dstack([colour, np.full((48, 48), 255, np.uint8)])
    save_image(tmp_path / "invisible.png", invisible)
    save_image(tmp_path / "opaque.png", opaque)
    found = verdicts(tmp_path)
    assert found["invisible.png"].status == "grayscale"   # white after compositing
    assert found["opaque.png"].status == "ok"


def test_la_palette_cmyk_and_16_bit(tmp_path):
    gray = gray_photo()
    Image.fromarray(np.dstack([gray, np.full_like(gray, 200)])).save(tmp_path / "la.png")
    Image.fromarray(colorful_image(64, 48)).quantize(16).save(tmp_path / "palette_colour.png")
    Image.fromarray(np.dstack([gray] * 3)).quantize(16).save(tmp_path / "palette_gray.png")
    Image.fromarray(colorful_image(64, 48)).convert("CMYK").save(tmp_path / "cmyk.jpg")
    Image.fromarray(np.dstack([gray] * 3)).convert("CMYK").save(tmp_path / "cmyk_gray.tif")
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "gray16.png")
    found = verdicts(tmp_path)
    assert Image.open(tmp_path / "gray16.png").mode.startswith("I")
    assert Image.open(tmp_path / "palette_colour.png").mode == "P"
    assert {path: entry.status for path, entry in found.items()} == {
        "la.png": "grayscale", "palette_colour.png": "ok", "palette_gray.png": "grayscale",
        "cmyk.jpg": "ok", "cmyk_gray.tif": "grayscale", "gray16.png": "grayscale"}


def test_black_and_white_photo_saved_as_rgb_is_grayscale(tmp_path):
    gray = np.dstack([gray_photo(400, 300)] * 3)
    save_image(tmp_path / "bw.jpg", gray, quality=70)
    save_image(tmp_path / "bw.png", gray)
    assert {entry.status for entry in scan_dataset(tmp_path).files} == {"grayscale"}


def test_small_colour_object_on_white_page_is_colour(tmp_path):
    page = np.full((300, 400, 3), 255, np.uint8)
    page[120:160, 180:220] = (200, 30, 30)   # 1.3% of the page is red: mean chroma ~2.3
    save_image(tmp_path / "stamp.png", page)
    assert only_verdict(tmp_path / "stamp.png").status == "ok"


def test_exif_rotated_jpeg_reports_oriented_size(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6   # rotate 90 degrees when shown
    save_image(tmp_path / "rotated.jpg", colorful_image(80, 40), exif=exif.tobytes())
    entry = only_verdict(tmp_path / "rotated.jpg")
    assert (entry.width, entry.height) == (40, 80)
    assert entry.status == "ok"
    assert load_rgb(entry).shape == (80, 40, 3)   # the loader sees the same orientation


def test_zero_byte_and_binary_junk_are_not_images(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "random.png").write_bytes(np.random.default_rng(0).bytes(4000))
    (tmp_path / "document.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00" * 100)
    found = verdicts(tmp_path)
    assert found["empty.jpg"].status == "not_image"
    assert found["empty.jpg"].reason == "empty file (0 bytes)"
    assert found["random.png"].status == "not_image"
    assert found["document.pdf"].reason == "not an image (PDF)"


def png_with_declared_size(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims `width` x `height` (a decompression bomb's header)."""
    data = bytearray(image_bytes(colorful_image(8, 8), "PNG"))
    ihdr = bytearray(data[12:29])   # chunk type + 13 data bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # pytest resets our filter
def test_decompression_bombs_are_unreadable(tmp_path):
    (tmp_path / "bomb_warn.png").write_bytes(png_with_declared_size(12000, 12000))    # 1.4x the cap
    (tmp_path / "bomb_error.png").write_bytes(png_with_declared_size(30000, 30000))   # 9x the cap
    found = verdicts(tmp_path)
    for name in ("bomb_warn.png", "bomb_error.png"):
        assert found[name].status == "unreadable"
        assert "decompression bomb" in found[name].reason


# --- links, permissions, hidden files, junk --------------------------------------

def test_hidden_files_and_os_junk_are_skipped_and_counted(tmp_path):
    save_image(tmp_path / "photo.png", colorful_image(40, 40))
    save_image(tmp_path / ".hidden.png", colorful_image(40, 40))
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    save_image(tmp_path / "__MACOSX" / "._photo.png", colorful_image(40, 40))
    result = scan_dataset(tmp_path)
    assert [entry.path for entry in result.files] == ["photo.png"]
    assert set(result.skipped) == {".hidden.png", ".DS_Store", "Thumbs.db", "__MACOSX/"}
    assert result.counts()["skipped"] == 4


def test_links_and_special_files_are_classified_not_followed(tmp_path):
    real = save_image(tmp_path / "data" / "sub" / "photo.png", colorful_image(40, 40))
    data = tmp_path / "data"
    (data / "broken.png").symlink_to(tmp_path / "missing.png")
    (data / "loop.png").symlink_to(data / "loop.png")
    (data / "linked.png").symlink_to(real)
    (data / "folder_link").symlink_to(data)   # a loop if it were followed
    os.mkfifo(data / "pipe.png")              # reading it would block forever
    found = verdicts(data)
    assert found["broken.png"].status == "unreadable"
    assert found["broken.png"].reason == "broken symbolic link"
    assert found["loop.png"].status == "unreadable"
    assert found["linked.png"].status == "ok"
    assert found["sub/photo.png"].status == "ok"
    assert found["pipe.png"].status == "not_image"
    assert "folder_link/" in scan_dataset(data).skipped


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_file_without_read_permission_is_unreadable(tmp_path):
    path = save_image(tmp_path / "locked.png", colorful_image(40, 40))
    path.chmod(0)
    try:
        entry = only_verdict(tmp_path)
    finally:
        path.chmod(0o644)
    assert (entry.status, entry.reason) == ("unreadable", "no permission to read")


def test_scan_never_writes_into_the_scanned_folder(tmp_path):
    save_image(tmp_path / "a.png", colorful_image(40, 40))
    save_image(tmp_path / "deep" / "b.jpg", colorful_image(40, 40))
    (tmp_path / "c.jpg").write_bytes(b"junk")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as archive:
        archive.writestr("e.png", image_bytes(colorful_image(40, 40), "PNG"))
    before = snapshot(tmp_path)
    scan_dataset(tmp_path)
    scan_dataset(tmp_path / "d.zip")
    load_rgb(only_verdict(tmp_path / "d.zip"))
    assert snapshot(tmp_path) == before


# --- paths, order, progress ---------------------------------------------------------

def test_default_dataset_and_missing_paths():
    assert resolve_dataset_path("default") == DEFAULT_DATASET_DIR
    with pytest.raises(DatasetError, match="does not exist"):
        resolve_dataset_path("/no/such/folder")


def test_empty_folder_and_junk_only_folder_are_errors(tmp_path):
    with pytest.raises(DatasetError, match="holds no files"):
        scan_dataset(tmp_path)
    (tmp_path / ".DS_Store").write_bytes(b"x")
    with pytest.raises(DatasetError, match="1 hidden or system files skipped"):
        scan_dataset(tmp_path)


def test_order_is_deterministic_and_progress_is_reported(tmp_path):
    for name in ("b/2.png", "a.png", "c/1.png", "b/1.png"):
        save_image(tmp_path / name, colorful_image(40, 40))
    calls = []
    result = scan_dataset(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert [entry.path for entry in result.files] == ["a.png", "b/1.png", "b/2.png", "c/1.png"]
    assert calls == [(done, 4) for done in range(5)]
    assert scan_dataset(tmp_path) == result
    assert all(Path(entry.source).is_absolute() for entry in result.files)


def test_load_rgb_and_read_file_bytes(tmp_path):
    colour = colorful_image(40, 30)
    entry = only_verdict(save_image(tmp_path / "a.png", colour))
    assert np.array_equal(load_rgb(entry), colour)
    assert read_file_bytes(entry) == (tmp_path / "a.png").read_bytes()
    (tmp_path / "a.png").write_bytes(b"changed since the scan")
    with pytest.raises(UnreadableImageError) as caught:
        load_rgb(entry)
    assert isinstance(caught.value, DatasetError) and isinstance(caught.value, ImageDecodeError)
    (tmp_path / "a.png").unlink()
    with pytest.raises(DatasetError, match="Cannot read a.png"):
        read_file_bytes(entry)


# --- zips -----------------------------------------------------------------------------

def make_zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_is_read_in_place(tmp_path):
    colour = colorful_image(40, 40)
    archive = make_zip(tmp_path / "photos.zip", {
        "set/colour.png": image_bytes(colour, "PNG"),
        "set/gray.jpg": image_bytes(gray_photo(), "JPEG"),
        "set/readme.txt": b"hello",
        "nested.zip": make_zip(tmp_path / "inner.zip", {"x.png": image_bytes(colour, "PNG")}).read_bytes(),
        "__MACOSX/set/._colour.png": b"\x00\x05\x16\x07",
        ".hidden/x.png": image_bytes(colour, "PNG"),
    })
    result = scan_dataset(archive)
    assert result.kind == "zip"
    found = {entry.path: entry for entry in result.files}
    assert {path: entry.status for path, entry in found.items()} == {
        "set/colour.png": "ok", "set/gray.jpg": "grayscale", "set/readme.txt": "not_image",
        "nested.zip": "not_image"}
    assert "zip archive" in found["nested.zip"].reason
    assert found["set/colour.png"].member == "set/colour.png"
    assert found["set/colour.png"].source == str(archive.resolve())
    assert sorted(result.skipped) == [".hidden/x.png", "__MACOSX/set/._colour.png"]
    assert np.array_equal(load_rgb(found["set/colour.png"]), colour)
    assert sorted(os.listdir(tmp_path)) == ["inner.zip", "photos.zip"]   # nothing extracted


@pytest.mark.parametrize("name", ["../evil.png", "/etc/evil.png", "C:/evil.png", "a/../../evil.png",
                                  "..\\evil.png"])
def test_zip_with_escaping_member_is_refused_whole(tmp_path, name):
    archive = make_zip(tmp_path / "bad.zip", {"fine.png": image_bytes(colorful_image(40, 40), "PNG"),
                                              name: b"x"})
    with pytest.raises(UnsafeArchiveError, match="refused"):
        scan_dataset(archive)
    assert sorted(os.listdir(tmp_path)) == ["bad.zip"]
    forged = ScannedFile(name, str(archive), name, "ok")
    with pytest.raises(DatasetError, match="unsafe member path"):
        read_file_bytes(forged)


def test_zip_bomb_member_is_unreadable(tmp_path):
    zeros = bytes(8 * 1024**2)   # deflates ~1000:1
    archive = make_zip(tmp_path / "bomb.zip", {"bomb.bmp": zeros,
                                               "fine.png": image_bytes(colorful_image(40, 40), "PNG")})
    found = {entry.path: entry for entry in scan_dataset(archive).files}
    assert found["bomb.bmp"].status == "unreadable"
    assert f"above the {MAX_ZIP_RATIO}:1 limit" in found["bomb.bmp"].reason
    assert found["fine.png"].status == "ok"


def patch_central_directory(data: bytes, field_offset: int, value: int, fmt: str = "<I") -> bytes:
    """Set one field in every central-directory entry (offsets from the entry's signature)."""
    data = bytearray(data)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        struct.pack_into(fmt, data, start + field_offset, value)
        start += 4
    return bytes(data)


def test_zip_over_the_total_size_cap_is_refused(tmp_path):
    members = {f"photo{index}.png": image_bytes(colorful_image(40, 40), "PNG") for index in range(2)}
    data = make_zip(tmp_path / "source.zip", members, zipfile.ZIP_STORED).read_bytes()
    # Each member now claims 3 GiB uncompressed (and compressed, so no ratio alarm): 6 GiB in all.
    data = patch_central_directory(data, 20, 3 * 1024**3)
    data = patch_central_directory(data, 24, 3 * 1024**3)
    (tmp_path / "huge.zip").write_bytes(data)
    with pytest.raises(UnsafeArchiveError, match="would unpack to 6.0 GiB"):
        scan_dataset(tmp_path / "huge.zip")


def test_encrypted_and_corrupt_members_are_unreadable(tmp_path):
    png = image_bytes(colorful_image(64, 64), "PNG")
    data = make_zip(tmp_path / "source.zip", {"locked.png": png}, zipfile.ZIP_STORED).read_bytes()
    locked = bytearray(patch_central_directory(data, 8, 1, "<H"))
    struct.pack_into("<H", locked, 6, 1)   # the local header's flag too
    (tmp_path / "locked.zip").write_bytes(bytes(locked))
    entry = only_verdict(tmp_path / "locked.zip")
    assert (entry.status, entry.reason) == ("unreadable", "encrypted zip member")

    flipped = bytearray(make_zip(tmp_path / "ok.zip", {"photo.png": png}).read_bytes())
    flipped[60] ^= 0xFF   # inside the deflated data
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    entry = only_verdict(tmp_path / "flipped.zip")
    assert entry.status == "unreadable"
    assert "corrupt zip member" in entry.reason


def test_corrupt_or_fake_zip_is_a_dataset_error(tmp_path):
    (tmp_path / "fake.zip").write_text("not a zip")
    with pytest.raises(DatasetError, match="is not a readable zip file"):
        scan_dataset(tmp_path / "fake.zip")
    whole = make_zip(tmp_path / "whole.zip", {"a.png": image_bytes(colorful_image(40, 40), "PNG")})
    (tmp_path / "cut.zip").write_bytes(whole.read_bytes()[:-30])   # central directory cut
    with pytest.raises(DatasetError, match="is not a readable zip file"):
        scan_dataset(tmp_path / "cut.zip")


def test_repeated_member_name_counts_once(tmp_path):
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(tmp_path / "dup.zip", "w") as archive:
            archive.writestr("a.png", image_bytes(colorful_image(40, 40), "PNG"))
            archive.writestr("a.png", b"second copy")
    result = scan_dataset(tmp_path / "dup.zip")
    assert [entry.path for entry in result.files] == ["a.png"]
    assert result.skipped == ("a.png",)


# --- split ------------------------------------------------------------------------------

def fake_files(count: int) -> list[ScannedFile]:
    return [ScannedFile(f"img{index:03d}.png", f"/data/img{index:03d}.png", None, "ok", "", 64, 64)
            for index in range(count)]


def test_split_is_disjoint_reproducible_and_eight_to_two():
    files = fake_files(110)
    split = split_dataset(files, train_size=None, test_size=10, seed=7)
    assert (len(split.train), len(split.validation), len(split.test)) == (80, 20, 10)
    parts = [set(split.train), set(split.validation), set(split.test)]
    assert sum(len(part) for part in parts) == len(set.union(*parts)) == 110
    assert split_dataset(list(reversed(files)), None, 10, seed=7) == split   # order of input does not matter
    assert split_dataset(files, None, 10, seed=8) != split


def test_split_respects_train_size_and_keeps_one_validation_image():
    split = split_dataset(fake_files(50), train_size=20, test_size=5, seed=1)
    assert (len(split.train), len(split.validation), len(split.test)) == (16, 4, 5)
    small = split_dataset(fake_files(3), train_size=None, test_size=0, seed=1)
    assert (len(small.train), len(small.validation), len(small.test)) == (2, 1, 0)


def test_split_with_too_few_images_is_a_dataset_error():
    with pytest.raises(DatasetError, match="Only 7 usable colour images; need at least 12"):
        split_dataset(fake_files(7), train_size=None, test_size=10, seed=1)
    with pytest.raises(DatasetError, match="Only 7 usable"):
        split_dataset(fake_files(7), train_size=5, test_size=3, seed=1)
