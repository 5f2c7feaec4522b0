"""Pseudo-labels for self-training (issue 16): a teacher colourises unlabeled photos.

The teacher is a saved colorize colouriser (L in, ab out). It sees each photo's
L at training resolution, without noise (Xie et al. 2020: the teacher labels
clean inputs, only the student is noised), and each result is written as an
RGBA PNG the loader reads back:

- RGB: the photo's own L at the work size joined with the teacher's ab
  (smoothed along L's edges, as predict does), as sRGB uint8;
- A: how far the teacher can be trusted at each pixel, 0..255.

Files are named `<5-digit index>-<safe stem>.png`, written atomically, and an
existing file is kept: a killed run resumes without labelling again.

TensorFlow is imported lazily: check_teacher refuses a missing path before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
from PIL import Image

from colorize.dataset import color
from colorize.errors import ColorizeError, ModelError, UsageError
from colorize.models.modelfile import ModelInfo, inspect_model, load_model_file, resolve_model_path
from colorize.inference.colorizer import smooth_chroma
from colorize.inference.fullres import full_lightness, resize_plane

if TYPE_CHECKING:
    import keras

    from colorize.dataset import ScannedFile

Notify = Callable[[str], None]
Progress = Callable[[int, int], None]

# Confidence of a regression teacher: exp(-|ab(photo) - mirrored ab(mirror)| / scale).
# Measured on data/default's 51 validation photos (BENCHMARKS.md, "Pseudo-label
# confidence (issue 16)"): a weak signal for the old cpu-preset teacher (Spearman
# rho with ab error -0.16; mean error 20.7 in its least sure quartile, 15.3 in its
# surest). Ranks do not depend on the scale; of 2, 3, 5 and 10, scale 2 keeps the
# weights nearest to how often the label is within 10 ab units (calibration gap
# 0.23 against 0.27-0.48); larger scales call almost every pixel sure.
FLIP_AGREEMENT_SCALE = 2.0

@dataclass(frozen=True)
class Teacher:
    """A loaded colouriser that may label photos, and what it expects."""

    model: "keras.Model"
    info: ModelInfo
    class_head: bool        # ab from an annealed mean over ab classes: confidence from its distribution
    temperature: float      # the softmax temperature the model decodes at (1.0 for regression)


@dataclass(frozen=True)
class Labelled:
    """One photo as the teacher saw and coloured it, at the work size."""

    lightness: np.ndarray   # (h, w) L 0..100
    ab: np.ndarray          # (h, w, 2) Lab units, smoothed along L's edges
    confidence: np.ndarray  # (h, w) 0..1


def check_teacher(path: str | Path) -> Teacher:
    """Return the teacher saved at `path`; ModelError unless it takes L (1 channel) and gives ab (2)."""
    resolved = resolve_model_path(str(path))       # a missing file fails here, before TensorFlow loads
    return teacher_of(load_model_file(resolved), resolved.name)


def teacher_of(model: "keras.Model", name: str | None = None) -> Teacher:
    """Return `model` as a Teacher; ModelError unless it is an ab colouriser."""
    from colorize.models import ab_classes

    name = name or model.name
    info = inspect_model(model)
    if info.kind != "ab":
        raise ModelError(f"{name} is an RGB colouriser (1 channel in, 3 out); a teacher must be a "
                         "colorize model that predicts ab (1 channel in, 2 out).")
    if not ab_classes.has_class_head(model):
        return Teacher(model, info, class_head=False, temperature=1.0)
    temperature = ab_classes.class_head_settings(model)["temperature"]
    return Teacher(model, info, class_head=True, temperature=temperature)


def as_teacher(teacher: "Teacher | keras.Model | str | Path") -> Teacher:
    """Return a Teacher from a Teacher, a loaded keras model or a model path."""
    if isinstance(teacher, Teacher):
        return teacher
    if isinstance(teacher, (str, Path)):
        return check_teacher(teacher)
    return teacher_of(teacher)


def work_size(height: int, width: int, short_side: int, info: ModelInfo) -> tuple[int, int]:
    """Return the (h, w) a photo is labelled at: short side `short_side`, both sides a multiple the model takes."""
    if info.input_size is not None:
        return info.input_size
    multiple = info.size_multiple
    scale = short_side / min(height, width)   # small photos are scaled up too: every label has one size class
    return tuple(max(multiple, round(side * scale / multiple) * multiple) for side in (height, width))


# --- confidence -------------------------------------------------------------------

def class_probabilities(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Return softmax(logits / T) over the last axis, float32."""
    scaled = logits.astype(np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exponent = np.exp(scaled)
    return (exponent / exponent.sum(axis=-1, keepdims=True)).astype(np.float32)


def entropy_confidence(probabilities: np.ndarray) -> np.ndarray:
    """Return 1 - entropy / log(Q) per pixel: 1 for one sure class, 0 for a flat distribution."""
    entropy = -(probabilities * np.log(np.maximum(probabilities, 1e-12))).sum(axis=-1)
    return (1.0 - entropy / np.log(probabilities.shape[-1])).astype(np.float32)


def max_probability_confidence(probabilities: np.ndarray) -> np.ndarray:
    """Return the largest class probability per pixel."""
    return probabilities.max(axis=-1).astype(np.float32)


def flip_agreement(ab: np.ndarray, ab_of_mirror: np.ndarray, scale: float = FLIP_AGREEMENT_SCALE) -> np.ndarray:
    """Return exp(-|ab - ab of the mirrored photo, mirrored back| / scale) per pixel (Lab units in)."""
    gap = np.linalg.norm(ab - ab_of_mirror[:, ::-1], axis=-1)
    return np.exp(-gap / scale).astype(np.float32)


# A class-head teacher's own distribution ranks its errors far better than flip
# agreement does (Spearman rho -0.47 against -0.26; mean ab error 23.1 in the least
# sure quartile, 9.2 in the surest). 1 - entropy / log Q ranks as well as the max
# probability (-0.48) and is the better weight: its quartile means sit nearer the
# share of labels within 10 ab units (calibration gap 0.11 against 0.18; the max
# probability of a 10-wide bin averages 0.22 where 40% of labels are that close).
CLASS_HEAD_CONFIDENCE = entropy_confidence


# --- running the teacher ----------------------------------------------------------

class TeacherRunner:
    """The teacher as a traced function giving its raw outputs for one L at the work size."""

    def __init__(self, teacher: Teacher):
        import keras
        import tensorflow as tf

        from colorize.models import ab_classes
        from colorize.models.hint_model import call_inputs, has_hint_inputs

        self.teacher = teacher
        model = teacher.model
        if teacher.class_head:   # one pass for both the decoded ab and the logits behind it
            logits = model.get_layer(ab_classes.LOGITS_LAYER).output
            model = keras.Model(model.inputs, [model.outputs[0], logits], name=f"{model.name}_with_logits")
        takes_hints = has_hint_inputs(model)   # a hint model teaches with no hints: its automatic colour
        # reduce_retracing: each photo's aspect ratio gives a new input shape
        self._call = tf.function(lambda batch: model(call_inputs(takes_hints, batch), training=False),
                                 reduce_retracing=True)

    def outputs(self, lightness: np.ndarray, mirrored: bool) -> dict[str, np.ndarray]:
        """Return ab (Lab units), and logits (class head) or ab_of_mirror (when `mirrored`)."""
        model_input = color.normalize_l(lightness)[None, ..., None]
        if mirrored:
            model_input = np.concatenate([model_input, model_input[:, :, ::-1]])
        result = self._call(model_input)
        ab_batch, logits = (result if self.teacher.class_head else (result, None))
        ab_batch = color.denormalize_ab(np.asarray(ab_batch, np.float32))
        found = {"ab": ab_batch[0]}
        if mirrored:
            found["ab_of_mirror"] = ab_batch[1]
        if logits is not None:
            found["logits"] = np.asarray(logits, np.float32)[0]
        return found


def confidence_of(runner: TeacherRunner, outputs: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Return the chosen per-pixel confidence (0..1) at `shape` from the teacher's outputs."""
    if runner.teacher.class_head:
        probabilities = class_probabilities(outputs["logits"], runner.teacher.temperature)
        confidence = CLASS_HEAD_CONFIDENCE(probabilities)   # at the head's resolution
    else:
        confidence = flip_agreement(outputs["ab"], outputs["ab_of_mirror"])
    return np.clip(resize_plane(confidence, *shape), 0.0, 1.0)


def label_lightness(runner: TeacherRunner, lightness: np.ndarray) -> Labelled:
    """Return the teacher's smoothed ab and confidence for one L already at the work size."""
    outputs = runner.outputs(lightness, mirrored=not runner.teacher.class_head)
    confidence = confidence_of(runner, outputs, lightness.shape)
    return Labelled(lightness, smooth_chroma(lightness, outputs["ab"]), confidence)


# --- files ------------------------------------------------------------------------

def label_file_name(index: int, photo: "ScannedFile") -> str:
    """Return `<5-digit index>-<safe stem>.png`: unique by index, readable by stem."""
    from colorize.paths import safe_name

    return f"{index:05d}-{safe_name(PurePosixPath(photo.path).stem)}.png"


def label_rgba(labelled: Labelled) -> np.ndarray:
    """Return the uint8 RGBA pseudo-label: RGB of L with the teacher's ab, A the confidence."""
    lab = np.concatenate([labelled.lightness[..., None], labelled.ab], axis=-1)
    rgb = (color.lab_to_rgb(lab) * 255.0 + 0.5).astype(np.uint8)
    alpha = (labelled.confidence * 255.0 + 0.5).astype(np.uint8)
    return np.concatenate([rgb, alpha[..., None]], axis=-1)


def write_label(target: Path, rgba: np.ndarray) -> Path:
    """Write the RGBA array as a PNG at `target`, atomically; return `target`."""
    from colorize.training.runfolder import write_atomically

    return write_atomically(target, lambda temporary: Image.fromarray(rgba, "RGBA").save(temporary, format="PNG"),
                            action="write the pseudo-label")


def photo_lightness(photo: "ScannedFile", short_side: int, info: ModelInfo,
                    notify: Notify | None = None) -> np.ndarray | None:
    """Return the photo's L (0..100) at its work size; None (told through `notify`) if it cannot be read now."""
    from colorize.dataset import load_rgb

    try:
        lightness = full_lightness(load_rgb(photo))
    except (ColorizeError, OSError) as error:   # the scan only sampled the file; it may fail now
        if notify:
            notify(f"Skipped {photo.path}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
        return None
    return resize_plane(lightness, *work_size(*lightness.shape, short_side, info))


def label_photos(teacher: "Teacher | keras.Model | str | Path", photos: Sequence["ScannedFile"], folder: Path,
                 short_side: int, notify: Notify | None = None, progress: Progress | None = None) -> list[Path]:
    """Return the pseudo-label files of `photos` in their order, writing those not there yet.

    A photo that cannot be decoded now is reported through `notify` and left out.
    """
    if short_side < 1:
        raise UsageError(f"The pseudo-label size must be at least 1 pixel, got {short_side}.")
    teacher = as_teacher(teacher)
    folder.mkdir(parents=True, exist_ok=True)
    runner: TeacherRunner | None = None    # built at the first photo to label: a resumed run may need none
    written: list[Path] = []
    for index, photo in enumerate(photos):
        target = folder / label_file_name(index, photo)
        if target.exists():
            written.append(target)
        elif (lightness := photo_lightness(photo, short_side, teacher.info, notify)) is not None:
            runner = runner or TeacherRunner(teacher)
            written.append(write_label(target, label_rgba(label_lightness(runner, lightness))))
        if progress:
            progress(index + 1, len(photos))
    return written
