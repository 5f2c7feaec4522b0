"""Ctrl-C at a question, however the kernel delivers it (colorize/frontends/interrupts.py).

The child waits at a question (console.read_answer) while one of its other threads takes
the SIGINT, as a TensorFlow thread can: without the watcher the main thread never
notices and the question waits on (the control case); with it, the question ends in
KeyboardInterrupt at once. On a terminal (readline) and on a pipe.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pexpect
import pytest

CHILD = r"""
import contextlib, signal, sys, threading, time
from colorize.frontends import console
if sys.argv[1] == "without":
    console.ctrl_c_ends_the_wait = contextlib.nullcontext

def another_thread_takes_it():
    time.sleep(0.5)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)
    time.sleep(60)

threading.Thread(target=another_thread_takes_it, daemon=True).start()
try:
    console.read_answer("Question? ")
except KeyboardInterrupt:
    print("INTERRUPTED", flush=True)
"""

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals to threads")


def spawn(mode: str) -> pexpect.spawn:
    child = pexpect.spawn(sys.executable, ["-c", CHILD, mode], encoding="utf-8", timeout=20,
                          env=dict(os.environ, NO_COLOR="1"))
    child.expect_exact("Question? ")
    return child


def test_ctrl_c_taken_by_another_thread_ends_a_question_on_a_terminal():
    child = spawn("with")
    start = time.monotonic()
    child.expect_exact("INTERRUPTED")
    child.expect(pexpect.EOF)
    assert time.monotonic() - start < 5


def test_without_the_watcher_the_question_waits_on():
    child = spawn("without")
    assert child.expect_exact(["INTERRUPTED", pexpect.TIMEOUT], timeout=3) == 1   # still waiting
    child.sendline("")   # a key: now CPython notices the signal it had
    child.expect_exact("INTERRUPTED")


def test_ctrl_c_taken_by_another_thread_ends_a_question_on_a_pipe():
    process = subprocess.Popen([sys.executable, "-c", CHILD, "with"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        process.wait(timeout=20)   # stdin stays open: no answer ever comes
    finally:
        process.kill()
        process.stdin.close()
    assert "INTERRUPTED" in process.stdout.read()
