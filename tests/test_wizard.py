"""The wizard (`python -m colorize` without arguments), driven through stdin and a real pty.

Subprocess runs check what a person sees; the end-of-input sweeps run the wizard
in process (sys.stdin swapped) so TensorFlow is imported once, not per answer.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pexpect
from hypothesis import event, given, settings
from hypothesis import strategies as st
import pytest

from colorize.constants import MIN_CROPS_PER_EPOCH
from conftest import FUZZ_SETTINGS, REPO_ROOT, colorful_image, press_ctrl_c, run_colorize, save_image

MENU_PROMPT = "What would you like to do?"


def answers(*lines: str) -> str:
    """Return stdin text that types each answer and presses Enter."""
    return "".join(f"{line}\n" for line in lines)


def assert_clean(result, code: int = 0) -> None:
    """The run ended with `code` and no traceback anywhere."""
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr


def run_wizard_in_process(monkeypatch, capsys, stdin_text: str) -> tuple[int, str]:
    """Run the wizard with `stdin_text` as input; return (exit code, stderr + stdout)."""
    from colorize.frontends.wizard import run_wizard

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin_text))
    code = run_wizard()
    captured = capsys.readouterr()
    return code, captured.err + captured.out


# --- the main menu ---------------------------------------------------------------

def test_menu_quit_says_goodbye_and_exits_0():
    result = run_colorize(stdin=answers("q"))
    assert_clean(result)
    assert "1  train a model" in result.stdout and MENU_PROMPT in result.stdout
    assert "[2]" in result.stdout
    assert "Goodbye." in result.stdout


def test_menu_garbage_is_reasked_with_the_options():
    result = run_colorize(stdin=answers("4", "train", "ünïcødé ☃", "x" * 10000, "Q"))
    assert_clean(result)
    assert result.stdout.count("Not an option: type 1, 2, 3 or q") == 3
    assert "too long (10000 characters)" in result.stdout


def test_undecodable_input_bytes_are_an_invalid_answer(tmp_path):
    import subprocess

    result = subprocess.run([sys.executable, "-m", "colorize"], input=b"\xff\xfe\x80\nq\n",
                            capture_output=True, env=dict(os.environ, NO_COLOR="1"), timeout=60)
    assert result.returncode == 0
    assert b"Not an option" in result.stdout and b"Traceback" not in result.stderr


def test_end_of_input_at_the_first_question_exits_0_with_one_goodbye():
    result = run_colorize(stdin="")
    assert_clean(result)
    assert result.stdout.rstrip().endswith("End of input. Goodbye.")


# --- a real terminal: colours, NO_COLOR, Ctrl-C ------------------------------------

def spawn_wizard(env_changes: dict | None = None) -> pexpect.spawn:
    """Start `python -m colorize` in a pseudo-terminal."""
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    env.update(env_changes or {})
    return pexpect.spawn(sys.executable, ["-m", "colorize"], cwd=str(REPO_ROOT), env=env,
                         encoding="utf-8", timeout=60)


def test_terminal_shows_colours_prompts_magenta():
    child = spawn_wizard()
    child.expect_exact(MENU_PROMPT)
    shown = child.before
    child.expect_exact(": ")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "\x1b[35m" in shown          # magenta prompt
    assert "\x1b[32m" in shown          # green banner


def test_terminal_with_no_color_has_no_escape_codes():
    child = spawn_wizard({"NO_COLOR": "1"})
    child.expect_exact(MENU_PROMPT)
    child.sendline("nonsense")
    child.expect_exact("Not an option")
    child.sendline("q")
    child.expect(pexpect.EOF)
    everything = child.before
    child.close()
    assert child.exitstatus == 0
    assert "\x1b[" not in everything


def test_ctrl_c_at_a_prompt_exits_130_with_a_goodbye():
    child = spawn_wizard({"NO_COLOR": "1"})
    child.expect_exact(MENU_PROMPT)
    child.expect_exact(": ")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Interrupted. Goodbye." in child.before
    assert "Traceback" not in child.before


def test_ctrl_d_at_a_prompt_in_a_terminal_exits_0():
    child = spawn_wizard({"NO_COLOR": "1"})
    child.expect_exact(MENU_PROMPT)
    child.expect_exact(": ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "End of input. Goodbye." in child.before


def test_ctrl_c_at_the_model_question_exits_130():
    child = spawn_wizard({"NO_COLOR": "1"})
    child.expect_exact(MENU_PROMPT)
    child.sendline("2")
    child.expect("Model.*: ")
    press_ctrl_c(child)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Interrupted. Goodbye." in child.before and "Traceback" not in child.before


# --- tiny data made in the tests ---------------------------------------------------

def gray_photos(folder: Path, count: int = 3) -> Path:
    """Save `count` small grayscale PNGs (sizes not multiples of anything) into `folder`."""
    for index in range(count):
        gray = colorful_image(37 + index, 29, seed=index)[..., 0]
        save_image(folder / f"old-{index}.png", gray)
    return folder


@pytest.fixture
def training_folder(color_folder: Path) -> Path:
    """conftest's twelve 32x32 colour photos and one text file pretending to be a JPEG."""
    (color_folder / "notes.jpg").write_text("not a photo")
    return color_folder


