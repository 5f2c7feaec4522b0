"""The wizard's questions that more than one of its paths asks (wizard.py, wizard_selftrain.py).

Each returns a checked answer: it re-asks with a reason until the answer can
serve (a model that loads, a dataset with enough photos, a crop size the
model takes), so the paths that call them never see a bad one. Also here:
offering to open the pictures a path made, only at a desktop terminal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from colorize.frontends import console, reporting
from colorize.config import TrainConfig
from colorize.constants import MIN_CROPS_PER_EPOCH, MODEL_SUFFIXES
from colorize.training.estimate import format_duration
from colorize.errors import ColorizeError, ModelError
from colorize.models.presets import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, PRESETS, size_multiple

if TYPE_CHECKING:
    from colorize.training.estimate import TimeEstimate
    from colorize.models.modelfile import ModelInfo

MAX_EPOCHS = 1000
MIN_USABLE_IMAGES = 3       # 1 train + 1 validation (8:2, at least 1) + 1 test


def ask_dataset_and_scan():
    """Return (data answer, ScanResult) for a dataset with enough usable photos."""
    from colorize import dataset

    while True:
        data = ask_dataset_path()
        try:
            scan = dataset.scan_dataset(dataset.resolve_dataset_path(data), progress=reporting.scan_progress())
        except ColorizeError as error:
            console.error(str(error))
            continue
        reporting.show_scan(scan)
        if scan.bad and console.ask_yes_no(f"List the {len(scan.bad)} files that cannot be used?", default=False):
            reporting.list_bad_files(scan.bad, limit=None)
        if len(scan.ok) >= MIN_USABLE_IMAGES:
            return data, scan
        console.error(f"Only {len(scan.ok)} usable colour photos in {scan.root}; "
                      f"training needs at least {MIN_USABLE_IMAGES}. Choose another dataset.")


def ask_dataset_path() -> str:
    """Return "default" or the folder / .zip / file the person names."""
    from colorize import dataset

    try:
        default_folder = dataset.resolve_dataset_path("default")
    except ColorizeError as error:
        console.warn(str(error))
    else:
        if console.ask_yes_no(f"Train on the default photos ({default_folder})?", default=True):
            return "default"
    return str(console.ask_path("Folder or .zip of colour photos to train on", kind="any"))


def describe_hardware() -> None:
    """Say whether training will run on GPUs or on the CPU."""
    from colorize.training import devices

    console.info("Looking at the hardware...")
    gpus = devices.list_gpus()  # imports TensorFlow quietly, before model.py imports it noisily
    console.info(f"Found {len(gpus)} GPU(s)." if gpus else "No GPU found: training runs on the CPU.")


def ask_image_size(preset: str, model_info: "ModelInfo | None") -> int:
    """Return the side of the square crops training cuts from the photos.

    A new model takes sides that are a multiple of its preset's; a saved one,
    the multiple its own layers need (or the one size it was built for).
    """
    if model_info is not None and model_info.input_size is not None:
        height, width = model_info.input_size
        if height != width:
            raise ModelError(f"The saved model takes {height}x{width} images only; training needs a model "
                             "that takes square crops.")
        console.info(f"The saved model takes {height}x{width} images: training crops are that size.")
        return height
    factor = model_info.size_multiple if model_info is not None else size_multiple(preset)
    minimum = -(-max(MIN_IMAGE_SIZE, factor) // factor) * factor
    maximum = MAX_IMAGE_SIZE // factor * factor
    default = min(max(PRESETS[preset]["image_size"], minimum), maximum)
    return console.ask_int("Training crop size in pixels (training learns on square pieces of your "
                           "photos; results keep each photo's own size)?", minimum, maximum, default,
                           multiple_of=factor)


def ask_epochs(config: TrainConfig, scan) -> tuple[int, "TimeEstimate"]:
    """Measure the time per epoch, show it, and return (epochs, the estimate for them)."""
    from colorize import dataset
    from colorize.training import train

    console.info("Measuring how fast this machine trains (a few steps)...")
    split = dataset.split_dataset(scan.ok, config.train_size, config.test_size, config.effective_split_seed)
    estimate = train.estimate_training_time(config, split)
    console.info(f"An epoch is a fixed amount of training: at least {MIN_CROPS_PER_EPOCH} random crops of "
                 "your photos (one pass over them when that is more), not one pass over the photos.")
    console.info(f"Estimate: {estimate.describe()}" + (" in each round." if config.teacher else "."))
    epochs = console.ask_int("How many epochs per round?" if config.teacher else "How many epochs?",
                             1, MAX_EPOCHS, config.epochs)
    if epochs != estimate.epochs:
        estimate = estimate.for_epochs(epochs)
        console.info(f"Training will take {estimate.describe()}" + (" in each round." if config.teacher else "."))
    if config.teacher and config.rounds > 1:
        console.info(f"All {config.rounds} rounds: about {format_duration(config.rounds * estimate.seconds_total)} "
                     "of training, plus the time the model takes to colour your photos each round.")
    return epochs, estimate


def ask_usable_model(what: str, check) -> str:
    """Return "default" (when a model is shipped) or a model file path that `check(path)` accepts.

    `check` raises a ColorizeError with one sentence for a model that cannot serve;
    it is shown in red and the question comes again.
    """
    from colorize.models import modelfile

    try:
        modelfile.resolve_model_path("default")
        default = "default"
    except ColorizeError as error:
        console.warn(str(error))
        default = None
    question = f"{what} ('default' for the shipped one, or a .keras / .h5 file)" if default else \
        f"{what} file (.keras or .h5)"
    while True:
        path = ask_model_file(question, default)
        try:
            check(path)
        except ColorizeError as error:
            console.error(str(error))
            continue
        return path


def ask_model_file(question: str, default: str | None = None) -> str:
    """Return `default` or an existing file path whose name ends in .keras or .h5."""
    def validate(answer: str) -> None:
        if not answer.lower().endswith(MODEL_SUFFIXES):
            raise console.InvalidResponse(f"A model file ends in .keras or .h5: {answer}")

    return console.ask_path_or_word(question, default, kind="file", validate=validate)


def check_model_loads(path: str | Path, need_kind: str | None = None) -> "ModelInfo":
    """Load the model file once and return what it expects; ModelError with one sentence when unusable."""
    from colorize.training import devices
    from colorize.models import modelfile

    console.info("Checking the model...")
    devices.load_tensorflow()  # quietly, before Keras is imported
    info = modelfile.inspect_model(modelfile.load_model_file(modelfile.resolve_model_path(str(path))))
    if need_kind and info.kind != need_kind:
        raise ModelError(f"{path} predicts {info.kind}, not the ab colours training needs; "
                         "start from a new model or one trained by colorize.")
    return info


# --- pictures on screen ------------------------------------------------------------

def can_show_pictures() -> bool:
    """Return whether a person at a desktop could look at pictures now.

    A display (DISPLAY or WAYLAND_DISPLAY, or macOS / Windows), a person at the
    terminal (stdin and stdout are one), and not a CI run: never in tests or pipes.
    """
    if os.environ.get("CI") or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def offer_to_open(paths, what: str) -> None:
    """Offer to open the picture files among `paths` with the system's viewer, when a display is there."""
    pictures = [Path(path) for path in paths if path and Path(path).is_file()]
    if not pictures or not can_show_pictures():
        return
    if console.ask_yes_no(f"Open the {what} now?", default=True):
        for picture in pictures:
            open_with_system_viewer(picture)


def open_with_system_viewer(path: Path) -> None:
    """Open `path` in the desktop's default viewer without waiting for it; say so when there is none."""
    if sys.platform == "win32":
        os.startfile(path)  # the Windows shell's "open"
        return
    opener = shutil.which("open" if sys.platform == "darwin" else "xdg-open")
    if opener is None:
        console.info(f"No program to open pictures was found; open {path} yourself.")
        return
    subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
