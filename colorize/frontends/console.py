"""Coloured terminal output and progress for the front ends (cli, wizard).

Colours follow the wizard's convention: prompts magenta, information cyan,
warnings yellow, errors red, success green. Plain text when stdout is not a
terminal or NO_COLOR is set (https://no-color.org). On Windows consoles
colorama turns the ANSI codes on (or translates them on old consoles); it does
nothing elsewhere.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import time
from pathlib import Path

import colorama

from colorize.errors import UsageError
from colorize.frontends.interrupts import ctrl_c_ends_the_wait
from colorize.paths import expand_home

colorama.just_fix_windows_console()   # once, at import; a no-op off Windows and when already fixed


def use_color(stream=None) -> bool:
    """Return whether to colour output written to `stream`."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def paint(text: str, color: str, stream=None) -> str:
    """Return `text` wrapped in a colorama colour when colour is on."""
    if not use_color(stream):
        return text
    return f"{color}{text}{colorama.Style.RESET_ALL}"


def info(message: str) -> None:
    print(paint(message, colorama.Fore.CYAN), flush=True)


def success(message: str) -> None:
    print(paint(message, colorama.Fore.GREEN), flush=True)


def warn(message: str) -> None:
    print(paint(message, colorama.Fore.YELLOW), flush=True)


def error(message: str) -> None:
    """Print a one-line error in red on stderr."""
    print(paint(f"Error: {message}", colorama.Fore.RED, sys.stderr), file=sys.stderr, flush=True)


def plain(message: str = "") -> None:
    print(message, flush=True)


class ProgressBar:
    """A one-line progress bar with rate and time left, usable as a progress callback.

    Call it as `bar(done, total)`. Its clock starts at the first call, so making
    it before the work (a model load, training before the final evaluation) does
    not spoil the rate and time left. With `show_after_s`, nothing is shown until
    the work has run that long: a scan that ends in a second prints no bar. On a
    terminal it redraws in place; elsewhere it prints a line every ~10% so logs
    stay short. Writes to stderr so `--json` output on stdout stays clean.

    Ours, not a library's (issue 25): keras.utils.Progbar imports TensorFlow
    (~4 s; `colorize scan` must start without it) and writes to stdout, which
    would spoil `--json`. tqdm (not a dependency) starts its clock when made, not
    at the first report, and off a terminal still joins its updates with '\\r'
    into one line, so a log gets no line per 10%.
    """

    def __init__(self, label: str, unit: str = "images", stream=None, show_after_s: float = 0.0):
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.show_after_s = show_after_s
        self.start: float | None = None     # the first report
        self.last_decile = -1
        self.finished = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.start is None:
            self.start = now
        if now - self.start < self.show_after_s:
            return
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        left = (total - done) / rate if rate > 0 and total else 0.0
        fraction = done / total if total else 1.0
        text = (f"{self.label} {done}/{total} ({fraction:4.0%}) "
                f"{rate:.1f} {self.unit}/s, {left:.0f}s left")
        if self.stream.isatty():
            filled = int(fraction * 24)
            bar = "#" * filled + "-" * (24 - filled)
            self.stream.write(f"\r[{bar}] {text}  ")
            if done >= total:
                self.stream.write("\n")
        else:
            decile = int(fraction * 10)
            if decile != self.last_decile or done >= total:
                self.last_decile = decile
                if not self.finished:
                    self.stream.write(text + "\n")
        if done >= total:
            self.finished = True
        self.stream.flush()


# --- prompts (the wizard's questions) ----------------------------------------
# One function per kind of question, each re-asking with a reason until the
# answer is usable (cookiecutter's InvalidResponse pattern). End of input raises
# EOFError and Ctrl-C KeyboardInterrupt out of the prompt: the wizard turns them
# into a goodbye and exit 0 / 130.
#
# Ours, not click's prompt/confirm/IntRange/Choice/Path (issue 25; checked with
# click 8.4, not a dependency): click turns both Ctrl-C and end of input into one
# Abort, so the wizard could not tell "goodbye, exit 0" from "interrupted, 130";
# it re-asks with "Error: 'x' is not a valid integer range." / "Error: invalid
# input" (ours: "Enter a number between 1 and 20.", in red); off a terminal it
# leaves the next line glued to the prompt; it ignores NO_COLOR; and it has no
# multiple-of ranges, ASCII-only digits, answer-length cap, drag-and-drop quotes
# or path-or-word answers ("default", "new").

class InvalidResponse(Exception):
    """Raised by a validator: its message says why, and the prompt asks again."""


def read_answer(prompt: str) -> str:
    """Show `prompt`, return one line of input without its newline; EOFError at end of input.

    sys.stdin and input are looked up at each call, so tests can swap sys.stdin
    (a default argument `input_fn=input` would bind too early for tests to feed sys.stdin).
    """
    stdin = sys.stdin
    if stdin is None or stdin.closed:
        raise EOFError
    try:
        with ctrl_c_ends_the_wait():
            if stdin.isatty() and sys.stdout.isatty():
                return input(prompt)  # line editing on a terminal
            sys.stdout.write(prompt)
            sys.stdout.flush()
            line = stdin.readline()
    except UnicodeDecodeError:
        sys.stdout.write("\n")
        raise InvalidResponse("That answer is not readable text; type it again.") from None
    if not line:
        raise EOFError
    # Not a terminal: the typed line is not echoed, so end the prompt's line here.
    sys.stdout.write("\n")
    return line.rstrip("\r\n")


def show_reason(reason: str) -> None:
    """Print why an answer was refused, in red, in the dialogue's own stream (stdout)."""
    print(paint(f"  {reason}", colorama.Fore.RED), flush=True)


