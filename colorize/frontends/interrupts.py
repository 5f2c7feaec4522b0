"""Ctrl-C at a question ends the wizard at once, wherever the signal lands.

CPython runs signal handlers in the main thread, and only when that thread runs
Python code. While it waits for an answer (input(), readline's select()), a
SIGINT goes unnoticed until the next key in two cases: it arrives after the
prompt is written but before select() starts, or the kernel hands it to another
thread (TensorFlow's). The wizard then hangs at the question (seen in CI right
after the time estimate's training steps). So while a question waits, every
signal also writes a byte to a pipe (signal.set_wakeup_fd, written by whichever
thread took it), and a watcher thread that reads a SIGINT there sends it again
to the main thread if the question has not ended after WAKE_AFTER_S; a repeat
is ignored, so one Ctrl-C is one KeyboardInterrupt.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Iterator

WAKE_AFTER_S = 0.2   # far longer than the main thread takes to notice a signal it got itself


class _Watcher:
    """The pipe, the watcher thread and the handler that turns the first SIGINT into KeyboardInterrupt."""

    def __init__(self) -> None:
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.write_end, False)   # set_wakeup_fd requires it; a full pipe drops bytes
        self.waiting = threading.Event()   # a question is waiting for its answer
        self.handled = threading.Event()   # this question's SIGINT reached the main thread
        self.main = threading.main_thread().ident
        threading.Thread(target=self._watch, name="colorize-ctrl-c", daemon=True).start()

    def _watch(self) -> None:
        while True:
            received = os.read(self.read_end, 64)
            if signal.SIGINT in received and self.waiting.is_set() and not self.handled.wait(WAKE_AFTER_S) \
                    and self.waiting.is_set():
                signal.pthread_kill(self.main, signal.SIGINT)

    def handle(self, signum, frame) -> None:
        if self.handled.is_set():   # the watcher's second copy of a Ctrl-C already raised
            return
        self.handled.set()
        raise KeyboardInterrupt


_watcher: _Watcher | None = None


@contextlib.contextmanager
def ctrl_c_ends_the_wait() -> Iterator[None]:
    """While the block waits for an answer, Ctrl-C raises KeyboardInterrupt in it, however delivered.

    A plain block off the main thread (handlers can be set only there) and where
    threads cannot be signalled (Windows: no pthread_kill, and its wakeup fd must
    be a socket).
    """
    global _watcher
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_kill"):
        yield
        return
    if _watcher is None:
        _watcher = _Watcher()
    _watcher.handled.clear()
    previous_handler = signal.signal(signal.SIGINT, _watcher.handle)
    previous_fd = signal.set_wakeup_fd(_watcher.write_end, warn_on_full_buffer=False)
    _watcher.waiting.set()
    try:
        yield
    finally:
        _watcher.waiting.clear()
        signal.set_wakeup_fd(previous_fd)
        signal.signal(signal.SIGINT, previous_handler)
