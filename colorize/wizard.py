"""The interactive wizard: `python -m colorize` with no arguments.

It only asks questions, fills the same TrainConfig / PredictConfig the CLI
fills, and calls the same functions (DESIGN.md). Its promises (issue 6):
every question has a default in brackets (Enter takes it) and re-asks with a
reason; end of input says goodbye with exit 0, Ctrl-C at a prompt with 130;
a ColorizeError from the work is one red line and the wizard goes back to the
question; anything unexpected goes to OUTPUT/colorize-error.log and one line.

Three paths: train a model on colour photos, colourise photos, and improve a
model with photos that have no colour (self-training, issue 16: a teacher
model colours them, a student learns from those colours beside colour photos).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from colorize import console, defaults, reporting
from colorize.config import PredictConfig, TrainConfig
from colorize.constants import MIN_CROPS_PER_EPOCH, MODEL_SUFFIXES
from colorize.estimate import format_duration
from colorize.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, ColorizeError, ModelError, OutputError
from colorize.presets import (DEFAULT_PRESET, MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, MONITORS, PRESETS, TEST_PRESETS,
                              has_class_head, size_multiple)

if TYPE_CHECKING:
    from colorize.modelfile import ModelInfo
    from colorize.estimate import TimeEstimate

MAIN_MENU = {
    "1": "train a model on your own colour photos",
    "2": "colourise black-and-white photos with a model",
    "3": "improve a model with photos that have no colour (a scanned family album)",
    "q": "quit",
}
MODEL_START_MENU = {"1": "a new model", "2": "a saved model, to train it further (.keras or .h5)"}
OVERVIEW_MENU = {"1": "save a diagram of it as a picture (needs pydot and Graphviz)",
                 "2": "print its summary (a table of its layers)", "3": "neither"}
MONITOR_DESCRIPTIONS = {
    "val_loss": "the loss on the validation images (recommended)",
    "loss": "the loss on the training images",
    "val_ab_mae": "colour error on the validation images",
    "ab_mae": "colour error on the training images",
    "val_chroma_gap": "how much less colourful than the truth, on validation images",
    "chroma_gap": "how much less colourful than the truth, on training images",
}
MAX_EPOCHS = 1000
MAX_BATCH_SIZE = 1024
MAX_SEED = 2**31 - 1
MIN_USABLE_IMAGES = 3       # 1 train + 1 validation (8:2, at least 1) + 1 test
MAX_ROUNDS = 10
# Two rounds: the first distils the teacher into a noised student, the second
# lets that student teach again (Xie et al. 2020 gain from iterating); each
# round costs a whole training, so more is the person's choice, not the default.
DEFAULT_ROUNDS = 2
SELF_TRAINING_INTRO = (
    "Photos without colour can teach a model too. The model you pick colours them; a new model then "
    "learns from those colours and from colour photos. Each round repeats this with the newest model "
    "doing the colouring, and takes about as long as training a model once.")
# The student's presets: the teacher's own kind (the shipped model is a pretrained
# one), or the small from-scratch one, which is distillation (selftrain.py).
STUDENT_CHOICES = {
    "pretrained": "the same kind as the shipped model: the best colours, slower to train",
    "cpu": "a smaller, faster model that learns from the bigger one (fast on a CPU, more muted colours)",
}
DIAGRAMS_DIR_NAME = "diagrams"   # OUTPUT/diagrams/<preset or model>.png: drawn before a run folder exists


def run_wizard() -> int:
    """Run the prompt-driven main loop; return the exit code (0, 1 or 130)."""
    make_stdio_forgiving()
    try:
        show_banner()
        main_loop()
        return EXIT_OK
    except EOFError:
        say_goodbye("End of input.")
        return EXIT_OK
    except KeyboardInterrupt:
        say_goodbye("Interrupted.")
        return EXIT_INTERRUPTED
    except Exception:  # never a traceback on the user's screen
        reporting.show_unexpected_error()
        return EXIT_USER_ERROR


def make_stdio_forgiving() -> None:
    """Let undecodable input bytes become invalid answers and odd output characters print."""
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def show_banner() -> None:
    """Print the short coloured greeting."""
    console.success("colorize: bring colour to black-and-white photos")
    console.info("Answer each question, or press Enter to take the value in [brackets]. "
                 "Ctrl-D or Ctrl-C leaves.")


def say_goodbye(reason: str) -> None:
    """End the prompt's line and print the one-line goodbye."""
    console.plain()
    console.info(f"{reason} Goodbye.")


