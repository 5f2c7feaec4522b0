"""The interactive wizard: `python -m colorize` with no arguments.

It only asks questions, fills the same TrainConfig / PredictConfig the CLI
fills, and calls the same functions (DESIGN.md). Its promises (issue 6):
every question has a default in brackets (Enter takes it) and re-asks with a
reason; end of input says goodbye with exit 0, Ctrl-C at a prompt with 130;
a ColorizeError from the work is one red line and the wizard goes back to the
question; anything unexpected goes to OUTPUT/colorize-error.log and one line.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from colorize import console
from colorize.config import PredictConfig, TrainConfig
from colorize.constants import MODEL_SUFFIXES
from colorize.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, ColorizeError
from colorize.paths import write_error_log
from colorize.presets import DEFAULT_PRESET, MONITORS, PRESETS, TEST_PRESETS, size_multiple

if TYPE_CHECKING:
    from colorize.train import TimeEstimate

MAIN_MENU = {
    "1": "train a model on your own colour photos",
    "2": "colourise black-and-white photos with a model",
    "q": "quit",
}
MODEL_START_MENU = {"1": "a new model", "2": "continue training a saved model (.keras or .h5)"}
OVERVIEW_MENU = {"1": "save a diagram of the model", "2": "print the model summary", "3": "neither"}
MONITOR_DESCRIPTIONS = {
    "val_loss": "the loss on the validation images (recommended)",
    "loss": "the loss on the training images",
    "val_ab_mae": "colour error on the validation images",
    "ab_mae": "colour error on the training images",
    "val_chroma_gap": "how much less colourful than the truth, on validation images",
    "chroma_gap": "how much less colourful than the truth, on training images",
}
MAX_EPOCHS = 1000
MAX_IMAGE_SIZE = 512        # bigger crops train far too slowly on a CPU (DESIGN.md: 0.8 images/s at 256)
MAX_DEFAULT_TEST_SIZE = 50  # enough photos for stable PSNR/SSIM means without starving training
MIN_USABLE_IMAGES = 3       # 1 train + 1 validation (8:2, at least 1) + 1 test


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
        log_path = write_error_log(traceback.format_exc())
        console.error(f"Something unexpected went wrong; the details are in {log_path}")
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
    jobs = {"1": train_path, "2": predict_path}
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
    """Ask everything training needs, train, and show where every file went."""
    from colorize import train

    data, scan = ask_dataset_and_scan()
    train_size, test_size = ask_split_sizes(len(scan.ok))
    preset = ask_preset()
    image_size = ask_image_size(preset)
    config = TrainConfig(data=data, train_size=train_size, test_size=test_size, image_size=image_size,
                         batch_size=PRESETS[preset]["batch_size"], preset=preset)
    epochs, estimate = ask_epochs(config, scan)
    config = replace(config, epochs=epochs, model=ask_model_to_start_from())
    show_model_overview(config)
    save_best = console.ask_yes_no("Keep the best epoch while training (else the last one)?", default=True)
    monitor = ask_monitor() if save_best else config.monitor
    config = replace(config, save_best=save_best, monitor=monitor)
    console.info("Training; press Ctrl-C to stop early (the model so far is saved).")
    # The estimate was measured on a new model of this preset: a loaded model is measured again.
    result = train.train_model(config, notify=console.info, scan=scan,
                               progress=console.ProgressBar("Evaluating"),
                               estimate=estimate if config.model == "new" else None)
    show_train_result(result)


def ask_dataset_and_scan():
    """Return (data answer, ScanResult) for a dataset with enough usable photos."""
    from colorize import dataset

    while True:
        data = ask_dataset_path()
        try:
            scan = dataset.scan_dataset(dataset.resolve_dataset_path(data),
                                        progress=console.ProgressBar("Scanning", unit="files"))
        except ColorizeError as error:
            console.error(str(error))
            continue
        show_scan_counts(scan)
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
        if console.ask_yes_no(f"Train on the default dataset ({default_folder})?", default=True):
            return "default"
    return str(console.ask_path("Folder or .zip of colour photos to train on", kind="any"))


def show_scan_counts(scan) -> None:
    """Print the count of each class of file, and offer to list the unusable ones."""
    counts = scan.counts()
    console.info(f"Found {counts['total']} files: {counts['ok']} usable colour photos.")
    for status in ("not_image", "unreadable", "grayscale", "too_small", "skipped"):
        if counts.get(status):
            console.plain(f"  {status.replace('_', ' '):<11} {counts[status]}")
    if scan.bad and console.ask_yes_no(f"List the {len(scan.bad)} files that cannot be used?", default=False):
        for entry in scan.bad:
            console.plain(f"  {entry.path}: {entry.reason or entry.status}")


def ask_split_sizes(usable: int) -> tuple[int, int]:
    """Return (train_size, test_size): train + validation at 8:2, then test from what is left."""
    default_test = min(max(1, round(usable * 0.1)), MAX_DEFAULT_TEST_SIZE)
    train_size = console.ask_int(f"How many photos to train on (a fifth of them validate)? ({usable} usable)",
                                 2, usable - 1, usable - default_test)
    left = usable - train_size
    test_size = console.ask_int(f"How many other photos to test the model on? ({left} left)",
                                1, left, min(default_test, left))
    return train_size, test_size


def ask_preset() -> str:
    """Return the model size, defaulting to the one that suits the hardware found."""
    from colorize import devices

    console.info("Looking at the hardware...")
    gpus = devices.list_gpus()  # imports TensorFlow quietly, before model.py imports it noisily
    console.info(f"Found {len(gpus)} GPU(s)." if gpus else "No GPU found: training runs on the CPU.")
    choices = {name: settings["description"] for name, settings in PRESETS.items() if name not in TEST_PRESETS}
    return console.ask_choice("Which model?", choices, DEFAULT_PRESET)


def ask_image_size(preset: str) -> int:
    """Return a training crop side the preset can take (a multiple of its depth factor)."""
    factor = size_multiple(preset)
    minimum = -(-16 // factor) * factor
    maximum = MAX_IMAGE_SIZE // factor * factor
    default = min(max(PRESETS[preset]["image_size"], minimum), maximum)
    return console.ask_int("Training image size in pixels?", minimum, maximum, default, multiple_of=factor)


def ask_epochs(config: TrainConfig, scan) -> tuple[int, "TimeEstimate"]:
    """Measure the time per epoch, show it, and return (epochs, the estimate for them)."""
    from colorize import dataset, train

    console.info("Measuring how fast this machine trains (a few steps)...")
    split = dataset.split_dataset(scan.ok, config.train_size, config.test_size, config.seed)
    estimate = train.estimate_training_time(config, split)
    console.info(f"Estimate: {estimate.describe()}.")
    epochs = console.ask_int("How many epochs (passes over the photos)?", 1, MAX_EPOCHS, config.epochs)
    if epochs != estimate.epochs:
        estimate = estimate.for_epochs(epochs)
        console.info(f"Training will take {estimate.describe()}.")
    return epochs, estimate


def ask_model_to_start_from() -> str:
    """Return "new" or the path of a saved model that loads and predicts ab."""
    while True:
        choice = console.ask_choice("Start from?", MODEL_START_MENU, "1")
        if choice == "1":
            return "new"
        path = ask_model_file("Saved model file (.keras or .h5)")
        try:
            check_model_loads(path, need_kind="ab")
        except ColorizeError as error:
            console.error(str(error))
            continue
        return str(path)


def ask_model_file(question: str, default: str | None = None) -> Path:
    """Return an existing file path whose name ends in .keras or .h5."""
    def validate(answer: str) -> None:
        if answer != default and not answer.lower().endswith(MODEL_SUFFIXES):
            raise console.InvalidResponse(f"A model file ends in .keras or .h5: {answer}")
        if answer != default:
            console.check_path(answer, kind="file")

    answer = console.ask_text(question, default=default, validate=validate)
    return Path(answer) if answer == default else console.check_path(answer, kind="file")


def check_model_loads(path: str | Path, need_kind: str | None = None) -> None:
    """Load the model file once; ModelError with one sentence when it cannot be used."""
    from colorize import devices, modelfile
    from colorize.errors import ModelError

    console.info("Checking the model...")
    devices.load_tensorflow()  # quietly, before Keras is imported
    info = modelfile.inspect_model(modelfile.load_model_file(modelfile.resolve_model_path(str(path))))
    if need_kind and info.kind != need_kind:
        raise ModelError(f"{path} predicts {info.kind}, not the ab colours training needs; "
                         "start from a new model or one trained by colorize.")


def show_model_overview(config: TrainConfig) -> None:
    """Offer the model's diagram or summary, as the person chooses."""
    choice = console.ask_choice("See the model?", OVERVIEW_MENU, "3")
    if choice == "3":
        return
    from colorize import model, modelfile

    if choice == "1" and config.model == "new" and "widths" in PRESETS[config.preset]:
        for line in unet_diagram(PRESETS[config.preset]):
            console.plain(line)
        return
    if choice == "1":
        console.info("A saved model is drawn from its layers: here is its summary.")
    network = model.build_unet(config.preset) if config.model == "new" and "widths" in PRESETS[config.preset] \
        else None if config.model == "new" else modelfile.load_model_file(config.model)
    if network is None:
        console.info("The pretrained model's layers depend on your photos' colours: its summary is in "
                     "the run folder's summary.txt once training starts.")
        return
    network.summary(print_fn=lambda line, *args, **kwargs: console.plain(line))