# --- predict path ----------------------------------------------------------------

def predict_answers(model: Path, photos: Path) -> list[str]:
    """The answers that colourise `photos` with `model`, without hints, into a new run folder."""
    return ["2", str(model), str(photos), "", ""]


def test_predict_path_end_to_end_with_garbage_answers(tmp_path, tiny_model_file):
    photos = gray_photos(tmp_path / "album")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.keras").write_bytes(b"\x00garbage" * 50)
    stdin = answers("2",
                    "nowhere.keras", str(tmp_path / "notes.txt"), str(tmp_path / "broken.keras"),
                    str(tiny_model_file),
                    "nowhere", "☃" * 3, str(photos),
                    "no-such-hints", "",
                    str(tmp_path / "notes.txt"), "",
                    "q")
    result = run_colorize(stdin=stdin, env={"COLORIZE_OUTPUT": str(tmp_path / "OUTPUT")})
    assert_clean(result)
    assert "No such file: nowhere.keras" in result.stdout
    assert f"A model file ends in .keras or .h5: {tmp_path / 'notes.txt'}" in result.stdout
    assert "broken.keras" in result.stderr                   # the load failure, one red line ...
    model_questions = result.stdout.count("Model file (") + result.stdout.count("Model ('default'")
    assert model_questions >= 4                                # ... and the question again
    assert "No such file or folder: nowhere" in result.stdout
    assert "No such file or folder: no-such-hints" in result.stdout
    assert f"Not a folder: {tmp_path / 'notes.txt'}" in result.stdout
    assert "Colourised 3 photos" in result.stdout
    run_folders = list((tmp_path / "OUTPUT" / "results").iterdir())
    assert len(run_folders) == 1
    assert len(list(run_folders[0].rglob("old-*.png"))) == 3
    assert "Comparison grids: " in result.stdout and "Goodbye." in result.stdout
    assert "Open the comparison grids" not in result.stdout      # no display in a pipe


def test_predict_path_end_of_input_at_every_question(tmp_path, tiny_model_file, monkeypatch, capsys,
                                                     output_root):
    photos = gray_photos(tmp_path / "album", count=1)
    given = predict_answers(tiny_model_file, photos)
    for cut in range(len(given)):
        code, shown = run_wizard_in_process(monkeypatch, capsys, answers(*given[:cut]))
        assert code == 0, (cut, shown)
        assert shown.rstrip().endswith("End of input. Goodbye."), (cut, shown[-500:])
        assert "Traceback" not in shown
    assert not output_root.exists() or not any(output_root.rglob("*.png"))


@pytest.mark.slow
def test_ctrl_c_at_every_predict_question_exits_130(tmp_path, tiny_model_file):
    photos = gray_photos(tmp_path / "album", count=1)
    given = predict_answers(tiny_model_file, photos)
    for cut in range(len(given)):
        child = spawn_wizard({"NO_COLOR": "1", "COLORIZE_OUTPUT": str(tmp_path / "OUTPUT")})
        for answer in given[:cut]:
            child.expect(r"\]?: ")
            child.sendline(answer)
        child.expect(r"\]?: $" if cut else MENU_PROMPT, timeout=120)
        press_ctrl_c(child)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 130, (cut, child.before)
        assert "Interrupted. Goodbye." in child.before and "Traceback" not in child.before


# --- train path ------------------------------------------------------------------

def train_answers(folder: Path) -> list[str]:
    """The answers that train a small new model on `folder` for one epoch, up to starting the training."""
    return ["1", "1",                    # menu: train; start from a new model
            "n", str(folder), "y",       # not the default photos, this folder, list the bad files
            "8", "",                     # train on 8 (6 train + 2 validation), the default test count
            "cpu", "32", "n",            # model, crop size, no advanced settings
            "1",                         # epochs (after the time estimate)
            "1", "y", ""]                # the diagram, keep the best by val_loss