def main_loop() -> None:
    """Offer train / colourise / quit until the person quits."""
    jobs = {"1": train_path, "2": predict_path, "3": self_training_path}
    default = "2"
    while True:
        console.plain()
        choice = console.ask_choice("What would you like to do?", MAIN_MENU, default)
        if choice == "q":
            console.info("Goodbye.")
            return
        try:
            jobs[choice]()
        except ColorizeError as error:
            console.error(str(error))
        default = "q"


# --- train path ----------------------------------------------------------------

def train_path() -> None:
    """Ask everything training needs, train, and show where every file went.

    New or saved model comes first: a saved model fixes the model size and the
    multiple its image sides need, so those questions are skipped for it.
    """
    from colorize import train

    model, model_info = ask_model_to_start_from()
    data, scan = ask_dataset_and_scan()
    train_size, test_size = ask_split_sizes(len(scan.ok))
    preset = ask_preset() if model == "new" else DEFAULT_PRESET
    config = TrainConfig(data=data, model=model, train_size=train_size, test_size=test_size,
                         image_size=ask_image_size(preset, model_info), preset=preset,
                         batch_size=PRESETS[preset]["batch_size"], epochs=defaults.DEFAULT_EPOCHS)
    config = ask_advanced_settings(config)
    epochs, estimate = ask_epochs(config, scan)
    config = replace(config, epochs=epochs)
    show_model_overview(config)
    save_best = console.ask_yes_no("Keep the best epoch while training (else the last one)?", default=True)
    monitor = ask_monitor() if save_best else config.monitor
    config = replace(config, save_best=save_best, monitor=monitor)
    console.info("Training; press Ctrl-C to stop early (the model so far is saved).")
    result = train.train_model(config, notify=console.info, scan=scan,
                               progress=reporting.work_progress("Evaluating"), estimate=estimate)
    reporting.show_train_result(result)
    offer_to_open([result.files.get("curves"), *result.metrics.get("grids", [])],
                  "training curves and the test grids")


def ask_model_to_start_from() -> tuple[str, "ModelInfo | None"]:
    """Return ("new", None) or (the path of a saved ab model that loads, what it expects)."""
    while True:
        choice = console.ask_choice("Start from?", MODEL_START_MENU, "1")
        if choice == "1":
            return "new", None
        path = ask_model_file("Saved model file (.keras or .h5)")
        try:
            return path, check_model_loads(path, need_kind="ab")
        except ColorizeError as error:
            console.error(str(error))


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


def ask_split_sizes(usable: int) -> tuple[int, int]:
    """Return (train_size, test_size): train + validation at 8:2, then test from what is left."""
    train_size = console.ask_int(f"How many photos to train on (a fifth of them check the training as it "
                                 f"goes)? ({usable} usable)", 2, usable - 1,
                                 usable - defaults.default_test_size(usable))
    left = usable - train_size
    test_size = console.ask_int(f"How many other photos to keep aside for the final test? ({left} left)",
                                1, left, defaults.default_test_size(usable, train_size))
    return train_size, test_size


def ask_preset() -> str:
    """Return the model to build, defaulting to the one that gives the best colours."""
    describe_hardware()
    choices = {name: settings["description"] for name, settings in PRESETS.items() if name not in TEST_PRESETS}
    return console.ask_choice("Which model?", choices, DEFAULT_PRESET)


def describe_hardware() -> None:
    """Say whether training will run on GPUs or on the CPU."""
    from colorize import devices

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


def ask_advanced_settings(config: TrainConfig) -> TrainConfig:
    """Return `config` with the batch size, seed and .h5 copy changed, if the person asks to."""
    if not console.ask_yes_no("Change advanced settings (batch size, random seed, an .h5 copy)?", default=False):
        return config
    batch_size = console.ask_int("Photos per training step (batch size; smaller needs less memory)?",
                                 1, MAX_BATCH_SIZE, config.batch_size)
    seed = console.ask_int("Random seed (the same seed picks the same photos and crops again)?",
                           0, MAX_SEED, config.seed)
    save_h5 = console.ask_yes_no("Also save the model as .h5 (for older Keras tools)?", default=config.save_h5)
    return replace(config, batch_size=batch_size, seed=seed, save_h5=save_h5)


def ask_epochs(config: TrainConfig, scan) -> tuple[int, "TimeEstimate"]:
    """Measure the time per epoch, show it, and return (epochs, the estimate for them)."""
    from colorize import dataset, train

    console.info("Measuring how fast this machine trains (a few steps)...")
    split = dataset.split_dataset(scan.ok, config.train_size, config.test_size, config.seed)
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


