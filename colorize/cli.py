"""Command-line front end: argparse subcommands, exit codes, one-line errors.

Exit codes (DESIGN.md): 0 done; 1 a user error (ColorizeError) shown as one red
line; 2 bad usage (argparse); 130 interrupted. No computation lives here: each
handler builds a config, calls the module that does the work, and prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

from colorize import __version__, console
from colorize.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_USER_ERROR, ColorizeError
from colorize.presets import DEFAULT_PRESET, PRESETS


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def print_json(data: dict) -> None:
    """Print one JSON object on stdout and nothing else there."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


# Value checks for train live in TrainConfig (exit 1 with one red line, issue 4);
# argparse only rejects text that is not a number (exit 2).

# --- handlers: one per subcommand ------------------------------------------

def command_info(args: argparse.Namespace) -> int:
    from colorize.info import collect_info

    report = collect_info()
    if args.json:
        print_json(report)
        return EXIT_OK
    console.info(f"colorize {report['colorize']}  (python {report['python']})")
    for name, version in report["libraries"].items():
        console.plain(f"  {name:<14} {version}")
    console.info(f"Devices: {report['devices_summary']}")
    console.plain(f"  data folder     {report['data_dir']}")
    console.plain(f"  default dataset {report['default_dataset']}")
    console.plain(f"  default model   {report['default_model']}")
    console.plain(f"  output folder   {report['output_dir']}  ({report['output_reason']})")
    return EXIT_OK


class DelayedProgressBar:
    """A progress callback that shows console.ProgressBar only once the work has run a while,
    so a scan that ends in a second (298 photos: ~0.3 s) prints no bar at all."""

    def __init__(self, label: str, unit: str = "files", delay_s: float | None = None):
        from colorize.constants import SCAN_PROGRESS_DELAY_S

        self.label, self.unit = label, unit
        self.delay_s = SCAN_PROGRESS_DELAY_S if delay_s is None else delay_s
        self.start = time.monotonic()
        self.bar: console.ProgressBar | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.start < self.delay_s:
                return
            self.bar = console.ProgressBar(self.label, self.unit)
            self.bar.start = self.start   # the rate counts from the real start
        self.bar(done, total)


SCAN_SUMMARY_PHRASES = {  # status: (singular, plural)
    "ok": ("image is fine", "images are fine"),
    "grayscale": ("is grayscale", "are grayscale"),
    "too_small": ("is too small", "are too small"),
    "not_image": ("is not an image", "are not images"),
    "unreadable": ("is unreadable", "are unreadable"),
}


def scan_summary(counts: dict[str, int]) -> str:
    """Return "298 images are fine, 2 are grayscale, ..." for the non-zero counts."""
    parts = []
    for status, (singular, plural) in SCAN_SUMMARY_PHRASES.items():
        if counts[status] or status == "ok":
            parts.append(f"{counts[status]} {singular if counts[status] == 1 else plural}")
    text = ", ".join(parts) + "."
    if counts["skipped"]:
        text += f" {counts['skipped']} hidden or system {'entry' if counts['skipped'] == 1 else 'entries'} skipped."
    return text


def command_scan(args: argparse.Namespace) -> int:
    from colorize.dataset import scan_dataset

    result = scan_dataset(args.path, progress=DelayedProgressBar("Scanning"))
    if args.json:
        print_json(result.to_json())
        return EXIT_OK
    counts = result.counts()
    console.info(f"Scanned {result.root} ({result.kind}): {counts['total']} file{'' if counts['total'] == 1 else 's'}.")
    summary = scan_summary(counts)
    if not counts["ok"]:
        console.warn(summary + " No colour image is usable for training.")
    elif result.bad:
        console.warn(summary)
    else:
        console.success(summary)
    if args.print_bad:
        for entry in result.bad:
            console.plain(f"  {entry.path}: {entry.reason or entry.status}")
    elif result.bad:
        console.plain("Run again with --print-bad to list them with reasons.")
    return EXIT_OK


def train_config_from_args(args: argparse.Namespace):
    """Return the TrainConfig the train flags describe (preset defaults for size and batch)."""
    from colorize.config import TrainConfig
    from colorize.presets import preset_settings

    preset = preset_settings(args.preset)
    return TrainConfig(
        data=args.data, epochs=args.epochs, train_size=args.train_size, test_size=args.test_size,
        image_size=preset["image_size"] if args.image_size is None else args.image_size,
        batch_size=preset["batch_size"] if args.batch_size is None else args.batch_size,
        preset=args.preset, model=args.model, monitor=args.monitor, save_best=args.save_best,
        early_stopping=args.early_stopping, tensorboard=args.tensorboard, save_h5=args.save_h5,
        output=args.output, run_name=args.run_name, seed=args.seed, strategy=args.strategy, noise=args.noise)


