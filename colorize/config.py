"""Run settings as frozen dataclasses: the wizard and the CLI both build these and
hand them to the same functions. Every knob is commented; bad values raise
UsageError in __post_init__ before any work starts. Defaults are those the
front ends offer (defaults.py, the default preset); no TensorFlow here, so a
default that depends on the devices is None until the work starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from colorize.constants import (DEFAULT_ENSEMBLE_CHROMA, DEFAULT_ROUNDS, DEFAULT_SEED, ENSEMBLE_CHROMA,
                                MAX_ROUNDS, MAX_SIMULATED_HINTS, PSEUDO_LABEL_WEIGHTS,
                                UNLABELED_SHARE)
from colorize.defaults import DEFAULT_EPOCHS
from colorize.models.presets import (
    DEFAULT_PRESET,
    ENCODER_BLOCKS,
    MAX_IMAGE_SIZE,
    MIN_IMAGE_SIZE,
    PRESETS,
    check_image_size,
    check_monitor,
    check_strategy,
    has_class_head,
    preset_settings,
)
from colorize.models.presets import require as _require


@dataclass(frozen=True)
class TrainConfig:
    data: str = "default"            # folder, .zip, single file, or "default"
    extra_data: str | None = None    # more colour photos to train on only; validation and test stay data's
    epochs: int = DEFAULT_EPOCHS     # an epoch is at least MIN_CROPS_PER_EPOCH random crops (a pass if more)
    train_size: int | None = None    # images for train+validation (8:2); None = all left after the test split
    test_size: int | None = None     # held-out images for the final evaluation; None = decided by the scan:
                                     # defaults.default_test_size (one usable photo in seven, at most 50)
    image_size: int = PRESETS[DEFAULT_PRESET]["image_size"]   # square crop side the model trains on
    batch_size: int = PRESETS[DEFAULT_PRESET]["batch_size"]
    preset: str = DEFAULT_PRESET     # model: pretrained | cpu | gpu | large | tiny (presets.py)
    model: str = "new"               # "new", or a saved model to continue from
    monitor: str = "val_loss"        # what ModelCheckpoint / ReduceLROnPlateau watch
    save_best: bool = True           # keep the best epoch by `monitor`, else the last
    early_stopping: bool = False     # stop when `monitor` stops improving
    tensorboard: bool = False        # write TensorBoard logs into the run folder
    save_h5: bool = False            # also write model.h5
    output: str | None = None        # output root (default: OUTPUT/ or $COLORIZE_OUTPUT)
    run_name: str | None = None      # run folder name; reusing one resumes a killed run
    seed: int = DEFAULT_SEED         # split, crops and weights initialisation
    split_seed: int | None = None    # the split's own seed, so other seeds can train on the same photos;
                                     # None = seed (effective_split_seed)
    strategy: str = "auto"           # distribution: auto | one | mirrored | multiworker
    noise: float = 0.0               # std of Gaussian noise added to L while training
    learning_rate: float | None = None   # Adam's starting rate; None = the preset's
    fine_tune_blocks: int = 0        # pretrained encoder: top blocks (of 16) that train too; 0 = frozen
    # Self-training (selftrain.py, Noisy Student): a teacher colourises photos without colour,
    # and a noised student learns from them beside the colour photos of `data`.
    teacher: str | None = None       # a saved colorize model, or "default"; None = ordinary training
    unlabeled: str | None = None     # folder, .zip or file of photos without colour (colour ones go gray)
    rounds: int = DEFAULT_ROUNDS     # each round's student teaches the next round; 1..MAX_ROUNDS
    unlabeled_share: float = UNLABELED_SHARE   # share of each epoch's crops taken from the teacher's photos
    pseudo_label_weights: str = "confidence"   # each pseudo-labelled pixel weighs: its teacher's
                                               # confidence (pseudolabel.py), or "none": 1, as a true colour

    def __post_init__(self) -> None:
        _require(self.extra_data is None or bool(self.extra_data), "Name the extra training photos (a path).")
        _require(self.epochs >= 1, f"Epochs must be at least 1 (got {self.epochs}).")
        _require(self.train_size is None or self.train_size >= 2,
                 f"Train size must be at least 2 (got {self.train_size}).")
        _require(self.test_size is None or self.test_size >= 0,
                 f"Test size cannot be negative (got {self.test_size}).")
        _require(self.batch_size >= 1, f"Batch size must be at least 1 (got {self.batch_size}).")
        _require(MIN_IMAGE_SIZE <= self.image_size <= MAX_IMAGE_SIZE,
                 f"Image size must be {MIN_IMAGE_SIZE}..{MAX_IMAGE_SIZE} pixels (got {self.image_size}).")
        preset_settings(self.preset)
        if self.model == "new":   # a continued model fixes its own size multiple (checked when loaded)
            check_image_size(self.image_size, self.preset)
        check_monitor(self.monitor)
        check_strategy(self.strategy)
        _require(0.0 <= self.noise <= 1.0, f"Noise must be between 0 and 1 (got {self.noise}).")
        _require(self.learning_rate is None or 0.0 < self.learning_rate <= 1.0,
                 f"Learning rate must be above 0 and at most 1 (got {self.learning_rate}).")
        _require(0 <= self.fine_tune_blocks <= ENCODER_BLOCKS,
                 f"Fine-tune blocks must be 0..{ENCODER_BLOCKS} (got {self.fine_tune_blocks}).")
        _require(self.fine_tune_blocks == 0 or self.model != "new" or has_class_head(self.preset),
                 f"Only the pretrained encoder can be fine-tuned; the {self.preset!r} preset trains "
                 "every layer already.")
        self._check_self_training()

    @property
    def effective_split_seed(self) -> int:
        """Return the seed of the train/validation/test split: split_seed, else seed."""
        return self.seed if self.split_seed is None else self.split_seed

    def _check_self_training(self) -> None:
        """Raise UsageError for self-training settings that cannot work, before any work starts."""
        _require(1 <= self.rounds <= MAX_ROUNDS,
                 f"Rounds must be at least 1 and at most {MAX_ROUNDS} (got {self.rounds}).")
        _require(0.0 < self.unlabeled_share < 1.0,
                 f"The unlabeled share must be above 0 and below 1 (got {self.unlabeled_share}).")
        _require(self.unlabeled is None or self.teacher is not None,
                 "Photos without colour need a teacher to colourise them: add --teacher MODEL (or 'default').")
        _require(self.teacher is None or self.unlabeled is not None,
                 "A teacher needs photos without colour to teach on: add --unlabeled PATH.")
        _require(self.pseudo_label_weights in PSEUDO_LABEL_WEIGHTS,
                 f"Pseudo-label weights are {' or '.join(PSEUDO_LABEL_WEIGHTS)} "
                 f"(got {self.pseudo_label_weights!r}).")
        if self.teacher is None:
            _require(self.rounds == 1, "Rounds need a teacher: add --teacher MODEL --unlabeled PATH.")
            return
        _require(self.model == "new", "A student starts new each round; use --teacher without --model.")
        _require(self.strategy != "multiworker", "Self-training runs on one machine; use --strategy auto.")

    def to_dict(self) -> dict:
        """Return every setting as plain JSON-ready data."""
        return asdict(self)


def _check_models(config: "PredictConfig | EvaluateConfig") -> None:
    """Fill `models` from `model` (or `model` from models[0]) and check the ensemble settings."""
    models = tuple(config.models) or (config.model,)
    _require(config.model in ("default", models[0]),
             f"Give the models either as model or as models, not both ({config.model!r} and {models!r}).")
    _require(all(isinstance(name, str) and name for name in models), "Every --model needs a path.")
    _require(config.ensemble_chroma in ENSEMBLE_CHROMA,
             f"Unknown ensemble combination {config.ensemble_chroma!r}; choose from {', '.join(ENSEMBLE_CHROMA)}.")
    object.__setattr__(config, "models", models)   # frozen: set once, here
    object.__setattr__(config, "model", models[0])


@dataclass(frozen=True)
class PredictConfig:
    model: str = "default"           # saved model path, or "default" (shipped in data/models); models[0]
    models: tuple[str, ...] = ()     # several models make an ensemble (ensemble.py); () = (model,)
    ensemble_chroma: str = DEFAULT_ENSEMBLE_CHROMA   # how an ensemble combines ab: keep | mean
    input: str = ""                  # image, folder (recursive) or .zip
    output: str | None = None        # results folder; reusing one continues an interrupted run
    limit: int | None = None         # colourise at most this many images
    saturation: float = 1.0          # scale on the predicted ab (1.0 = as predicted)
    batch_size: int | None = None    # images per model call; None = decided at run time, when TensorFlow
                                     # is loaded: defaults.default_predict_batch_size (1 on a CPU, 8 on a GPU)
    hints: str | None = None         # a hint file (one photo) or a folder of NAME.json / NAME.png (issue 26)
    where_to_hint: bool = False      # also write where the model is least sure, with suggested points

    def __post_init__(self) -> None:
        _check_models(self)
        _require(bool(self.input), "Name the photos to colourise (--input PATH).")
        _require(self.limit is None or self.limit >= 1, f"Limit must be at least 1 (got {self.limit}).")
        _require(0.0 <= self.saturation <= 5.0, f"Saturation must be between 0 and 5 (got {self.saturation}).")
        _require(self.batch_size is None or self.batch_size >= 1,
                 f"Batch size must be at least 1 (got {self.batch_size}).")


@dataclass(frozen=True)
class EvaluateConfig:
    model: str = "default"           # saved model path, or "default"; models[0]
    models: tuple[str, ...] = ()     # several models: each is scored, and their ensemble; () = (model,)
    ensemble_chroma: str = DEFAULT_ENSEMBLE_CHROMA   # how an ensemble combines ab: keep | mean
    data: str = ""                   # colour photos to score against (folder, zip, file, "default")
    limit: int | None = None         # score at most this many images
    output: str | None = None        # output root for the grids
    run_name: str | None = None
    test_size: int | None = None     # score only the test split `train --test-size N --seed S` held out
    seed: int = DEFAULT_SEED         # the seed of that split
    hints: int = 0                   # simulated hint points per photo (Zhang et al. 2017), seeded by `seed`

    def __post_init__(self) -> None:
        _check_models(self)
        _require(bool(self.data), "Name the colour photos to evaluate on (--data PATH).")
        _require(self.limit is None or self.limit >= 1, f"Limit must be at least 1 (got {self.limit}).")
        _require(self.test_size is None or self.test_size >= 1,
                 f"Test size must be at least 1 (got {self.test_size}).")
        _require(0 <= self.hints <= MAX_SIMULATED_HINTS,
                 f"Hints must be between 0 and {MAX_SIMULATED_HINTS} points (got {self.hints}).")
