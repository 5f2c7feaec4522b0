"""The wizard (`python -m colorize` without arguments), driven through stdin and a real pty.

Subprocess runs check what a person sees; the end-of-input sweeps run the wizard
in process (sys.stdin swapped) so TensorFlow is imported once, not per answer.
"""

from __future__ import annotations

import io
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pexpect
import pytest

from conftest import REPO_ROOT, colorful_image, run_colorize, save_image

MENU_PROMPT = "What would you like to do?"


def answers(*lines: str) -> str:
    """Return stdin text that types each answer and presses Enter."""
    return "".join(f"{line}\n" for line in lines)


def assert_clean(result, code: int = 0) -> None:
    """The run ended with `code` and no traceback anywhere."""
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr


def run_wizard_in_process(monkeypatch, capsys, stdin_text: str) -> tuple[int, str]:
    """Run the wizard with `stdin_text` as input; return (exit code, stdout + stderr)."""
    from colorize.wizard import run_wizard

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin_text))
    code = run_wizard()
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# --- the main menu ---------------------------------------------------------------

def test_menu_quit_says_goodbye_and_exits_0():
    result = run_colorize(stdin=answers("q"))
    assert_clean(result)
    assert "1  train a model" in result.stdout and MENU_PROMPT in result.stdout
    assert "[2]" in result.stdout
    assert "Goodbye." in result.stdout


def test_menu_garbage_is_reasked_with_the_options():
    result = run_colorize(stdin=answers("3", "train", "ünïcødé ☃", "x" * 10000, "Q"))
    assert_clean(result)
    assert result.stdout.count("Not an option: type 1, 2 or q") == 3
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
