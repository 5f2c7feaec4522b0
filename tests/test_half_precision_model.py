"""tools/models/half_precision_model.py: the float16 copy the shipped model is stored as."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from colorize.models.modelfile import load_model_file
from tiny_models import build_ab_model, save_model

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "models" / "half_precision_model.py"


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    return save_model(build_ab_model(levels=1, seed=3), tmp_path_factory.mktemp("half") / "model.keras")


def test_the_copy_loads_as_float32_with_each_weight_rounded_to_float16(model_file, tmp_path):
    target = tmp_path / "half.keras"
    finished = run_script(model_file, target)
    assert finished.returncode == 0, finished.stderr
    assert "differ by at most" in finished.stdout
    with zipfile.ZipFile(model_file) as original, zipfile.ZipFile(target) as copy:
        assert original.namelist() == copy.namelist()
        assert original.read("config.json") == copy.read("config.json")
    full, half = load_model_file(model_file), load_model_file(target)
    for expected, loaded in zip(full.get_weights(), half.get_weights()):
        assert loaded.dtype == np.float32
        np.testing.assert_array_equal(loaded, expected.astype(np.float16).astype(np.float32))
    lightness = np.linspace(-1, 1, 2 * 16 * 16, dtype=np.float32).reshape(2, 16, 16, 1)
    np.testing.assert_allclose(half.predict(lightness, verbose=0), full.predict(lightness, verbose=0), atol=2e-3)


def test_the_shipped_model_is_stored_as_float16():
    """Half the wheel: 31 MB as float32, 16 MB as float16 (data/models/README.md)."""
    import h5py

    from colorize.constants import DEFAULT_MODEL_PATH

    with zipfile.ZipFile(DEFAULT_MODEL_PATH) as archive, archive.open("model.weights.h5") as weights:
        with h5py.File(weights, "r") as store:
            dtypes = set()
            store.visititems(lambda _, item: dtypes.add(item.dtype) if isinstance(item, h5py.Dataset) else None)
    assert np.dtype(np.float16) in dtypes and np.dtype(np.float32) not in dtypes


def test_it_never_overwrites_the_source_and_replaces_a_target_only_when_told(model_file, tmp_path):
    before = model_file.read_bytes()
    same = run_script(model_file, model_file)
    assert same.returncode == 2 and "never overwritten" in same.stderr
    existing = tmp_path / "mine.keras"
    existing.write_bytes(b"a user's file")
    refused = run_script(model_file, existing)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert existing.read_bytes() == b"a user's file"
    assert run_script(model_file, existing, "--force").returncode == 0
    assert zipfile.is_zipfile(existing) and model_file.read_bytes() == before
    not_a_model = tmp_path / "notes.txt"
    not_a_model.write_text("hello")
    wrong = run_script(not_a_model, tmp_path / "out.keras")
    assert wrong.returncode == 2 and "not a .keras model file" in wrong.stderr
    assert "Traceback" not in same.stderr + refused.stderr + wrong.stderr