def command_train(args: argparse.Namespace) -> int:
    from colorize.dataset import resolve_dataset_path, scan_dataset
    from colorize.devices import load_tensorflow
    from colorize.train import train_model, validate_config

    load_tensorflow()  # quietly, before Keras prints TensorFlow's start-up noise
    config = train_config_from_args(args)
    validate_config(config)  # a bad monitor or size is one line before the scan
    console.info(f"Scanning {config.data} ...")
    scan = scan_dataset(resolve_dataset_path(config.data), progress=DelayedProgressBar("Scanning"))
    bars: list[console.ProgressBar] = []

    def evaluation_progress(done: int, total: int) -> None:
        if not bars:  # made at the first report, so training time does not count in its rate
            bars.append(console.ProgressBar("Evaluating"))
        bars[0](done, total)

    result = train_model(config, notify=console.info, scan=scan, progress=evaluation_progress)
    if result.model_path is None:  # a multi-worker run's non-chief worker
        console.success("This worker's share of the training is done; the chief saved the model and the report.")
        return EXIT_OK
    if result.metrics:
        from colorize.evaluate import format_table

        for line in format_table(result.metrics):
            console.plain(line)
    console.plain(f"  model        {result.model_path}")
    if "model_h5" in result.files:
        console.plain(f"  model (.h5)  {result.files['model_h5']}")
    console.plain(f"  run report   {result.run_dir}  (summary.txt, curves.png, history.csv, metrics.json)")
    if result.results_dir:
        console.plain(f"  test grids   {result.results_dir}")
    if result.interrupted:
        console.warn("Training was stopped by Ctrl-C; the model so far is saved above. To train it further: "
                     f"python -m colorize train --model {result.model_path} ...")
        return EXIT_INTERRUPTED
    console.success("Training finished.")
    return EXIT_OK


def command_predict(args: argparse.Namespace) -> int:
    from colorize.config import PredictConfig
    from colorize.predict import colorize_path

    config = PredictConfig(model=args.model, input=args.input, output=args.output, limit=args.limit,
                           saturation=args.saturation, batch_size=args.batch_size)
    bars: list[console.ProgressBar] = []

    def progress(done: int, total: int) -> None:
        if not bars:  # started at the first report, so model loading does not count in images/s
            bars.append(console.ProgressBar("Colourising"))
        bars[0](done, total)

    result = colorize_path(config, progress=progress, notify=console.info)
    console.success(f"Colourised {len(result.written)} photos into {result.output_dir}")
    if result.skipped_existing:
        console.info(f"{len(result.skipped_existing)} already had a result there and were left as they were.")
    if result.bad:
        console.warn(f"{len(result.bad)} files could not be used and were skipped:")
        for entry in result.bad[:20]:
            console.plain(f"  {entry.path}: {entry.reason or entry.status}")
        if len(result.bad) > 20:
            console.plain(f"  ... and {len(result.bad) - 20} more")
    if result.grids:
        pages = f"{len(result.grids)} {'page' if len(result.grids) == 1 else 'pages'}"
        console.info(f"Comparison grids: {result.grids[0].parent} ({pages})")
    return EXIT_OK


def command_evaluate(args: argparse.Namespace) -> int:
    from colorize.config import EvaluateConfig
    from colorize.evaluate import evaluate_model, format_table

    config = EvaluateConfig(model=args.model, data=args.data, limit=args.limit,
                            output=args.output, run_name=args.run_name,
                            test_size=args.test_size, seed=args.seed)
    # With --json, stdout holds the JSON object alone: messages go to stderr.
    notify = (lambda message: print(message, file=sys.stderr, flush=True)) if args.json else console.info
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar   # started at the first image, not before the model load, so the rate is right
        bar = bar or console.ProgressBar("Evaluating")
        bar(done, total)

    result = evaluate_model(config, progress=progress, notify=notify)
    if args.json:
        print_json(result)
        return EXIT_OK
    console.plain()
    for line in format_table(result):
        console.plain(line)
    console.success(f"Grids and evaluation.json are in {result['results_dir']}")
    return EXIT_OK