def unet_diagram(settings: dict) -> list[str]:
    """Return a text drawing of the U-Net a preset builds: widths per level, skips across."""
    widths = list(settings["widths"])
    label_width = max(len(str(width)) for width in widths) + 2
    lines = ["  gray L (1 channel) in                 ab colours (2 channels) out"]
    for level, width in enumerate(widths[:-1]):
        indent = "  " + "   " * level
        span = "-" * max(4, 30 - 6 * level)
        lines.append(f"{indent}[{str(width).center(label_width)}]{span} skip {span}[{str(width).center(label_width)}]")
        going_down = f"   \\  1/{2 ** (level + 1)} size"
        lines.append(f"{indent}{going_down}".ljust(len(indent) + 2 * len(span) + 2 * label_width + 2) + "/")
    dilations = settings.get("dilations") or ()
    extra = f", dilated x{', x'.join(map(str, dilations))}" if dilations else ""
    lines.append(f"  {'   ' * (len(widths) - 1)}[ {widths[-1]} bottleneck{extra} ]")
    return lines


def ask_monitor() -> str:
    """Return the figure the best-model checkpoint watches."""
    choices = {name: MONITOR_DESCRIPTIONS.get(name, "") for name in MONITORS}
    default = "val_loss" if "val_loss" in choices else next(iter(choices))
    return console.ask_choice("Judge 'best' by?", choices, default)


