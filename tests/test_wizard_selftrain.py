"""The wizard's self-training path (issue 16): improve a model with photos that have no colour.

Subprocess runs (a pseudo-terminal for Ctrl-C) check what a person sees; the
end-of-input sweep runs the wizard in process (sys.stdin swapped) so TensorFlow
is imported once, not per answer. The teacher is a tiny real Keras model saved
to disk; the photos are tiny PNGs.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from conftest import REPO_ROOT, colorful_image, press_ctrl_c, run_colorize, save_image
from tiny_models import build_ab_model, build_rgb_model, save_model

ALBUM_QUESTION = "Folder or .zip of your photos without colour"
TEACHER_QUESTION = "Model that colours your photos first"


def answers(*lines: str) -> str:
    """Return stdin text that types each answer and presses Enter."""
    return "".join(f"{line}\n" for line in lines)


def assert_clean(result, code: int = 0) -> None:
    """The run ended with `code` and no traceback anywhere."""
    assert result.returncode == code, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr


def gray_album(folder: Path, count: int = 3) -> Path:
    """Save `count` small grayscale PNGs (sides not multiples of anything) into `folder`."""
    for index in range(count):
        save_image(folder / f"old-{index}.png", colorful_image(37 + index, 29, seed=index)[..., 0])
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """A tiny ab model (a usable teacher) and a tiny RGB model (not one), saved as .keras."""
    folder = tmp_path_factory.mktemp("models")
    return {"teacher": save_model(build_ab_model(), folder / "teacher.keras"),
            "rgb": save_model(build_rgb_model(), folder / "rgb.keras")}


def self_training_answers(teacher: Path, album: Path, colour: Path) -> list[str]:
    """The answers that self-train a cpu student for 1 round of 1 epoch at 32 px, up to the training."""
    return ["3", str(teacher), str(album),      # menu: improve a model; the teacher; the photos without colour
            "n", str(colour),                   # not the default colour photos, this folder (no bad files in it)
            "cpu", "1", "32",                   # the small student, 1 round, 32 px crops
            "1"]                                # epochs per round (after the time estimate)


AT_THE_EPOCHS = 8   # answers before the epochs question, which comes after the time is measured


# 40-55 s on the shared 2 cores: the teacher scored, the album coloured, one epoch, the student scored.
def test_self_training_path_end_to_end(tmp_path, models, color_folder):
    album = gray_album(tmp_path / "album")
    output = tmp_path / "OUTPUT"
    given = self_training_answers(models["teacher"], album, color_folder)
    result = run_colorize(stdin=answers(*given, "q"), env={"COLORIZE_OUTPUT": str(output)})
    assert_clean(result)
    out = result.stdout
    assert "Photos without colour can teach a model too." in out
    assert "3 photos to colour in" in out
    assert "a smaller, faster model that learns from the bigger one" in out
    assert "How many epochs per round? [30]" in out
    round_model = output / "models" / "self-training-round-1" / "model.keras"
    assert round_model.is_file()
    folder = output / "models" / "self-training"
    record = json.loads((folder / "rounds.json").read_text())
    assert [entry["round"] for entry in record["rounds"]] == [1]
    assert record["settings"]["preset"] == "cpu" and record["settings"]["rounds"] == 1
    assert (folder / "summary.txt").is_file()
    table = out[out.index("The teacher and each round's student"):]
    assert "\n  teacher " in table and "\n  round 1 " in table and "\n  gray " in table
    assert str(round_model) in out and "Training finished." in out
    assert f"Every round's figures: {folder / 'summary.txt'}" in out and "Goodbye." in out


def test_photos_without_colour_that_cannot_be_used_are_asked_again_with_a_reason(tmp_path, models):
    empty = tmp_path / "empty"
    empty.mkdir()
    notes_only = tmp_path / "notes"
    (notes_only / "letter.txt").parent.mkdir()
    (notes_only / "letter.txt").write_text("Dear Anna, the photos are in the blue box.")
    album = gray_album(tmp_path / "album")
    stdin = answers("3", str(models["teacher"]), str(tmp_path / "nowhere"), str(empty), str(notes_only), str(album))
    result = run_colorize(stdin=stdin, env={"COLORIZE_OUTPUT": str(tmp_path / "OUTPUT")})
    assert_clean(result)                                       # ends at the colour photos question
    assert f"No such file or folder: {tmp_path / 'nowhere'}" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 2, result.stderr                     # one line for each folder with nothing usable
    assert str(empty) in errors[0] and "no files" in errors[0]
    assert str(notes_only) in errors[1] and "none of them a readable photo" in errors[1]
    assert result.stdout.count(ALBUM_QUESTION) == 4
    assert f"3 photos to colour in {album}" in result.stdout
    assert "Train on the default photos" in result.stdout      # the album accepted, the next question asked
    assert result.stdout.rstrip().endswith("End of input. Goodbye.")


def test_a_teacher_that_is_not_a_colorize_model_is_asked_again(tmp_path, models):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"\x00garbage" * 50)
    stdin = answers("3", str(notes), str(broken), str(models["rgb"]), str(models["teacher"]))
    result = run_colorize(stdin=stdin, env={"COLORIZE_OUTPUT": str(tmp_path / "OUTPUT")})
    assert_clean(result)                                       # ends at the album question
    assert f"A model file ends in .keras or .h5: {notes}" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 2, result.stderr
    assert "broken.keras" in errors[0]
    assert "RGB colouriser" in errors[1]
    assert result.stdout.count(TEACHER_QUESTION) == 4
    assert ALBUM_QUESTION in result.stdout                     # the good teacher accepted
    assert result.stdout.rstrip().endswith("End of input. Goodbye.")


def test_end_of_input_at_every_self_training_question_leaves_cleanly(tmp_path, models, color_folder,
                                                                     monkeypatch, capsys, output_root):
    from colorize.frontends.wizard import run_wizard

    given = self_training_answers(models["teacher"], gray_album(tmp_path / "album"), color_folder)
    for cut in range(1, AT_THE_EPOCHS + 1):
        monkeypatch.setattr(sys, "stdin", io.StringIO(answers(*given[:cut])))
        code = run_wizard()
        captured = capsys.readouterr()
        shown = captured.err + captured.out
        assert code == 0, (cut, shown[-2000:])
        assert captured.out.rstrip().endswith("End of input. Goodbye."), (cut, shown[-500:])
        assert "Traceback" not in shown and "Something unexpected" not in shown
    assert not (output_root / "models").exists()


def test_ctrl_c_at_the_album_question_exits_130(tmp_path, models):
    env = {key: value for key, value in os.environ.items() if key != "COLORIZE_OUTPUT"}
    env.update(NO_COLOR="1", COLORIZE_OUTPUT=str(tmp_path / "OUTPUT"))
    child = pexpect.spawn(sys.executable, ["-m", "colorize"], cwd=str(REPO_ROOT), env=env, encoding="utf-8",
                          timeout=60)
    child.expect_exact("What would you like to do?")
    child.sendline("3")
    child.expect_exact(TEACHER_QUESTION)
    child.sendline(str(models["teacher"]))
    child.expect_exact(ALBUM_QUESTION)
    child.expect_exact(": ")
    press_ctrl_c(child)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, child.before
    assert "Interrupted. Goodbye." in child.before and "Traceback" not in child.before