# --- parser -----------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colorize",
        description="Colourise black-and-white photos, or train the colouriser on your own photos. "
                    "Run without a subcommand for the interactive wizard.",
    )
    parser.add_argument("--version", action="version", version=f"colorize {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser("scan", help="check a dataset: which files are usable and why not")
    scan.add_argument("path", help="folder, .zip, single image, or 'default'")
    scan.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    scan.add_argument("--print-bad", action="store_true", help="list every unusable file with its reason")
    scan.set_defaults(handler=command_scan)

    train = commands.add_parser("train", help="train a colouriser on colour photos")
    train.add_argument("--data", default="default", help="folder, .zip, or 'default' (default: %(default)s)")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--train-size", type=int, default=None,
                       help="images for training + validation (split 8:2); default: all left after --test-size")
    train.add_argument("--test-size", type=int, default=10)
    train.add_argument("--image-size", type=int, default=None, help="crop side in pixels; default: the preset's")
    train.add_argument("--batch-size", type=int, default=None, help="default: the preset's")
    train.add_argument("--preset", default=DEFAULT_PRESET,
                       help=f"model: {', '.join(PRESETS)} (default: %(default)s; pretrained starts from "
                            "ImageNet-trained EfficientNet-Lite0 and gives the best colours)")
    train.add_argument("--model", default="new", help="'new', or a saved .keras/.h5 model to continue training")
    train.add_argument("--monitor", default="val_loss", help="what the best-model checkpoint watches")
    train.add_argument("--no-save-best", dest="save_best", action="store_false",
                       help="keep the last epoch instead of the best one")
    train.add_argument("--early-stopping", action="store_true")
    train.add_argument("--tensorboard", action="store_true")
    train.add_argument("--h5", dest="save_h5", action="store_true", help="also save model.h5")
    train.add_argument("--noise", type=float, default=0.0, help="std of noise added to L while training")
    train.add_argument("--strategy", default="auto", help="auto, one, mirrored or multiworker")
    train.add_argument("--output", default=None, help="output root (default: ./OUTPUT)")
    train.add_argument("--run-name", default=None, help="run folder name; the same name resumes a killed run")
    train.add_argument("--seed", type=int, default=42)
    train.set_defaults(handler=command_train)

    predict = commands.add_parser("predict", help="colourise photos with a saved model")
    predict.add_argument("--model", default="default", help="a .keras/.h5 model, or 'default'")
    predict.add_argument("--input", required=True, help="image, folder or .zip")
    predict.add_argument("--output", default=None,
                         help="folder for the results (the same folder continues an interrupted run)")
    predict.add_argument("--limit", type=positive_int, default=None)
    predict.add_argument("--saturation", type=float, default=1.0, help="scale the colours (1.0 = as predicted)")
    predict.add_argument("--batch-size", type=positive_int, default=8)
    predict.set_defaults(handler=command_predict)

    evaluate = commands.add_parser("evaluate", help="score a model against colour photos and the gray baseline")
    evaluate.add_argument("--model", default="default", help="a .keras/.h5 model, or 'default'")
    evaluate.add_argument("--data", required=True, help="colour photos: folder, .zip, file or 'default'")
    evaluate.add_argument("--limit", type=positive_int, default=None)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    evaluate.add_argument("--output", default=None, help="output root (default: ./OUTPUT)")
    evaluate.add_argument("--run-name", default=None)
    evaluate.add_argument("--test-size", type=int, default=None,
                          help="score only the test split that `train --test-size N --seed S` held out")
    evaluate.add_argument("--seed", type=int, default=42, help="the seed of that split (default: %(default)s)")
    evaluate.set_defaults(handler=command_evaluate)

    info = commands.add_parser("info", help="versions, devices (GPU or CPU) and paths")
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=command_info)
    return parser


def run_handler(args: argparse.Namespace) -> int:
    """Run a subcommand, turning every failure into one line and an exit code."""
    from colorize.paths import write_error_log

    try:
        return args.handler(args)
    except ColorizeError as error:
        console.error(str(error))
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        console.error("Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `colorize scan --json | head`: the reader left, which is no crash to log
        # (this went to colorize-error.log as "unexpected"). Point stdout at
        # devnull so the interpreter's last flush stays quiet (Python docs, signal).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_USER_ERROR
    except Exception:  # never a traceback on the user's screen
        log_path = write_error_log(traceback.format_exc())
        console.error(f"Something unexpected went wrong; the details are in {log_path}")
        return EXIT_USER_ERROR


def main(argv: list[str] | None = None) -> int:
    """Entry point of `colorize` and `python -m colorize`; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from colorize.wizard import run_wizard

        return run_wizard()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_request:  # argparse: --help is 0, bad usage 2
        return int(exit_request.code or 0)
    if args.command is None:
        build_parser().print_help()
        return EXIT_USAGE
    return run_handler(args)
