"""The wizard's third path: improve a model with photos that have no colour (self-training, issue 16).

A teacher model colours the person's album; a student learns from those
colours beside colour photos, in rounds (selftrain.py). The questions end in
one TrainConfig for the same train_model the CLI's `train --teacher` calls.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from colorize.frontends import console, reporting
from colorize.config import TrainConfig
from colorize.constants import DEFAULT_ROUNDS, MAX_ROUNDS
from colorize.errors import ColorizeError
from colorize.models.presets import DEFAULT_PRESET, PRESETS
from colorize.frontends.wizard_questions import (ask_dataset_and_scan, ask_epochs, ask_image_size, ask_usable_model,
                                       describe_hardware, offer_to_open)

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


def self_training_path() -> None:
    """Ask for a teacher, photos without colour, colour photos, a student, rounds and epochs; train in rounds."""
    from colorize.training import train

    console.info(SELF_TRAINING_INTRO)
    teacher = ask_usable_model("Model that colours your photos first", check_teacher_model)
    unlabeled = ask_photos_without_colour()
    console.info("The new model also learns from colour photos, so it keeps real colours in mind.")
    data, scan = ask_dataset_and_scan()
    preset = ask_student_preset()
    rounds = ask_rounds()
    config = TrainConfig(data=data, preset=preset, image_size=ask_image_size(preset, None),
                         batch_size=PRESETS[preset]["batch_size"], teacher=teacher, unlabeled=unlabeled, rounds=rounds, run_name=free_self_training_name())
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
    from colorize.training import devices

    console.info("Checking the model...")
    devices.load_tensorflow()  # quietly, before Keras is imported
    from colorize.training.pseudolabel import check_teacher

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


def ask_rounds() -> int:
    """Return how many rounds to train: 1..MAX_ROUNDS, DEFAULT_ROUNDS on Enter (as `train --rounds`)."""
    return console.ask_int("How many rounds (each one trains a new model, taught by the one before)?",
                           1, MAX_ROUNDS, DEFAULT_ROUNDS)


def self_training_folder(run_name: str) -> Path:
    """Return OUTPUT/models/<run_name>, where a self-training keeps rounds.json and its report."""
    from colorize.paths import models_root

    return models_root(None) / run_name  # the wizard never sets --output


def free_self_training_name() -> str:
    """Return a self-training name with no folder yet: "self-training", else "self-training-2", ...

    A fresh name each time: the wizard never continues an older, unfinished
    self-training by accident, nor stops on one started with other settings.
    """
    from colorize.training.selftrain import DEFAULT_RUN_NAME

    index = 1
    while True:
        name = DEFAULT_RUN_NAME if index == 1 else f"{DEFAULT_RUN_NAME}-{index}"
        if console.path_kind(self_training_folder(name)) is None:
            return name
        index += 1