def ask_model_file(question: str, default: str | None = None) -> str:
    """Return `default` or an existing file path whose name ends in .keras or .h5."""
    def validate(answer: str) -> None:
        if not answer.lower().endswith(MODEL_SUFFIXES):
            raise console.InvalidResponse(f"A model file ends in .keras or .h5: {answer}")

    return console.ask_path_or_word(question, default, kind="file", validate=validate)


def check_model_loads(path: str | Path, need_kind: str | None = None) -> "ModelInfo":
    """Load the model file once and return what it expects; ModelError with one sentence when unusable."""
    from colorize import devices, modelfile

    console.info("Checking the model...")
    devices.load_tensorflow()  # quietly, before Keras is imported
    info = modelfile.inspect_model(modelfile.load_model_file(modelfile.resolve_model_path(str(path))))
    if need_kind and info.kind != need_kind:
        raise ModelError(f"{path} predicts {info.kind}, not the ab colours training needs; "
                         "start from a new model or one trained by colorize.")
    return info


def show_model_overview(config: TrainConfig) -> None:
    """Offer a diagram (a picture, with pydot and Graphviz) or the summary of the model to train."""
    choice = console.ask_choice("See the model?", OVERVIEW_MENU, "3")
    if choice == "3":
        return
    console.info("Building the model...")
    network = model_to_show(config)
    if choice == "1":
        from colorize.report import save_model_diagram

        path = free_diagram_path(config)
        if save_model_diagram(network, path) is None:
            console.success(f"Diagram saved: {path}")
            return
        console.warn("No diagram: drawing one needs the pydot package and Graphviz's `dot` program "
                     "(pip install pydot; apt install graphviz or brew install graphviz). "
                     "Here is the summary instead.")
    network.summary(print_fn=lambda line, *args, **kwargs: console.plain(line))


def model_to_show(config: TrainConfig):
    """Return the model training will start from: the saved one, or a new one of the preset.

    A pretrained-preset model has one output class per colour its training
    photos use, known only once training reads them: shown here with every colour.
    """
    from colorize import devices

    devices.load_tensorflow()  # quietly, before Keras is imported
    from colorize import model, modelfile

    if config.model != "new":
        return modelfile.load_model_file(config.model)
    if not has_class_head(config.preset):
        return model.build_model(config.preset)
    import numpy as np

    from colorize import ab_classes

    every_colour = ab_classes.ab_classes_from_histogram(np.ones((ab_classes.BINS_PER_SIDE,) * 2))
    console.info(f"(Shown with all {every_colour.count} colour classes; training keeps those its photos use.)")
    return model.build_model(config.preset, every_colour)


def free_diagram_path(config: TrainConfig) -> Path:
    """Return a new file name for a diagram of the model in OUTPUT/diagrams/ (its folder made)."""
    from colorize.paths import output_root, safe_name

    folder = output_root() / DIAGRAMS_DIR_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"Cannot create {folder}: {error.strerror or error}") from error
    base = safe_name(config.preset if config.model == "new" else Path(config.model).stem)
    index = 1
    while (folder / (f"{base}.png" if index == 1 else f"{base}-{index}.png")).exists():
        index += 1
    return folder / (f"{base}.png" if index == 1 else f"{base}-{index}.png")


def ask_monitor() -> str:
    """Return the figure the best-model checkpoint watches."""
    choices = {name: MONITOR_DESCRIPTIONS.get(name, "") for name in MONITORS}
    default = "val_loss" if "val_loss" in choices else next(iter(choices))
    return console.ask_choice("Judge 'best' by?", choices, default)


# --- predict path ----------------------------------------------------------------

def predict_path() -> None:
    """Ask for a model, photos and a results folder; colourise; say where everything is."""
    from colorize import predict

    model = ask_prediction_model()
    photos = ask_photos_to_colourise()
    output = ask_results_folder()
    config = PredictConfig(model=model, input=defaults.resolve_photos_to_colourise(photos), output=output)
    result = predict.colorize_path(config, progress=reporting.work_progress("Colourising"), notify=console.info,
                                   scan_progress=reporting.scan_progress())
    reporting.show_predict_result(result)
    offer_to_open(result.grids, "comparison grids")


def ask_prediction_model() -> str:
    """Return "default" (when a model is shipped) or the path of a model file that loads."""
    return ask_usable_model("Model", check_model_loads)


def ask_usable_model(what: str, check) -> str:
    """Return "default" (when a model is shipped) or a model file path that `check(path)` accepts.

    `check` raises a ColorizeError with one sentence for a model that cannot serve;
    it is shown in red and the question comes again.
    """
    from colorize import modelfile

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


