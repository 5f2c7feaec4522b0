"""Issue 8, front ends: random flag values, a closed output pipe, Ctrl-C while
working and at every training question: never a traceback, exit codes as in
the README promises (0 done, 1 user error, 2 usage, 130 interrupted).

test_wizard.py and test_console.py already fuzz the wizard's answers, sweep
end of input over every question and Ctrl-C over the colourise path; this file
adds the CLI flags, the pipe, Ctrl-C during work and over the training path.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import FUZZ_SETTINGS, colorful_image, press_ctrl_c, run_colorize, save_image
from colorize.frontends import cli


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A tiny model, one gray photo, one colour photo (too few to train: training never starts), a text file."""
    from tiny_models import build_ab_model, save_model

    root = tmp_path_factory.mktemp("front")
    save_model(build_ab_model(levels=1), root / "tiny.keras")
    save_image(root / "album" / "old.png", colorful_image(40, 30)[..., 0])
    save_image(root / "colour" / "one.png", colorful_image(40, 40))
    (root / "notes.txt").write_text("hello")
    return root


# Never "~", "." or "default" as data: scanning a home folder, the growing OUTPUT or scoring
# 300 photos is slow, not hostile.
PATHS = ["tiny.keras", "album", "colour", "notes.txt", "nowhere", "album/old.png", "",
         "out", "album/out", "colour/../album", "-", "--", "ünï☃", "a" * 300, "~0", "~0/out"]
MODEL_PATHS = PATHS + ["default"]
NUMBERS = st.one_of(st.integers(-2, 40).map(str),   # plausible values, so more examples get past argparse
                    st.integers(-10**12, 10**12).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(str),
                    st.sampled_from(["0", "-1", "1e999", "0x10", "١٢", " 3", "3 ", "+5", "", "nan"]))
WORDS = st.one_of(st.sampled_from(["tiny", "cpu", "huge", "val_loss", "loss", "accuracy", "auto", "mirrored",
                                   "multiworker", "one", ""]),
                  st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12))
FLAG_VALUES = {
    "scan": {"--json": None, "--print-bad": None},
    "predict": {"--model": MODEL_PATHS, "--input": PATHS, "--output": PATHS, "--limit": NUMBERS,
                "--saturation": NUMBERS, "--batch-size": NUMBERS},
    "evaluate": {"--model": MODEL_PATHS, "--data": PATHS, "--limit": NUMBERS, "--json": None, "--output": PATHS,
                 "--run-name": WORDS, "--test-size": NUMBERS, "--seed": NUMBERS},
    "train": {"--data": ["colour", "album", "notes.txt", "nowhere", "colour/one.png"], "--epochs": NUMBERS,
              "--train-size": NUMBERS, "--test-size": NUMBERS, "--image-size": NUMBERS, "--batch-size": NUMBERS,
              "--preset": WORDS, "--model": MODEL_PATHS, "--monitor": WORDS, "--noise": NUMBERS, "--strategy": WORDS,
              "--seed": NUMBERS, "--run-name": WORDS, "--output": PATHS, "--no-save-best": None, "--h5": None},
}


def _value(choices):
    return st.sampled_from(choices) if isinstance(choices, list) else choices


@st.composite
def command_lines(draw, commands=tuple(sorted(FLAG_VALUES))) -> list[str]:
    """A subcommand with random flags and values (as a shell could pass them: no NUL)."""
    command = draw(st.sampled_from(commands))
    argv = [command]
    if command == "scan":
        argv.append(draw(st.sampled_from(PATHS)))
    flags = FLAG_VALUES[command]
    for flag in draw(st.lists(st.sampled_from(sorted(flags)), max_size=5, unique=True)):
        argv.append(flag)
        if flags[flag] is not None:
            argv.append(draw(_value(flags[flag])))
    if command == "train" and "--data" not in argv:   # without it: minutes on the default dataset
        argv += ["--data", draw(st.sampled_from(flags["--data"]))]
    # predict and evaluate need --input / --data: supply it mostly, so most examples get past
    # argparse to the model and the photos, and leave it out sometimes (argparse's exit 2).
    required = {"predict": "--input", "evaluate": "--data"}.get(command)
    # sampled_from, not integers: hypothesis draws an integer range's bounds far more often.
    if required and required not in argv and draw(st.sampled_from([True, True, True, True, False])):
        argv += [required, draw(st.sampled_from(flags[required]))]
    stray = draw(st.sampled_from([None] * 9 + ["--bogus", "extra", "-h"]))
    if stray:
        argv.append(stray)
    return argv


