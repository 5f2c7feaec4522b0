"""Issue 8, outputs: a full disk gives one clear error and keeps every good file;
inputs are never written (read-only mounts, output inside the input); outputs
are never overwritten.

The full-disk tests mount a small tmpfs (we run as root here); where mounting
is not permitted they skip, and the injected-ENOSPC test still runs.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from conftest import colorful_image, run_colorize, save_image
from colorize.frontends import cli
from colorize.errors import OutputError


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under `folder` with its size and mtime (links not followed)."""
    return {str(path.relative_to(folder)): (path.lstat().st_size, path.lstat().st_mtime_ns)
            for path in sorted(folder.rglob("*"))}


def _mount(args: list[str]) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """Return a function that mounts a tmpfs of `size_kb` at a new folder and returns it."""
    mounted: list[Path] = []

    def mount(size_kb: int, name: str = "disk") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        if not _mount(["-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)]):
            pytest.skip("cannot mount a tmpfs here (needs root); the injected-ENOSPC test covers the code path")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill_disk(folder: Path, leave_bytes: int) -> Path:
    """Write a filler file so that about `leave_bytes` stay free on `folder`'s file system."""
    free = shutil.disk_usage(folder).free
    filler = folder / f"filler{len(list(folder.glob('filler*')))}.bin"
    with open(filler, "wb") as handle:
        handle.write(bytes(max(free - leave_bytes, 0)))
    return filler


def gray_photos(folder: Path, count: int, side: int = 160) -> Path:
    for index in range(count):
        save_image(folder / f"old{index}.png", colorful_image(side, side, seed=index)[..., 0])
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from tiny_models import build_ab_model, save_model

    return save_model(build_ab_model(levels=1), tmp_path_factory.mktemp("model") / "tiny.keras")


# --- disk full ----------------------------------------------------------------------------

def test_disk_full_while_saving_the_model_keeps_the_good_files_and_says_so(small_disk, tmp_path):
    from colorize.config import TrainConfig
    from colorize.training.devices import load_tensorflow
    from colorize.training.runfolder import save_final_model

    load_tensorflow()
    from colorize.models.model import build_unet

    model = build_unet("tiny")
    model.save(tmp_path / "measure.keras")
    model_bytes = (tmp_path / "measure.keras").stat().st_size
    disk = small_disk(4 * model_bytes // 1024 + 256)
    run_dir = disk / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text('{"settings": {}}\n')
    good = {name: value for name, value in snapshot(disk).items() if name.endswith(".json")}
    # Room for model.keras but not for model.h5 as well.
    fill_disk(disk, leave_bytes=model_bytes + model_bytes // 2)
    config = TrainConfig(preset="tiny", image_size=32, save_h5=True, output=str(disk))
    with pytest.raises(OutputError, match="Cannot save the model to .*model.h5") as raised:
        save_final_model(model, config, run_dir)
    assert "\n" not in str(raised.value) and "space" in str(raised.value).lower()
    names = sorted(path.name for path in run_dir.iterdir())
    assert names == ["config.json", "model.keras"]    # no model.h5, no half-written temporary file
    assert {name: value for name, value in snapshot(disk).items() if name in good} == good
    from colorize.models.modelfile import load_model_file

    assert load_model_file(run_dir / "model.keras").output_shape == (None, None, None, 2)

    fill_disk(disk, leave_bytes=0)   # now not even model.keras fits
    (run_dir / "model.keras").rename(run_dir / "earlier.keras")
    with pytest.raises(OutputError, match="Cannot save the model to .*model.keras"):
        save_final_model(model, TrainConfig(preset="tiny", image_size=32, output=str(disk)), run_dir)
    assert sorted(path.name for path in run_dir.iterdir()) == ["config.json", "earlier.keras"]


def test_disk_full_while_colourising_stops_with_one_line_and_the_same_command_continues(small_disk, tmp_path,
                                                                                       tiny_model):
    photos = gray_photos(tmp_path / "photos", count=6)
    one_output = 160 * 160 + 4096
    disk = small_disk(1024)
    filler = fill_disk(disk, leave_bytes=2 * one_output)
    command = ["predict", "--model", str(tiny_model), "--input", str(photos), "--output", str(disk / "coloured")]
    first = run_colorize(*command)
    assert first.returncode == 1, first.stdout + first.stderr
    errors = [line for line in first.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "No space left" in errors[0], first.stderr
    assert "Traceback" not in first.stdout + first.stderr and "unexpected" not in first.stderr
    written = {path.name: path for path in (disk / "coloured").rglob("*") if path.is_file()}
    assert written and not [name for name in written if "partial" in name]
    for path in written.values():   # every file under a final name is whole
        with Image.open(path) as image:
            image.load()
    kept = snapshot(disk / "coloured")

    filler.unlink()
    again = run_colorize(*command)
    assert again.returncode == 0, again.stdout + again.stderr
    outputs = sorted(path.name for path in (disk / "coloured").glob("old*.png"))
    assert outputs == [f"old{index}.png" for index in range(6)]
    assert all(snapshot(disk / "coloured")[name] == value for name, value in kept.items()
               if name.startswith("old"))


def test_write_error_at_fsync_is_one_clear_error_and_leaves_no_partial_file(tmp_path, monkeypatch):
    """Disks that report ENOSPC late (at fsync or close, as NFS and delayed allocation do): injected."""
    from colorize.training import runfolder

    def full_disk_fsync(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    (tmp_path / "metrics.json").write_text("{}\n")
    monkeypatch.setattr(runfolder.os, "fsync", full_disk_fsync)
    with pytest.raises(OutputError, match="Cannot write .*summary.json: No space left on device"):
        runfolder.write_json(tmp_path / "summary.json", {"psnr": 22.1})
    with pytest.raises(OutputError, match="Refusing to overwrite"):
        runfolder.write_json(tmp_path / "metrics.json", {"psnr": 22.1})
    assert sorted(os.listdir(tmp_path)) == ["metrics.json"]
    assert (tmp_path / "metrics.json").read_text() == "{}\n"


# --- inputs are never written -------------------------------------------------------------

@pytest.fixture
def read_only_copy(tmp_path):
    """Return a function that bind-mounts a folder read-only (real EROFS, which binds root too)."""
    mounted: list[Path] = []

    def mount(source: Path) -> Path:
        target = tmp_path / f"{source.name}-ro"
        target.mkdir()
        if not (_mount(["--bind", str(source), str(target)])
                and _mount(["-o", "remount,bind,ro", str(target)])):
            subprocess.run(["umount", str(target)], capture_output=True)
            pytest.skip("cannot bind-mount read-only here (needs root); test_predict.py checks chmod 555")
        mounted.append(target)
        return target

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_read_only_input_is_colourised_and_trained_on_and_left_as_it_was(tmp_path, read_only_copy, tiny_model,
                                                                          monkeypatch, capsys):
    source = tmp_path / "album"
    for index in range(8):
        save_image(source / f"colour{index}.png", colorful_image(32, 32, seed=index))
    gray_photos(source / "old", count=2, side=40)
    album = read_only_copy(source)
    with pytest.raises(OSError):
        (album / "probe.txt").write_text("x")
    before = snapshot(album)
    monkeypatch.chdir(album)   # the default ./OUTPUT cannot be made here: one clear line
    monkeypatch.delenv("COLORIZE_OUTPUT", raising=False)
    assert cli.main(["predict", "--model", str(tiny_model), "--input", "old"]) == 1
    assert "Read-only file system" in capsys.readouterr().err
    assert cli.main(["predict", "--model", str(tiny_model), "--input", str(album),
                     "--output", str(tmp_path / "coloured")]) == 0
    assert cli.main(["train", "--data", str(album), "--preset", "tiny", "--image-size", "32", "--epochs", "1",
                     "--test-size", "1", "--output", str(tmp_path / "OUT")]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert snapshot(album) == before
    assert len(list((tmp_path / "coloured").rglob("*.png"))) >= 10
    assert list((tmp_path / "OUT" / "models").glob("*/model.keras"))


def make_colour_folder(folder: Path) -> Path:
    for index in range(6):
        save_image(folder / f"colour{index}.png", colorful_image(32, 32, seed=index))
    return folder


@pytest.mark.parametrize("where", ["inside", "same"])
def test_train_refuses_an_output_inside_the_data_folder(tmp_path, monkeypatch, capsys, where):
    """Run folders inside the data would be scanned as photos next time (grids, curves.png)."""
    data = make_colour_folder(tmp_path / "photos")
    before = snapshot(data)
    output = {"inside": data / "OUTPUT", "same": data}[where]
    train = ["train", "--data", str(data), "--preset", "tiny", "--image-size", "32", "--epochs", "1",
             "--test-size", "1"]
    assert cli.main(train + ["--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "outside" in err, err
    monkeypatch.chdir(data)   # `cd photos && colorize train --data .`: ./OUTPUT is inside the data
    monkeypatch.delenv("COLORIZE_OUTPUT", raising=False)
    assert cli.main(train[:2] + ["."] + train[3:]) == 1
    assert "outside" in capsys.readouterr().err
    assert snapshot(data) == before


def test_evaluate_refuses_an_output_inside_the_data_folder(tmp_path, capsys, tiny_model):
    data = make_colour_folder(tmp_path / "photos")
    before = snapshot(data)
    code = cli.main(["evaluate", "--model", str(tiny_model), "--data", str(data), "--output", str(data / "OUTPUT")])
    assert code == 1 and "outside" in capsys.readouterr().err
    assert snapshot(data) == before
