"""The wizard's prompt functions, in process: answers come from a swapped sys.stdin."""

from __future__ import annotations

import io
import string
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colorize.frontends import console


def feed(monkeypatch, *answers: str) -> None:
    """Make the next prompts read `answers`, one line each, then end of input."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{answer}\n" for answer in answers)))


# --- ask_int ----------------------------------------------------------------

def test_ask_int_enter_takes_the_default_shown_in_brackets(monkeypatch, capsys):
    feed(monkeypatch, "")
    assert console.ask_int("How many images", 10, 240, 50) == 50
    assert "How many images [50]: " in capsys.readouterr().out


def test_ask_int_reasks_letters_out_of_range_and_unicode_digits(monkeypatch, capsys):
    feed(monkeypatch, "twelve", "9", "241", "١٢", "1_0", "3.5", " 12 ")
    assert console.ask_int("How many images", 10, 240, 50) == 12
    out = capsys.readouterr().out
    assert out.count("Enter a number between 10 and 240") == 6


def test_ask_int_refuses_a_10000_character_line(monkeypatch, capsys):
    feed(monkeypatch, "7" * 10000, "")
    assert console.ask_int("Epochs", 1, 100, 5) == 5
    assert "too long (10000 characters)" in capsys.readouterr().out


def test_ask_int_multiple_of_reasks_with_the_rule(monkeypatch, capsys):
    feed(monkeypatch, "33", "48")
    assert console.ask_int("Image size", 32, 256, 64, multiple_of=16) == 48
    assert "Enter a multiple of 16 between 32 and 256" in capsys.readouterr().out


def test_ask_int_rejects_a_default_outside_its_own_bounds():
    with pytest.raises(ValueError):
        console.ask_int("Epochs", 1, 10, 11)


# --- ask_choice and ask_yes_no -----------------------------------------------

def test_ask_choice_lists_options_and_reasks_with_the_keys(monkeypatch, capsys):
    feed(monkeypatch, "3", "train", "Q")
    choice = console.ask_choice("What to do", {"1": "train", "2": "colourise", "q": "quit"}, "2")
    assert choice == "q"
    out = capsys.readouterr().out
    assert "colourise" in out and "[2]: " in out
    assert out.count("Not an option: type 1, 2 or q") == 2


def test_ask_choice_enter_takes_the_default(monkeypatch):
    feed(monkeypatch, "")
    assert console.ask_choice("Preset", {"tiny": "a", "cpu": "b"}, "cpu") == "cpu"


@pytest.mark.parametrize("answer, expected", [("y", True), ("YES", True), ("Yes", True),
                                              ("n", False), ("NO", False), ("nO", False)])
def test_ask_yes_no_accepts_y_yes_n_no_in_any_case(monkeypatch, answer, expected):
    feed(monkeypatch, answer)
    assert console.ask_yes_no("Save the best model", default=not expected) is expected


def test_ask_yes_no_reasks_other_words_and_shows_its_default(monkeypatch, capsys):
    feed(monkeypatch, "maybe", "oui", "")
    assert console.ask_yes_no("Use the default dataset", default=True) is True
    out = capsys.readouterr().out
    assert "(y/n) [y]: " in out
    assert out.count("Answer y (yes) or n (no).") == 2


# --- ask_path and ask_text ---------------------------------------------------

def test_ask_path_reasks_unknown_paths_and_wrong_kinds(monkeypatch, capsys, tmp_path):
    a_file = tmp_path / "photo.png"
    a_file.write_bytes(b"x")
    feed(monkeypatch, str(tmp_path / "nowhere"), str(a_file), f"'{tmp_path}'")
    assert console.ask_path("Photos folder", kind="folder") == tmp_path
    out = capsys.readouterr().out
    assert f"No such folder: {tmp_path / 'nowhere'}" in out
    assert f"Not a folder: {a_file}" in out


def test_ask_path_file_kind_and_nul_bytes(monkeypatch, capsys, tmp_path):
    a_file = tmp_path / "model.keras"
    a_file.write_bytes(b"x")
    feed(monkeypatch, "bad\x00name", str(tmp_path), str(a_file))
    assert console.ask_path("Model file", kind="file") == a_file
    out = capsys.readouterr().out
    assert "A path cannot contain a NUL character." in out and f"Not a file: {tmp_path}" in out


def test_ask_path_may_name_a_new_path_and_needs_an_answer(monkeypatch, capsys, tmp_path):
    feed(monkeypatch, "", str(tmp_path / "new"))
    assert console.ask_path("Results folder", must_exist=False, kind="folder") == tmp_path / "new"
    assert "An answer is needed here." in capsys.readouterr().out


def test_ask_text_runs_the_validator_until_it_passes(monkeypatch, capsys):
    def must_be_lowercase(answer: str) -> None:
        if answer != answer.lower():
            raise console.InvalidResponse("Use lower case.")

    feed(monkeypatch, "ABC", "abc")
    assert console.ask_text("Name", default="x", validate=must_be_lowercase) == "abc"
    assert "Use lower case." in capsys.readouterr().out


# --- end of input, unreadable bytes, colours ---------------------------------

@pytest.mark.parametrize("ask", [
    lambda: console.ask_int("n", 1, 5, 2),
    lambda: console.ask_choice("c", {"1": "a"}, "1"),
    lambda: console.ask_yes_no("y", True),
    lambda: console.ask_path("p"),
    lambda: console.ask_text("t", "d"),
])
def test_end_of_input_raises_eoferror_even_after_bad_answers(monkeypatch, ask):
    feed(monkeypatch, "∞ not valid ∞" * 3)
    with pytest.raises(EOFError):
        while True:  # a valid first answer (text) returns; ask again until input ends
            ask()


def test_undecodable_bytes_are_an_invalid_answer_not_a_crash(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xff\xfe\n"), encoding="utf-8"))
    with pytest.raises(EOFError):
        console.ask_int("n", 1, 5, 2)
    assert "not readable text" in capsys.readouterr().out


def test_no_colour_when_no_color_is_set_or_not_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert console.use_color(Terminal())
    assert not console.use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not console.use_color(Terminal())
    assert console.paint("hi", "\x1b[35m", Terminal()) == "hi"


# --- fuzz: random answers never raise anything but the re-ask -------------------

answers = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.digits + "+-_. ", max_size=8),
    st.sampled_from(["", "y", "No", "q", "1", "2", "0", "-1", "9" * 30, "x" * 2000, "١٢", "\x00", "~"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(answers.map(lambda text: text.replace("\n", " ").replace("\r", " ")), max_size=6))
def test_prompts_under_random_answers_return_valid_values_or_end_of_input(monkeypatch, lines):
    prompts = [
        (lambda: console.ask_int("n", 2, 20, 4, multiple_of=2), lambda v: 2 <= v <= 20 and v % 2 == 0),
        (lambda: console.ask_choice("c", {"1": "a", "2": "b", "q": "c"}, "q"), lambda v: v in ("1", "2", "q")),
        (lambda: console.ask_yes_no("y", False), lambda v: v in (True, False)),
        (lambda: console.ask_path("p", kind="folder", default="."), lambda v: v.is_dir()),
        (lambda: console.ask_text("t", None), lambda v: bool(v)),
    ]
    for ask, is_valid in prompts:
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
        try:
            value = ask()
        except EOFError:
            continue
        assert is_valid(value)


def test_a_path_with_a_nul_character_is_re_asked_even_when_it_need_not_exist():
    # Found by the slow wizard fuzz: a results folder "a\x00b" reached Path.resolve() and crashed.
    with pytest.raises(console.InvalidResponse, match="NUL"):
        console.check_path("res\x00ults", must_exist=False, kind="folder")


def test_a_path_under_an_unknown_home_folder_is_re_asked():
    # Found by the wizard fuzz: a results folder "~0" passed here and Path.expanduser() raised later.
    with pytest.raises(console.InvalidResponse, match="home folder ~0"):
        console.check_path("~0/results", must_exist=False, kind="folder")