INPUT_FOLDERS = {"album": "old.png", "colour": "one.png"}   # the workspace's photo folders and their photo
INPUT_FLAGS = {"predict": "--input", "evaluate": "--data", "train": "--data"}


def read_from(argv: list[str], workspace: Path) -> Path | None:
    """Return the path a command line reads its photos from (the last value given), if any."""
    flag = INPUT_FLAGS.get(argv[0])
    if argv[0] == "scan":
        return workspace / argv[1]
    values = [argv[index + 1] for index in range(1, len(argv) - 1) if argv[index] == flag]
    return workspace / values[-1] if values else None


def check_inputs_untouched(argv: list[str], workspace: Path, originals: dict[str, bytes]) -> None:
    """Assert the photos are unchanged and nothing was written where this command read from.

    An --output may legitimately point into the other photo folder (predict
    --input colour --output album/out): such results are removed afterwards, so
    every example starts from the same workspace.
    """
    source = read_from(argv, workspace)
    try:
        source = source.resolve() if source is not None and source.exists() else None
    except OSError:   # a name too long, say: nothing was read from it
        source = None
    for folder, photo in INPUT_FOLDERS.items():
        assert (workspace / folder / photo).read_bytes() == originals[folder], (argv, folder)
        written = [path for path in (workspace / folder).iterdir() if path.name != photo]
        if source is not None and source.is_dir() and source == (workspace / folder).resolve():
            assert not written, (argv, written)        # never into the folder it reads
        if source is not None and source.is_file() and source.parent == (workspace / folder).resolve():
            assert not [path for path in written if path.is_file()], (argv, written)
        for path in written:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def check_command_line(argv: list[str], workspace: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("COLORIZE_OUTPUT", str(workspace / "OUTPUT"))
    originals = {folder: (workspace / folder / photo).read_bytes() for folder, photo in INPUT_FOLDERS.items()}
    code = cli.main(argv)
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert code in (0, 1, 2), (argv, code)
    assert "Traceback" not in shown and "Something unexpected" not in shown, (argv, shown[-1500:])
    if code == 1:
        errors = [line for line in captured.err.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, (argv, captured.err)
    check_inputs_untouched(argv, workspace, originals)


# Default suite: scan and train (flag checks and the scan; no model is loaded). A predict or
# evaluate example loads and traces a model (~5 s on the shared 2 cores): those run in the slow sweep.
@settings(max_examples=30, **FUZZ_SETTINGS)
@given(argv=command_lines(("scan", "train")))
def test_cli_under_random_flag_values_exits_0_1_or_2_without_traceback(argv, workspace, monkeypatch, capsys):
    check_command_line(argv, workspace, monkeypatch, capsys)


@pytest.mark.slow
@settings(max_examples=150, **FUZZ_SETTINGS)
@given(argv=command_lines())
def test_cli_under_many_random_flag_values_exits_0_1_or_2_without_traceback(argv, workspace, monkeypatch, capsys):
    check_command_line(argv, workspace, monkeypatch, capsys)


# '~0' from a shell that leaves it as typed: no user 0, so no home folder to expand it to.
# Path.expanduser() raised RuntimeError on it ("Something unexpected", issue 14).
UNKNOWN_HOME_COMMANDS = [
    ["scan", "~0"],
    ["predict", "--model", "tiny.keras", "--input", "album", "--output", "~0"],
    ["predict", "--model", "tiny.keras", "--input", "~0/photos"],
    ["predict", "--model", "~0/tiny.keras", "--input", "album"],
    ["evaluate", "--model", "tiny.keras", "--data", "colour", "--output", "~0"],
    ["evaluate", "--model", "tiny.keras", "--data", "~0"],
    ["train", "--data", "~0", "--preset", "tiny"],
    ["train", "--data", "TRIO", "--output", "~0/runs", "--preset", "tiny", "--epochs", "1"],
]


@pytest.mark.parametrize("argv", UNKNOWN_HOME_COMMANDS, ids=lambda argv: " ".join(argv))
def test_a_home_folder_that_does_not_exist_is_one_clear_line(argv, workspace, tmp_path, monkeypatch, capsys):
    trio = tmp_path / "trio"   # enough photos to get past the split to the run folder
    for index in range(3):
        save_image(trio / f"photo{index}.png", colorful_image(40, 40, seed=index))
    argv = [str(trio) if value == "TRIO" else value for value in argv]
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("COLORIZE_OUTPUT", str(tmp_path / "OUTPUT"))
    code = cli.main(argv)
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("Error:")]
    assert code == 1 and len(errors) == 1, captured.out + captured.err
    assert "Cannot tell which home folder ~0 is" in errors[0] and "type the full path" in errors[0]
    assert not any(path.name.startswith("~") for path in [*workspace.iterdir(), *tmp_path.iterdir()])


def test_closed_output_pipe_ends_quietly_and_writes_no_error_log(tmp_path):
    for index in range(300):
        (tmp_path / "data" / f"notes{index:03d}.txt").parent.mkdir(exist_ok=True)
        (tmp_path / "data" / f"notes{index:03d}.txt").write_text("x")
    reader, writer = os.pipe()
    os.close(reader)   # `colorize scan --json | head -0`: nobody reads
    process = subprocess.run([sys.executable, "-m", "colorize", "scan", "--json", "data"], stdout=writer,
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=120,
                             env=dict(os.environ, NO_COLOR="1"))
    os.close(writer)
    assert process.returncode == 1
    assert process.stderr == ""
    assert not (tmp_path / "OUTPUT").exists()


# --- Ctrl-C during work and at every training question -------------------------------------

@pytest.mark.slow
def test_ctrl_c_while_colourising_keeps_only_whole_files_and_the_same_command_continues(tmp_path, workspace):
    photos = tmp_path / "photos"
    for index in range(60):
        save_image(photos / f"old{index:02d}.png", colorful_image(400, 300, seed=index)[..., 0])
    command = [sys.executable, "-m", "colorize", "predict", "--model", str(workspace / "tiny.keras"),
               "--input", str(photos), "--output", str(tmp_path / "out"), "--batch-size", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, NO_COLOR="1"))
    deadline = time.monotonic() + 300
    while not list((tmp_path / "out").glob("old*.png")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr and "Interrupted" in stderr
    done = sorted((tmp_path / "out").glob("old*.png"))
    assert 1 <= len(done) < 60
    assert not list((tmp_path / "out").rglob("*partial*"))
    kept = {path.name: path.stat().st_mtime_ns for path in done}
    for path in done:
        with Image.open(path) as image:
            image.load()
    again = run_colorize(*command[3:])
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / "out").glob("old*.png"))) == 60
    assert all((tmp_path / "out" / name).stat().st_mtime_ns == mtime for name, mtime in kept.items())


