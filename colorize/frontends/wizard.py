"""The interactive wizard: `python -m colorize` with no arguments.

It only asks questions, fills the same TrainConfig / PredictConfig the CLI
fills, and calls the same functions (one pipeline, two front ends). Its promises (issue 6):
every question has a default in brackets (Enter takes it) and re-asks with a
reason; end of input says goodbye with exit 0, Ctrl-C at a prompt with 130;
a ColorizeError from the work is one red line and the wizard goes back to the
question; anything unexpected goes to OUTPUT/colorize-error.log and one line.

Three paths: train a model on colour photos and colourise photos (here), and
improve a model with photos that have no colour (wizard_selftrain.py). The
questions more than one path asks live in wizard_questions.py.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from colorize.frontends import console, reporting
from colorize import defaults
from colorize.config import PredictConfig, TrainConfig
from colorize.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, ColorizeError, OutputError
from colorize.models.presets import DEFAULT_PRESET, MONITORS, PRESETS, TEST_PRESETS, has_class_head
from colorize.frontends.wizard_questions import (ask_dataset_and_scan, ask_epochs, ask_image_size, ask_model_file,
                                       ask_usable_model, check_model_loads, describe_hardware, offer_to_open)
from colorize.frontends.wizard_selftrain import self_training_path

if TYPE_CHECKING:
    from colorize.models.modelfile import ModelInfo

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
MAX_BATCH_SIZE = 1024
MAX_SEED = 2**31 - 1
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
    from colorize.training import train

    model, model_info = ask_model_to_start_from()
    data, scan = ask_dataset_and_scan()
    train_size, test_size = ask_split_sizes(len(scan.ok))
    preset = ask_preset() if model == "new" else DEFAULT_PRESET
    config = TrainConfig(data=data, model=model, train_size=train_size, test_size=test_size,
                         image_size=ask_image_size(preset, model_info), preset=preset,
                         batch_size=PRESETS[preset]["batch_size"])
    config = ask_advanced_settings(config)
    epochs, estimate = ask_epochs(config, scan)
    config = replace(config, epochs=epochs)
    show_model_overview(config)
    save_best = console.ask_yes_no("Keep the best epoch while training (else the last one)?", default=config.save_best)
    monitor = ask_monitor() if save_best else config.monitor
    config = replace(config, save_best=save_best, monitor=monitor)
    console.info("Training; press Ctrl-C to stop early (the model so far is saved).")
    result = train.train_model(config, notify=training_notify, scan=scan,
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


def training_notify(message: str) -> None:
    """Show a training message, less the run report's missing-Graphviz note (summary.txt keeps it).

    "See the model?" already dealt with diagrams: whoever asked for one was told
    then that it cannot be drawn, and whoever answered "summary" or "neither" did
    not ask for one.
    """
    from colorize.evaluation.report import NO_DIAGRAM_NOTE

    if not message.startswith(NO_DIAGRAM_NOTE):
        console.info(message)


def show_model_overview(config: TrainConfig) -> None:
    """Offer a diagram (a picture, with pydot and Graphviz) or the summary of the model to train."""
    choice = console.ask_choice("See the model?", OVERVIEW_MENU, "3")
    if choice == "3":
        return
    console.info("Building the model...")
    network = model_to_show(config)
    if choice == "1":
        from colorize.evaluation.report import save_model_diagram

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
    from colorize.training import devices

    devices.load_tensorflow()  # quietly, before Keras is imported
    from colorize.models import model, modelfile

    if config.model != "new":
        return modelfile.load_model_file(config.model)
    if not has_class_head(config.preset):
        return model.build_model(config.preset)
    import numpy as np

    from colorize.models import ab_classes

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
    return console.ask_choice("Judge 'best' by?", choices, TrainConfig.monitor)


# --- predict path ----------------------------------------------------------------

def predict_path() -> None:
    """Ask for a model, photos and a results folder; colourise; say where everything is."""
    from colorize.inference import predict

    model = ask_prediction_model()
    photos = ask_photos_to_colourise()
    hints = ask_hints()
    output = ask_results_folder()
    config = PredictConfig(model=model, input=defaults.resolve_photos_to_colourise(photos), output=output,
                           hints=hints)
    result = predict.colorize_path(config, progress=reporting.work_progress("Colourising"), notify=console.info,
                                   scan_progress=reporting.scan_progress())
    reporting.show_predict_result(result)
    offer_to_open(result.grids, "comparison grids")


def ask_prediction_model() -> str:
    """Return "default" (when a model is shipped) or the path of a model file that loads."""
    return ask_usable_model("Model", check_model_loads)


def ask_photos_to_colourise() -> str:
    """Return the photos to colourise: "default" (the shipped black-and-white samples) or a path."""
    offer = defaults.SAMPLES_ANSWER if defaults.SAMPLES_DIR.is_dir() else None
    question = "Photos to colourise (an image, a film, a folder or a .zip" + \
        (f"; '{offer}' for the shipped black-and-white samples)" if offer else ")")
    return console.ask_path_or_word(question, offer, kind="any")


def ask_hints() -> str | None:
    """Return a hint file or a folder of them, or None to colourise without hints."""
    console.info("Hints steer the colour: paint strokes on a transparent layer over the photo and save that "
                 "layer as a PNG of the same size, or list points in a .json (the README's \"Hints\" shows both).")
    answer = console.ask_path_or_word("Hint file, or a folder of NAME.png / NAME.json ('none' for no hints)",
                                      "none", kind="any")
    return None if answer == "none" else answer


def ask_results_folder() -> str | None:
    """Return the folder for the results, or None for a new run folder under OUTPUT/results."""
    answer = console.ask_path_or_word("Folder for the results ('new' makes a new run folder)", "new",
                                      kind="folder", must_exist=False)
    return None if answer == "new" else answer