def _ask(question: str, default_text: str | None, convert):
    """Ask until `convert(answer)` returns without raising InvalidResponse; return its value."""
    from colorize.constants import MAX_ANSWER_CHARS

    suffix = f" [{default_text}]" if default_text is not None else ""
    prompt = paint(f"{question}{suffix}: ", colorama.Fore.MAGENTA)
    while True:
        try:
            answer = read_answer(prompt).strip()
            if len(answer) > MAX_ANSWER_CHARS:
                raise InvalidResponse(f"That answer is too long ({len(answer)} characters); type a short one.")
            if not answer:
                if default_text is None:
                    raise InvalidResponse("An answer is needed here.")
                answer = default_text
            return convert(answer)
        except InvalidResponse as reason:
            show_reason(str(reason))


def ask_text(question: str, default: str | None = None, validate=None) -> str:
    """Return the answer (or the default on Enter); `validate(answer)` may raise InvalidResponse."""
    def convert(answer: str) -> str:
        if validate is not None:
            validate(answer)
        return answer

    return _ask(question, default, convert)


def parse_whole_number(text: str) -> int:
    """Return `text` as an int: ASCII digits only (int() would accept '١٢' and '1_0')."""
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
        raise ValueError(text)
    return int(text)


def ask_int(question: str, minimum: int, maximum: int, default: int, multiple_of: int = 1) -> int:
    """Return a whole number in [minimum, maximum] (a multiple of `multiple_of`)."""
    if not (minimum <= default <= maximum and default % multiple_of == 0):
        raise ValueError(f"default {default} is not an allowed answer")
    if multiple_of > 1:
        reason = f"Enter a multiple of {multiple_of} between {minimum} and {maximum}"
    else:
        reason = f"Enter a number between {minimum} and {maximum}"

    def convert(answer: str) -> int:
        try:
            value = parse_whole_number(answer)
        except ValueError:
            raise InvalidResponse(f"{reason}.") from None
        if not minimum <= value <= maximum or value % multiple_of:
            raise InvalidResponse(f"{reason}.")
        return value

    return _ask(question, str(default), convert)


def options_text(keys) -> str:
    """Return 'a, b or c' for the keys of a choice."""
    keys = list(keys)
    return keys[0] if len(keys) == 1 else f"{', '.join(keys[:-1])} or {keys[-1]}"


def ask_choice(question: str, choices: dict[str, str], default: str) -> str:
    """List `choices` (key -> description) and return the key picked (any case)."""
    if default not in choices:
        raise ValueError(f"default {default!r} is not one of the choices")
    width = max(len(key) for key in choices)
    for key, description in choices.items():
        print(f"  {paint(key.ljust(width), colorama.Fore.MAGENTA)}  {description}", flush=True)
    by_lowercase = {key.lower(): key for key in choices}

    def convert(answer: str) -> str:
        if answer.lower() not in by_lowercase:
            raise InvalidResponse(f"Not an option: type {options_text(choices)}")
        return by_lowercase[answer.lower()]

    return _ask(question, default, convert)


YES_ANSWERS = ("y", "yes")
NO_ANSWERS = ("n", "no")


def ask_yes_no(question: str, default: bool) -> bool:
    """Return True for y/yes and False for n/no, in any case."""
    def convert(answer: str) -> bool:
        if answer.lower() in YES_ANSWERS:
            return True
        if answer.lower() in NO_ANSWERS:
            return False
        raise InvalidResponse("Answer y (yes) or n (no).")

    return _ask(f"{question} (y/n)", "y" if default else "n", convert)


PATH_KIND_NAMES = {"any": "file or folder", "file": "file", "folder": "folder"}


def path_kind(path: Path) -> str | None:
    """Return "file", "folder", or None when `path` is missing or cannot be looked at."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):  # ValueError: an embedded NUL byte
        return None
    return "folder" if stat.S_ISDIR(status.st_mode) else "file"


def check_path(text: str, must_exist: bool = True, kind: str = "any") -> Path:
    """Return the typed path (quotes from drag-and-drop removed, ~ expanded) or raise InvalidResponse."""
    if kind not in PATH_KIND_NAMES:
        raise ValueError(f"unknown path kind {kind!r}")
    if "\x00" in text:  # no file system accepts it; Path.resolve() would raise ValueError
        raise InvalidResponse("A path cannot contain a NUL character.")
    typed = text.strip().strip("'\"")
    try:
        path = expand_home(typed)
    except UsageError as problem:  # "~nobody", or "~" without a home
        raise InvalidResponse(str(problem)) from None
    found = path_kind(path)
    if found is None:
        if must_exist:
            raise InvalidResponse(f"No such {PATH_KIND_NAMES[kind]}: {text}")
        return path
    if kind != "any" and found != kind:
        raise InvalidResponse(f"Not a {PATH_KIND_NAMES[kind]}: {text}")
    return path


def ask_path(question: str, must_exist: bool = True, kind: str = "any", default: str | None = None) -> Path:
    """Return a path typed by the user, checked to exist (and to be a file or folder) as asked."""
    return _ask(question, default, lambda answer: check_path(answer, must_exist, kind))


def ask_path_or_word(question: str, word: str | None, kind: str = "any", must_exist: bool = True,
                     validate=None) -> str:
    """Return `word` (offered as the default: "default", "new", ...) or a checked path, as text.

    `validate(answer)` may refuse a path with InvalidResponse before it is looked up.
    """
    def check(answer: str) -> None:
        if answer != word:
            if validate is not None:
                validate(answer)
            check_path(answer, must_exist, kind)

    answer = ask_text(question, default=word, validate=check)
    return answer if answer == word else str(check_path(answer, must_exist, kind))