def show_train_result(result) -> None:
    """Print the test figures beside the gray baseline and every file written."""
    if result.interrupted:
        console.warn("Training was stopped early; the model so far was saved.")
    show_scores(result.metrics)
    console.success(f"Model saved: {result.model_path}")
    for role, path in result.files.items():
        console.plain(f"  {role:<20} {path}")


def show_scores(metrics: dict) -> None:
    """Print the model's test figures beside those of the gray baseline (evaluate's table)."""
    from colorize import evaluate

    if not metrics.get("gray_baseline"):
        return
    console.info(f"On {metrics.get('images', '?')} test photos the model scored:")
    for line in evaluate.format_table(metrics):
        console.plain(f"  {line}")


# --- predict path ----------------------------------------------------------------

def predict_path() -> None:
    """Ask for a model, photos and a results folder; colourise; say where everything is."""
    from colorize import predict

    model = ask_prediction_model()
    photos = console.ask_path("Photos to colourise (an image, a folder or a .zip)", kind="any")
    output = ask_results_folder()
    config = PredictConfig(model=model, input=str(photos), output=output)
    result = predict.colorize_path(config, progress=console.ProgressBar("Colourising"), notify=console.info)
    show_predict_result(result)


def ask_prediction_model() -> str:
    """Return "default" (when a model is shipped) or the path of a model file that loads."""
    from colorize import modelfile

    try:
        modelfile.resolve_model_path("default")
        default = "default"
    except ColorizeError as error:
        console.warn(str(error))
        default = None
    question = "Model ('default' for the shipped one, or a .keras / .h5 file)" if default else \
        "Model file (.keras or .h5)"
    while True:
        path = ask_model_file(question, default)
        try:
            check_model_loads(path)
        except ColorizeError as error:
            console.error(str(error))
            continue
        return str(path)


def ask_results_folder() -> str | None:
    """Return the folder for the results, or None for a new run folder under OUTPUT/results."""
    def validate(answer: str) -> None:
        if answer != "new":
            console.check_path(answer, must_exist=False, kind="folder")

    answer = console.ask_text("Folder for the results ('new' makes a new run folder)", default="new",
                              validate=validate)
    return None if answer == "new" else str(console.check_path(answer, must_exist=False, kind="folder"))


def show_predict_result(result) -> None:
    """Print how many photos were coloured and where the results and grids are."""
    console.success(f"Colourised {len(result.written)} photos into {result.output_dir}")
    if result.skipped_existing:
        console.info(f"{len(result.skipped_existing)} were already there and left as they were.")
    if result.converted_from_colour:
        console.info(f"{len(result.converted_from_colour)} colour photos were turned gray first.")
    if result.bad:
        console.warn(f"{len(result.bad)} files could not be used:")
        for entry in result.bad:
            console.plain(f"  {entry.path}: {entry.reason or entry.status}")
    for grid in result.grids:
        console.plain(f"  comparison grid: {grid}")