def train_answers(folder: Path) -> list[str]:
    """The wizard's training questions up to starting the training (see test_wizard.train_answers)."""
    return ["1", "1", "n", str(folder), "n", "8", "", "cpu", "32", "n", "1", "3", "y", ""]


@pytest.mark.slow
def test_ctrl_c_at_every_training_question_exits_130(tmp_path):
    folder = tmp_path / "colour"
    for index in range(12):
        save_image(folder / f"img{index:02d}.png", colorful_image(32, 32, seed=index))
    given = train_answers(folder)
    for cut in range(len(given)):
        child = pexpect.spawn(sys.executable, ["-m", "colorize"], cwd=str(tmp_path), encoding="utf-8",
                              timeout=180, env=dict(os.environ, NO_COLOR="1",
                                                    COLORIZE_OUTPUT=str(tmp_path / "OUTPUT")))
        for answer in given[:cut]:
            child.expect(r"\]?: ")
            child.sendline(answer)
        child.expect(r"\]?: $" if cut else "What would you like to do?")
        press_ctrl_c(child)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 130, (cut, child.before)
        assert "Interrupted" in child.before and "Traceback" not in child.before, (cut, child.before)
    assert not list((tmp_path / "OUTPUT").rglob("model.keras")) if (tmp_path / "OUTPUT").exists() else True