def ask_photos_to_colourise() -> str:
    """Return the photos to colourise: "default" (the shipped black-and-white samples) or a path."""
    offer = defaults.SAMPLES_ANSWER if defaults.SAMPLES_DIR.is_dir() else None
    question = "Photos to colourise (an image, a folder or a .zip" + \
        (f"; '{offer}' for the shipped black-and-white samples)" if offer else ")")
    return console.ask_path_or_word(question, offer, kind="any")


def ask_results_folder() -> str | None:
    """Return the folder for the results, or None for a new run folder under OUTPUT/results."""
    answer = console.ask_path_or_word("Folder for the results ('new' makes a new run folder)", "new",
                                      kind="folder", must_exist=False)
    return None if answer == "new" else answer


# --- self-training path: improve a model with photos that have no colour ------------------

def self_training_path() -> None:
    """Ask for a teacher, photos without colour, colour photos, a student, rounds and epochs; train in rounds."""
    from colorize import train

    console.info(SELF_TRAINING_INTRO)
    teacher = ask_usable_model("Model that colours your photos first", check_teacher_model)
    unlabeled = ask_photos_without_colour()
    console.info("The new model also learns from colour photos, so it keeps real colours in mind.")
    data, scan = ask_dataset_and_scan()
    preset = ask_student_preset()
    rounds = console.ask_int("How many rounds (each one trains a new model, taught by the one before)?",
                             1, MAX_ROUNDS, DEFAULT_ROUNDS)
    config = TrainConfig(data=data, preset=preset, image_size=ask_image_size(preset, None),
                         batch_size=PRESETS[preset]["batch_size"], epochs=defaults.DEFAULT_EPOCHS,
                         teacher=teacher, unlabeled=unlabeled, rounds=rounds, run_name=free_self_training_name())
    epochs, estimate = ask_epochs(config, scan)
    config = replace(config, epochs=epochs)
    console.info("Training in rounds; press Ctrl-C to stop early (the model so far is saved).")
    result = train.train_model(config, notify=console.info, scan=scan,
                               progress=reporting.work_progress("Evaluating"), estimate=estimate)
    reporting.show_train_result(result)
    folder = self_training_folder(config.run_name)
    console.info(f"Every round's figures: {folder / 'summary.txt'} (and rounds.json, rounds.png)")
    offer_to_open([folder / "rounds.png", result.files.get("curves"), *result.metrics.get("grids", [])],
                  "rounds plot, training curves and the test grids")


def check_teacher_model(path: str) -> None:
    """Load `path` once; ModelError with one sentence unless it can colour photos for a student (L in, ab out)."""
    from colorize import devices

    console.info("Checking the model...")
    devices.load_tensorflow()  # quietly, before Keras is imported
    from colorize.pseudolabel import check_teacher

    check_teacher(path)


def ask_photos_without_colour() -> str:
    """Return the folder, .zip or photo without colour that the person names, once a scan finds a photo in it."""
    from colorize import dataset

    while True:
        answer = str(console.ask_path("Folder or .zip of your photos without colour (black-and-white or faded)",
                                      kind="any"))
        try:
            album = dataset.scan_dataset(dataset.resolve_dataset_path(answer), progress=reporting.scan_progress())
        except ColorizeError as error:
            console.error(str(error))
            continue
        usable = len(album.predictable)
        if usable:
            unusable = len(album.files) - usable
            console.success(f"{reporting.plural(usable, 'photo')} to colour in {album.root}"
                            + (f" ({reporting.plural(unusable, 'other file')} cannot be used)." if unusable else "."))
            return answer
        console.error(f"No photo in {answer} can be used ({reporting.plural(len(album.files), 'file')}, none of "
                      "them a readable photo); choose another folder or .zip.")


def ask_student_preset() -> str:
    """Return the preset of the new model (the student): the teacher's kind, or the small fast one."""
    describe_hardware()
    return console.ask_choice("Which new model?", STUDENT_CHOICES, DEFAULT_PRESET)


def self_training_folder(run_name: str) -> Path:
    """Return OUTPUT/models/<run_name>, where a self-training keeps rounds.json and its report."""
    from colorize.paths import output_root

    return output_root() / "models" / run_name


def free_self_training_name() -> str:
    """Return a self-training name with no folder yet: "self-training", else "self-training-2", ...

    A fresh name each time: the wizard never continues an older, unfinished
    self-training by accident, nor stops on one started with other settings.
    """
    from colorize.selftrain import DEFAULT_RUN_NAME

    index = 1
    while True:
        name = DEFAULT_RUN_NAME if index == 1 else f"{DEFAULT_RUN_NAME}-{index}"
        if console.path_kind(self_training_folder(name)) is None:
            return name
        index += 1


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
