"""One training bookkeeping: the multi-worker loop drives the same stock Keras callbacks as
`fit`, so early stopping, the learning-rate schedule and history.csv come out the same.

The same tiny run twice, through the CLI: `--strategy one` (Keras fit) and `--strategy
multiworker` with a cluster of one worker (the custom loop). One training photo
(`--train-size 2`: one to train, one to validate), so both read the same crops in the
same order whatever order a shuffle would pick; then the two histories agree to the
last bit (measured: 26 epochs, identical; 30 since the loader's Lab map became the
8-bit table compiled by XLA, 2b7819e, whose last-digit differences change the tiny run's
path). A learning rate of 1 makes the tiny model stop improving often, so
ReduceLROnPlateau halves the rate several times and EarlyStopping ends the run before
its EPOCHS."""

from __future__ import annotations

import csv
import json
import socket
from pathlib import Path

import numpy as np
import pytest

from conftest import run_colorize

EPOCHS = 40
RUN_ARGS = ("--preset", "tiny", "--image-size", "32", "--epochs", str(EPOCHS), "--batch-size", "16", "--test-size", "2",
            "--train-size", "2", "--learning-rate", "1", "--early-stopping", "--run-name", "run")


def single_worker_tf_config() -> str:
    with socket.socket() as handle:
        handle.bind(("localhost", 0))
        port = handle.getsockname()[1]
    return json.dumps({"cluster": {"worker": [f"localhost:{port}"]}, "task": {"type": "worker", "index": 0}})


def history_of(data: Path, output: Path, strategy: str, env: dict) -> tuple[list[str], list[dict[str, float]]]:
    """Train, and return history.csv's header and rows."""
    process = run_colorize("train", "--data", str(data), "--output", str(output), "--strategy", strategy,
                           *RUN_ARGS, env=env)
    assert process.returncode == 0, process.stdout + process.stderr
    with open(output / "models" / "run" / "history.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), [{name: float(value) for name, value in row.items()} for row in reader]


@pytest.mark.slow
def test_fit_and_the_multiworker_loop_keep_the_same_books(color_folder, tmp_path):
    fit_header, fit_rows = history_of(color_folder, tmp_path / "fit", "one", {})
    loop_header, loop_rows = history_of(color_folder, tmp_path / "loop", "multiworker",
                                        {"TF_CONFIG": single_worker_tf_config()})
    assert loop_header == fit_header   # epoch, loss, the colour metrics, their val_ twins, learning_rate
    assert {"ab_mae", "chroma_gap", "val_ab_mae", "val_chroma_gap", "learning_rate"} <= set(fit_header)
    # early stopping ends both runs at the same epoch, before the EPOCHS asked for
    assert [row["epoch"] for row in loop_rows] == [row["epoch"] for row in fit_rows]
    assert len(fit_rows) < EPOCHS
    rates = [row["learning_rate"] for row in fit_rows]
    assert [row["learning_rate"] for row in loop_rows] == rates
    assert min(rates) < max(rates)   # ReduceLROnPlateau lowered the rate
    for name in fit_header:
        np.testing.assert_allclose([row[name] for row in loop_rows], [row[name] for row in fit_rows],
                                   rtol=1e-6, err_msg=name)
