"""Command-line front end: argparse subcommands, exit codes, one-line errors.

Exit codes (README, "What colorize promises"): 0 done; 1 a user error (ColorizeError) shown as one red
line; 2 bad usage (argparse); 130 interrupted. No computation lives here: each
handler builds a config, calls the module that does the work, and prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import MISSING, fields, replace

from colorize import __version__, defaults
from colorize.frontends import console, reporting
from colorize.config import EvaluateConfig, PredictConfig, TrainConfig
from colorize.constants import ENSEMBLE_CHROMA, MAX_ROUNDS, MIN_CROPS_PER_EPOCH, PSEUDO_LABEL_WEIGHTS
from colorize.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_USER_ERROR, ColorizeError
from colorize.models.presets import PRESETS, TEST_PRESETS


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def config_defaults(config_class) -> dict:
    """Return {setting: default} of a config dataclass: the flags' defaults, stated nowhere else."""
    return {field.name: field.default for field in fields(config_class) if field.default is not MISSING}


TRAIN = config_defaults(TrainConfig)
PREDICT = config_defaults(PredictConfig)
EVALUATE = config_defaults(EvaluateConfig)


def print_json(data: dict) -> None:
    """Print one JSON object on stdout and nothing else there."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


# Value checks for train live in TrainConfig (exit 1 with one red line, issue 4);
# argparse only rejects text that is not a number (exit 2).

# --- handlers: one per subcommand ------------------------------------------

def command_info(args: argparse.Namespace) -> int:
    from colorize.frontends.info import collect_info

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
    console.plain(f"  sample photos   {report['sample_photos']}")
    console.plain(f"  encoder weights {report['encoder_weights']}")
    console.plain(f"  output folder   {report['output_dir']}  ({report['output_reason']})")
    return EXIT_OK


def command_scan(args: argparse.Namespace) -> int:
    from colorize.dataset import scan_dataset

    result = scan_dataset(args.path, progress=reporting.scan_progress())
    if args.json:
        print_json(result.to_json())
        return EXIT_OK
    reporting.show_scan(result)
    if args.print_bad:
        reporting.list_bad_files(result.bad, limit=None)
    elif result.bad:
        console.plain("Run again with --print-bad to list them with reasons.")
    return EXIT_OK


def train_config_from_args(args: argparse.Namespace):
    """Return the TrainConfig the train flags describe (preset defaults for size and batch).

    Without --test-size the test size is None here: the default depends on how
    many usable photos the scan finds (defaults.default_test_size).
    """
    from colorize.models.presets import preset_settings

    preset = preset_settings(args.preset)
    return TrainConfig(
        data=args.data, extra_data=args.extra_data, epochs=args.epochs, train_size=args.train_size,
        test_size=args.test_size,
        image_size=preset["image_size"] if args.image_size is None else args.image_size,
        batch_size=preset["batch_size"] if args.batch_size is None else args.batch_size,
        preset=args.preset, model=args.model, monitor=args.monitor, save_best=args.save_best,
        early_stopping=args.early_stopping, tensorboard=args.tensorboard, save_h5=args.save_h5,
        output=args.output, run_name=args.run_name, seed=args.seed, split_seed=args.split_seed,
        strategy=args.strategy, noise=args.noise,
        learning_rate=args.learning_rate, fine_tune_blocks=args.fine_tune_blocks, teacher=args.teacher,
        unlabeled=args.unlabeled, rounds=args.rounds, unlabeled_share=args.unlabeled_share,
        pseudo_label_weights=args.pseudo_label_weights)


def command_train(args: argparse.Namespace) -> int:
    from colorize.dataset import resolve_dataset_path, scan_dataset
    from colorize.training.devices import load_tensorflow
    from colorize.training.train import train_model, validate_config

    console.info("Loading TensorFlow ...")   # seconds, and longer on a busy machine
    load_tensorflow()  # quietly, before Keras prints TensorFlow's start-up noise
    config = train_config_from_args(args)
    validate_config(config)  # a bad monitor or size is one line before the scan
    console.info(f"Scanning {config.data} ...")
    scan = scan_dataset(resolve_dataset_path(config.data), progress=reporting.scan_progress())
    if scan.bad:
        reporting.show_scan(scan)
        reporting.list_bad_files(scan.bad)
    if config.test_size is None:   # the number, not None, goes into the run's config.json
        config = replace(config, test_size=defaults.default_test_size(len(scan.ok), config.train_size))
    result = train_model(config, notify=console.info, scan=scan, progress=reporting.work_progress("Evaluating"))
    reporting.show_train_result(result)
    finished_here = result.model_path is not None   # a non-chief worker's share ends as done
    return EXIT_INTERRUPTED if result.interrupted and finished_here else EXIT_OK


def command_predict(args: argparse.Namespace) -> int:
    from colorize.inference.predict import colorize_path

    config = PredictConfig(models=tuple(args.model or [PREDICT["model"]]),
                           ensemble_chroma=args.ensemble_chroma,
                           input=defaults.resolve_photos_to_colourise(args.input),
                           output=args.output, limit=args.limit, saturation=args.saturation,
                           batch_size=args.batch_size, hints=args.hints, where_to_hint=args.where_to_hint)
    result = colorize_path(config, progress=reporting.work_progress("Colourising"), notify=console.info,
                           scan_progress=reporting.scan_progress())
    reporting.show_predict_result(result)
    return EXIT_OK


def command_evaluate(args: argparse.Namespace) -> int:
    from colorize.evaluation.evaluate import evaluate_model

    config = EvaluateConfig(models=tuple(args.model or [EVALUATE["model"]]), ensemble_chroma=args.ensemble_chroma,
                            data=args.data, limit=args.limit,
                            output=args.output, run_name=args.run_name,
                            test_size=args.test_size, seed=args.seed, hints=args.hints)
    # With --json, stdout holds the JSON object alone: messages go to stderr.
    notify = (lambda message: print(message, file=sys.stderr, flush=True)) if args.json else console.info
    result = evaluate_model(config, progress=reporting.work_progress("Evaluating"), notify=notify,
                            scan_progress=reporting.scan_progress())
    if args.json:
        print_json(result)
    else:
        reporting.show_evaluation(result)
    return EXIT_OK


# --- parser -----------------------------------------------------------------

def add_model_arguments(command: argparse.ArgumentParser) -> None:
    """Add predict's and evaluate's --model (repeatable: an ensemble) and --ensemble-chroma."""
    command.add_argument("--model", action="append", default=None,
                         help="a .keras/.h5 model, or 'default' (the default); repeat it to combine "
                              "several models into an ensemble")
    command.add_argument("--ensemble-chroma", choices=ENSEMBLE_CHROMA, default=PREDICT["ensemble_chroma"],
                         help="how several models' colours are combined: 'keep' takes the hue of their mean "
                              "and their mean saturation, 'mean' averages them (muted where they disagree) "
                              "(default: %(default)s)")


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
    train.add_argument("--data", default=TRAIN["data"], help="folder, .zip, or 'default' (default: %(default)s)")
    train.add_argument("--extra-data", default=TRAIN["extra_data"], metavar="PATH",
                       help="more colour photos (folder or .zip) to train on only: validation and test "
                            "photos all come from --data, so figures stay comparable with runs without them")
    train.add_argument("--epochs", type=int, default=TRAIN["epochs"],
                       help=f"how long to train: an epoch is at least {MIN_CROPS_PER_EPOCH} random crops "
                            "(a pass over the photos if that is more) (default: %(default)s)")
    train.add_argument("--train-size", type=int, default=TRAIN["train_size"],
                       help="images for training + validation (split 8:2); default: all left after --test-size")
    train.add_argument("--test-size", type=int, default=TRAIN["test_size"],
                       help=f"images held out for the final test; default: one usable image in "
                            f"{defaults.TEST_SHARE_DIVISOR}, at most {defaults.MAX_DEFAULT_TEST_SIZE} "
                            "(42 of the 298 default photos)")
    train.add_argument("--image-size", type=int, default=None,
                       help="side of the square crops training learns on, in pixels (results keep each "
                            "photo's own size); default: the preset's")
    train.add_argument("--batch-size", type=int, default=None, help="default: the preset's")
    train.add_argument("--preset", default=TRAIN["preset"],
                       help=f"model: {', '.join(name for name in PRESETS if name not in TEST_PRESETS)}, or "
                            f"{', '.join(TEST_PRESETS)} for tests (default: %(default)s; pretrained starts from "
                            "ImageNet-trained EfficientNet-Lite0 and gives the best colours)")
    train.add_argument("--model", default=TRAIN["model"],
                       help="'new', or a saved .keras/.h5 model to continue training (default: %(default)s)")
    train.add_argument("--monitor", default=TRAIN["monitor"], help="what the best-model checkpoint watches")
    train.add_argument("--no-save-best", dest="save_best", action="store_false", default=TRAIN["save_best"],
                       help="keep the last epoch instead of the best one")
    train.add_argument("--early-stopping", action="store_true", default=TRAIN["early_stopping"])
    train.add_argument("--tensorboard", action="store_true", default=TRAIN["tensorboard"])
    train.add_argument("--h5", dest="save_h5", action="store_true", default=TRAIN["save_h5"],
                       help="also save model.h5")
    train.add_argument("--noise", type=float, default=TRAIN["noise"], help="std of noise added to L while training")
    train.add_argument("--strategy", default=TRAIN["strategy"], help="auto, one, mirrored or multiworker")
    train.add_argument("--learning-rate", type=float, default=TRAIN["learning_rate"],
                       help="Adam's starting rate; default: the preset's")
    train.add_argument("--fine-tune-blocks", type=int, default=TRAIN["fine_tune_blocks"],
                       help="pretrained preset: also train the encoder's top N blocks of 16 (its BatchNorm "
                            "stays frozen); 0 keeps the ImageNet encoder frozen (default: %(default)s)")
    selftraining = train.add_argument_group(
        "self-training", "learn from photos without colour too: a teacher model colourises them, and a "
                         "student of --preset learns from those colours and the true colours of --data "
                         "(Noisy Student; a smaller preset than the teacher's distils it into a faster model)")
    selftraining.add_argument("--teacher", default=TRAIN["teacher"],
                              help="a saved .keras/.h5 colorize model, or 'default'")
    selftraining.add_argument("--unlabeled", default=TRAIN["unlabeled"],
                              help="folder, .zip or file of photos without colour (colour ones are used as gray)")
    selftraining.add_argument("--rounds", type=int, default=TRAIN["rounds"],
                              help=f"each round's student teaches the next round, 1 to {MAX_ROUNDS} "
                                   "(default: %(default)s)")
    selftraining.add_argument("--unlabeled-share", type=float, default=TRAIN["unlabeled_share"],
                              help="share of each epoch's crops taken from the teacher's photos "
                                   "(default: %(default)s)")
    selftraining.add_argument("--pseudo-label-weights", choices=PSEUDO_LABEL_WEIGHTS,
                              default=TRAIN["pseudo_label_weights"],
                              help="how much each pixel of the teacher's colour counts: its confidence, or "
                                   "'none' (all as much as a true colour) (default: %(default)s)")
    train.add_argument("--output", default=TRAIN["output"], help="output root (default: ./OUTPUT)")
    train.add_argument("--run-name", default=TRAIN["run_name"],
                       help="run folder name; the same name resumes a killed run")
    train.add_argument("--seed", type=int, default=TRAIN["seed"], help="(default: %(default)s)")
    train.add_argument("--split-seed", type=int, default=TRAIN["split_seed"],
                       help="seed of the train/validation/test split (default: --seed); the same split seed with "
                            "another --seed trains again on the same photos, to see how much a result varies")
    train.set_defaults(handler=command_train)

    predict = commands.add_parser("predict", help="colourise photos with a saved model")
    add_model_arguments(predict)
    predict.add_argument("--input", required=True,
                         help="image, folder or .zip, or 'default' for the shipped black-and-white samples")
    predict.add_argument("--output", default=PREDICT["output"],
                         help="folder for the results (the same folder continues an interrupted run)")
    predict.add_argument("--limit", type=positive_int, default=PREDICT["limit"])
    predict.add_argument("--saturation", type=float, default=PREDICT["saturation"],
                         help="scale the colours (1.0 = as predicted; default: %(default)s)")
    predict.add_argument("--batch-size", type=positive_int, default=PREDICT["batch_size"],
                         help=f"photos per model call (default: {defaults.PREDICT_BATCH_SIZE_CPU} on a CPU, "
                              f"where it is fastest; {defaults.PREDICT_BATCH_SIZE_GPU} on a GPU)")
    predict.add_argument("--hints", default=PREDICT["hints"], metavar="PATH",
                         help="colours you give: a points .json or a painted .png for one photo; for a folder "
                              "or .zip, a folder of NAME.json / NAME.png, one per photo that has hints")
    predict.add_argument("--where-to-hint", action="store_true", default=PREDICT["where_to_hint"],
                         help="also write where-to-hint/NAME.png (red where the model is least sure) and "
                              "NAME.json (suggested points with its likeliest colours: edit, then give to --hints)")
    predict.set_defaults(handler=command_predict)

    evaluate = commands.add_parser("evaluate", help="score a model against colour photos and the gray baseline")
    add_model_arguments(evaluate)
    evaluate.add_argument("--data", required=True, help="colour photos: folder, .zip, file or 'default'")
    evaluate.add_argument("--limit", type=positive_int, default=EVALUATE["limit"])
    evaluate.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    evaluate.add_argument("--output", default=EVALUATE["output"], help="output root (default: ./OUTPUT)")
    evaluate.add_argument("--run-name", default=EVALUATE["run_name"])
    evaluate.add_argument("--test-size", type=int, default=EVALUATE["test_size"],
                          help="score only the test split that `train --test-size N --seed S` held out")
    evaluate.add_argument("--seed", type=int, default=EVALUATE["seed"],
                          help="the seed of that split: train's --split-seed, else its --seed (default: %(default)s)")
    evaluate.add_argument("--hints", type=int, default=EVALUATE["hints"], metavar="N",
                          help="steer each photo with N simulated hint points (seeded random places, each the "
                               "mean true colour of a small patch), as a person would (default: %(default)s)")
    evaluate.set_defaults(handler=command_evaluate)

    info = commands.add_parser("info", help="versions, devices (GPU or CPU) and paths")
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=command_info)
    return parser


def run_handler(args: argparse.Namespace) -> int:
    """Run a subcommand, turning every failure into one line and an exit code."""
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
        reporting.show_unexpected_error()
        return EXIT_USER_ERROR


def main(argv: list[str] | None = None) -> int:
    """Entry point of `colorize` and `python -m colorize`; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from colorize.frontends.wizard import run_wizard

        return run_wizard()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_request:  # argparse: --help is 0, bad usage 2
        return int(exit_request.code or 0)
    if args.command is None:
        build_parser().print_help()
        return EXIT_USAGE
    return run_handler(args)