BEFORE_THE_ESTIMATE = 10   # answers up to the advanced question; the next one starts measuring


@pytest.mark.slow  # 35-60 s on the shared 2 cores: a time estimate, one epoch, evaluation, report
def test_train_path_end_to_end_with_garbage_answers(training_folder, tmp_path):
    given = train_answers(training_folder)
    broken_model = tmp_path / "broken.keras"
    broken_model.write_bytes(b"PK\x03\x04 not really a zip")
    garbage_before = {1: ["maybe", "2", str(broken_model)], 3: ["/nowhere/at/all"],
                      5: ["many", "0", "12", "x" * 10000], 7: ["huge", "TINY2", "tiny"], 8: ["33", "8"],
                      9: ["perhaps"], 10: ["1.5", "-1"], 12: ["maybe"]}
    typed = []
    for index, answer in enumerate(given):
        typed += garbage_before.get(index, []) + [answer]
    result = run_colorize(stdin=answers(*typed, "q"), env={"COLORIZE_OUTPUT": str(tmp_path / "OUTPUT")})
    assert_clean(result)
    out = result.stdout
    assert "No such file or folder: /nowhere/at/all" in out
    assert "notes.jpg" in out                                   # the bad file, listed on request
    assert out.count("Enter a number between 2 and 11") == 3
    assert "too long (10000 characters)" in out
    assert out.count("Not an option: type pretrained, cpu, gpu or large") == 3   # tiny is for tests only
    assert "Enter a multiple of 8 between 16 and 2048" in out
    assert out.count("Enter a number between 1 and 1000") == 2
    assert out.count("Answer y (yes) or n (no).") == 2
    assert "broken.keras" in result.stderr                      # a bad model: one red line ...
    assert out.count("Start from?") == 3                         # ... and the question again ("maybe": twice)
    assert "No diagram: drawing one needs the pydot package" in out or "Diagram saved" in out
    assert "No model diagram" not in out          # told once, at "See the model?", not again after training
    # Measured once, by the wizard; train_model reuses it rather than measuring again.
    assert out.count("Measuring how fast") == 1 and out.count("Training will take") == 1
    assert "gray baseline" in out and "Training finished." in out
    models = list((tmp_path / "OUTPUT" / "models").rglob("model.keras"))
    assert len(models) == 1
    assert str(models[0]) in out and "Goodbye." in out


def test_too_few_photos_is_one_red_line_and_back_to_the_dataset_question(tmp_path):
    folder = tmp_path / "two"
    for index in range(2):
        save_image(folder / f"img{index}.png", colorful_image(32, 32, seed=index))
    result = run_colorize(stdin=answers("1", "1", "n", str(folder)))
    assert_clean(result)
    assert "Only 2 usable colour photos" in result.stderr
    assert result.stdout.count("Train on the default photos") == 2
    assert "End of input. Goodbye." in result.stdout


def end_of_input_sweep(cuts, folder: Path, monkeypatch, capsys) -> None:
    """Cut the train answers after each count in `cuts`: exit 0, goodbye, no traceback."""
    given = train_answers(folder)
    for cut in cuts:
        code, shown = run_wizard_in_process(monkeypatch, capsys, answers(*given[:cut]))
        assert code == 0, (cut, shown[-2000:])
        assert shown.rstrip().endswith("End of input. Goodbye."), (cut, shown[-500:])
        assert "Traceback" not in shown


def test_train_path_end_of_input_before_the_time_estimate(training_folder, monkeypatch, capsys,
                                                          output_root):
    end_of_input_sweep(range(0, BEFORE_THE_ESTIMATE), training_folder, monkeypatch, capsys)
    assert not (output_root / "models").exists()


@pytest.mark.slow
def test_train_path_end_of_input_at_every_later_question(training_folder, monkeypatch, capsys, output_root):
    end_of_input_sweep(range(BEFORE_THE_ESTIMATE, len(train_answers(training_folder))), training_folder,
                       monkeypatch, capsys)
    assert not (output_root / "models").exists()


