"""Coloured terminal output and progress for the front ends (cli, wizard).

Colours follow the wizard's convention: prompts magenta, information cyan,
warnings yellow, errors red, success green. Plain text when stdout is not a
terminal or NO_COLOR is set (https://no-color.org).
"""

from __future__ import annotations

import os
import sys
import time

import colorama


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

    Call it as `bar(done, total)`. On a terminal it redraws in place; elsewhere it
    prints a line every ~10% so logs stay short. Writes to stderr so `--json`
    output on stdout stays clean.
    """

    def __init__(self, label: str, unit: str = "images", stream=None):
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.last_decile = -1
        self.finished = False

    def __call__(self, done: int, total: int) -> None:
        elapsed = max(time.monotonic() - self.start, 1e-9)
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