def test_unexpected_error_goes_to_the_log_with_one_line(training_folder, monkeypatch, capsys, output_root):
    from colorize import dataset

    def broken_scan(*args, **kwargs):
        raise RuntimeError("injected fault in the scanner")

    monkeypatch.setattr(dataset, "scan_dataset", broken_scan)  # fault injection, not a stand-in
    code, shown = run_wizard_in_process(monkeypatch, capsys, answers("1", "1", "n", str(training_folder)))
    assert code == 1
    assert "Something unexpected went wrong; the details are in" in shown
    assert "Traceback" not in shown
    log = (output_root / "colorize-error.log").read_text()
    assert "RuntimeError: injected fault in the scanner" in log


# --- fuzz: random answers never crash the wizard -------------------------------------

@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory, tiny_model_file) -> Path:
    """A working folder with a tiny model and an album of two gray photos."""
    folder = tmp_path_factory.mktemp("fuzz")
    gray_photos(folder / "album", count=2)
    (folder / "tiny.keras").write_bytes(tiny_model_file.read_bytes())
    (folder / "notes.txt").write_text("hello")
    return folder


# "1" and "3" start training (minutes, on the default dataset), so they are the answers left out.
garbage_answers = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "2", "q", "y", "n", "default", "notes.txt", "nowhere.keras", "album", "x" * 2000,
                     "☃", "\x00", "-5", "2" * 30]),
).map(lambda text: text.replace("\n", " ").replace("\r", " ")).filter(lambda text: text.strip() not in ("1", "3"))
# The colourise path's questions in order, each with answers that move it on.
PREDICT_STEPS = (["2", ""], ["tiny.keras"], ["album", ".", "album/old-0.png"], ["", "none"], ["", "new", "results"],
                 ["q", "Q", "", "2"])


@st.composite
def wizard_sessions(draw) -> list[str]:
    """Answers along the colourise path with garbage before each, cut off anywhere."""
    lines: list[str] = []
    for step_answers in PREDICT_STEPS:
        lines += draw(st.lists(garbage_answers, max_size=2))
        lines.append(draw(st.sampled_from(step_answers)))
    return lines[:draw(st.integers(0, len(lines)))]


def check_random_session(lines: list[str], folder: Path, monkeypatch, capsys) -> None:
    """Run the wizard on `lines` in `folder`: it ends with exit 0 and a goodbye, never a traceback."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("COLORIZE_OUTPUT", str(folder / "OUTPUT"))
    code, shown = run_wizard_in_process(monkeypatch, capsys, answers(*lines))
    assert code == 0, shown[-2000:]
    assert "Traceback" not in shown and "Something unexpected" not in shown
    assert shown.rstrip().endswith("Goodbye.")
    event("colourised" if "Colourised" in shown else "asked only")


@settings(max_examples=12, **FUZZ_SETTINGS)
@given(lines=wizard_sessions())
def test_wizard_under_random_answers_ends_cleanly(lines, fuzz_folder, monkeypatch, capsys):
    check_random_session(lines, fuzz_folder, monkeypatch, capsys)


@pytest.mark.slow
@settings(max_examples=300, **FUZZ_SETTINGS)
@given(lines=wizard_sessions())
def test_wizard_under_many_random_answers_ends_cleanly(lines, fuzz_folder, monkeypatch, capsys):
    check_random_session(lines, fuzz_folder, monkeypatch, capsys)


# --- the train path's question order (issue 14) ----------------------------------------

def positions(text: str, *questions: str) -> list[int]:
    """Return where each question first shows in `text` (-1 when it never does)."""
    return [text.find(question) for question in questions]


def test_train_path_asks_new_or_saved_first_and_words_its_questions_for_people(training_folder):
    given = ["1", "1", "n", str(training_folder), "n", "8", "", "", ""]   # up to the crop size, then end
    result = run_colorize(stdin=answers(*given))
    assert_clean(result)
    out = result.stdout
    order = positions(out, "Start from?", "Train on the default photos", "How many photos to train on",
                      "keep aside for the final test", "Which model?", "Training crop size",
                      "Change advanced settings")
    assert -1 not in order and order == sorted(order), order
    assert "starts from a network that already knows objects" in out
    assert "Which model? [pretrained]" in out
    assert "  tiny" not in out and "tests only" not in out           # tiny is for tests, not offered
    assert "results keep each photo's own size" in out
    assert "Training crop size in pixels" in out and "Enter a multiple" not in out


def test_continuing_a_saved_model_skips_the_model_size_and_takes_its_multiple(training_folder,
                                                                             tiny_model_file):
    given = ["1", "2", str(tiny_model_file), "n", str(training_folder), "n", "8", "", "33", "32", "n"]
    result = run_colorize(stdin=answers(*given))        # ends at the epochs question, after the estimate
    assert_clean(result)
    out = result.stdout
    assert "Which model?" not in out and "Looking at the hardware" not in out
    assert "Enter a multiple of 2 between 16 and 2048" in out            # the tiny U-Net's own multiple
    assert f"at least {MIN_CROPS_PER_EPOCH} random crops" in out and "not one pass over the photos" in out
    assert "How many epochs? [30]" in out
    assert out.index("Checking the model") < out.index("Train on the default photos")


def test_advanced_settings_are_asked_only_on_request(monkeypatch, capsys):
    from colorize.config import TrainConfig
    from colorize.frontends.wizard import ask_advanced_settings

    config = TrainConfig(preset="tiny", image_size=32, batch_size=4)
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers("")))
    assert ask_advanced_settings(config) == config
    assert "Photos per training step" not in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers("y", "0", "2", "7", "y")))
    changed = ask_advanced_settings(config)
    assert (changed.batch_size, changed.seed, changed.save_h5) == (2, 7, True)
    assert "Enter a number between 1 and" in capsys.readouterr().out


def graphviz_is_installed() -> bool:
    import shutil

    try:
        import pydot  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def test_see_the_model_saves_a_real_diagram_or_says_it_cannot_and_prints_the_summary(monkeypatch, capsys,
                                                                                       output_root):
    from colorize.config import TrainConfig
    from colorize.frontends.wizard import show_model_overview

    monkeypatch.setattr(sys, "stdin", io.StringIO(answers("1")))
    show_model_overview(TrainConfig(preset="tiny", image_size=32, batch_size=4))
    out = capsys.readouterr().out
    if graphviz_is_installed():
        diagram = output_root / "diagrams" / "tiny.png"
        assert f"Diagram saved: {diagram}" in out and diagram.read_bytes().startswith(b"\x89PNG")
    else:
        assert "No diagram: drawing one needs the pydot package and Graphviz" in out
        assert "bottleneck" in out and "Total params" in out             # the summary instead
        assert not (output_root / "diagrams" / "tiny.png").exists()


def test_training_leaves_out_the_run_reports_missing_diagram_note_but_shows_the_rest(tmp_path, capsys):
    """Issue 25: whoever answered "neither" (or "summary") to "See the model?" did not ask for a
    diagram, and whoever asked was told then; the note stays in summary.txt."""
    from colorize.evaluation.report import save_model_diagram
    from colorize.frontends.wizard import training_notify
    from tiny_models import build_ab_model

    (tmp_path / "not-a-folder").write_text("x")   # model.png cannot be written here, Graphviz or not
    note = save_model_diagram(build_ab_model(), tmp_path / "not-a-folder" / "model.png")
    assert note and "Graphviz" in note
    training_notify(note)
    training_notify("Saved the model: model.keras")
    out = capsys.readouterr().out
    assert "Graphviz" not in out and "Saved the model: model.keras" in out


def test_pictures_are_offered_only_at_a_desktop_terminal_and_never_in_ci(monkeypatch):
    from colorize.frontends import wizard_questions

    class TerminalInput(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", TerminalInput())
    monkeypatch.setattr(sys, "stdout", TerminalInput())
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    assert wizard_questions.can_show_pictures()
    monkeypatch.setenv("CI", "true")
    assert not wizard_questions.can_show_pictures()
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys, "stdin", io.StringIO())        # answers from a pipe: nobody is looking
    assert not wizard_questions.can_show_pictures()
    monkeypatch.setattr(sys, "stdin", TerminalInput())
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setattr(sys, "platform", "linux")
    assert not wizard_questions.can_show_pictures()


def test_at_a_desktop_the_wizard_offers_to_open_the_grids(tmp_path, tiny_model_file):
    photos = gray_photos(tmp_path / "album", count=1)
    env = {"NO_COLOR": "1", "DISPLAY": ":99", "COLORIZE_OUTPUT": str(tmp_path / "OUTPUT"), "CI": ""}
    child = spawn_wizard(env)
    for answer in ["2", str(tiny_model_file), str(photos), "", ""]:
        child.expect(r"\]?: ")
        child.sendline(answer)
    child.expect_exact("Open the comparison grids now?", timeout=180)
    child.sendline("n")
    child.expect_exact(MENU_PROMPT)
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in child.before
