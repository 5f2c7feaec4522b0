"""A loaded model and the rules to run it on photos of any size: the Colorizer.

The model sees the lightness L at its own working size; the ab it predicts is
smoothed along L's edges, resized back to the input's size and merged with the
input's own full-size L (fullres.py), so outputs are as sharp as the inputs and
exactly their size. Several models make an ensemble (ensemble.py) whose
combined ab is merged the same way. Files, folders and zips are predict.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from colorize.constants import CHROMA_FILTER_EPS, CHROMA_FILTER_RADIUS_SHARE, PREDICT_LONG_SIDE
from colorize.dataset import color
from colorize.inference.ensemble import EnsembleColorizer, check_distinct_models
from colorize.inference.fullres import colorize_images, resize_plane
from colorize.inference.guided_filter import guided_filter
from colorize.models.modelfile import inspect_model, load_model_file, resolve_model_path

if TYPE_CHECKING:
    import keras

    from colorize.hints.sources import Hints


def smooth_chroma(working_lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Return `ab` (working size, Lab units) smoothed along the edges of L (0..100) at the same size."""
    radius = max(1, round(max(ab.shape[:2]) * CHROMA_FILTER_RADIUS_SHARE))
    smoothed = guided_filter(working_lightness / 100.0, ab, radius, CHROMA_FILTER_EPS)
    return smoothed.astype(np.float32)


@dataclass
class _PreparedImage:
    working_lightness: np.ndarray   # L at the model's working size, the guide for smooth_chroma
    model_input: np.ndarray   # (h, w, 1) float32 at the model's working size


class Colorizer:
    """A loaded model plus the rules to run it on photos of any size."""

    def __init__(self, model: "keras.Model", working_long_side: int = PREDICT_LONG_SIDE,
                 smooth: bool = True):
        from colorize.models.hint_model import has_hint_inputs

        self.model = model
        self.info = inspect_model(model)
        self.takes_hints = has_hint_inputs(model)   # a hint model (models/hint_model.py) reads them itself
        self.working_long_side = working_long_side
        self.smooth = smooth   # False gives the model's raw ab (benchmarks compare both)
        self._run_model = None

    @classmethod
    def from_path(cls, path: str | Path) -> "Colorizer":
        """Return a Colorizer for the model file at `path` ("default" = the shipped model)."""
        return cls(load_model_file(resolve_model_path(str(path))))

    @classmethod
    def from_paths(cls, paths: Sequence[str | Path], combine: str) -> "Colorizer | EnsembleColorizer":
        """Return a Colorizer for one model file, or an EnsembleColorizer of several combined by `combine`.

        Every path is resolved and checked (missing, given twice) before the first
        model loads, so a bad one fails in a line before any slow work.
        """
        resolved = check_distinct_models([resolve_model_path(str(path)) for path in paths])
        if len(resolved) == 1:
            return cls.from_path(resolved[0])
        return EnsembleColorizer([cls.from_path(path) for path in resolved], combine)

    def working_size(self, height: int, width: int) -> tuple[int, int]:
        """Return the (h, w) the model sees for an image of (height, width)."""
        if self.info.input_size is not None:
            return self.info.input_size
        multiple = self.info.size_multiple
        # Never upsample: a small photo is worked on at its own size.
        scale = min(self.working_long_side, max(height, width)) / max(height, width)
        return tuple(max(multiple, round(side * scale / multiple) * multiple) for side in (height, width))

    def _prepare(self, lightness: np.ndarray) -> _PreparedImage:
        working = resize_plane(lightness, *self.working_size(*lightness.shape))
        if self.info.kind == "ab":
            model_input = color.normalize_l(working)
        else:  # older RGB colourisers take the gray picture itself, 0..1
            model_input = color.gray_to_rgb(working)[..., 0]
        return _PreparedImage(working, model_input[..., None].astype(np.float32))

    def _predict_ab(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Run the model on same-size groups of inputs; return ab in Lab units for each."""
        groups: dict[tuple, list[int]] = {}
        for index, model_input in enumerate(inputs):
            groups.setdefault(model_input.shape, []).append(index)
        predictions: list[np.ndarray] = [np.empty(0)] * len(inputs)
        for indices in groups.values():
            batch = np.stack([inputs[index] for index in indices])
            output = np.asarray(self._model_function()(batch)[0], dtype=np.float32)
            for index, single in zip(indices, output):
                predictions[index] = self._ab_of(single)
        return predictions

    def gives_hint_features(self) -> bool:
        """Return whether the model has the feature map hints spread along (feature_edges.FEATURE_LAYER)."""
        from colorize.hints.feature_edges import FEATURE_LAYER

        return self.info.kind == "ab" and any(layer.name == FEATURE_LAYER for layer in self.model.layers)

    def predict_chroma_and_features(self, lightnesses: Sequence[np.ndarray],
                                    hints: "Sequence[Hints | None] | None" = None) -> tuple[list, list]:
        """Return predict_chroma's ab and, from the same model run, each input's hint feature map.

        A model that takes hints gets each image's `hints` (at its working size) as input.
        """
        prepared = [self._prepare(lightness) for lightness in lightnesses]
        hints = list(hints) if hints is not None else [None] * len(prepared)
        chroma, features = [], []
        for item, image_hints in zip(prepared, hints):   # one at a time: hints are a person's few photos
            # Without hints, called as _predict_ab calls it: one trace serves both.
            planes = self._hint_planes(item, image_hints) if self.takes_hints else ()
            output, feature_map = self._model_function()(item.model_input[None], *planes)
            ab = self._ab_of(np.asarray(output, np.float32)[0])
            chroma.append(smooth_chroma(item.working_lightness, ab) if self.smooth else ab)
            features.append(np.asarray(feature_map, np.float32)[0])
        return chroma, features

    @staticmethod
    def _hint_planes(item: _PreparedImage, image_hints: "Hints | None") -> tuple:
        """Return a hint model's (planes, mask) batch of one for hints given at the photo's full size, or ()
        for none (the model function then gives it zero planes itself)."""
        from colorize.hints.sources import hints_at_size
        from colorize.models.hint_model import hint_planes

        if image_hints is None:
            return ()
        working = hints_at_size(image_hints, *item.model_input.shape[:2])
        planes, mask = hint_planes(working.mask, working.ab)
        return planes[None], mask[None]

    def _model_function(self):
        """Return the model as one traced function of (L batch[, hint planes, mask]) to (its output,
        the hint feature map or None).

        Traced: ~25% faster than eager calls on CPU (0.095 vs 0.128 s per
        256x192 image, cpu preset); reduce_retracing keeps new image sizes from
        tracing it again. One function gives colour alone and colour with the
        feature map: a second traced copy for hints cost ~20 MiB more at 12 MP.
        """
        if self._run_model is None:
            import tensorflow as tf

            from colorize.models.hint_model import call_inputs

            model, takes_hints, with_features = self.model, self.takes_hints, self.gives_hint_features()
            if with_features:
                from colorize.hints.feature_edges import FEATURE_LAYER, feature_model

                model = feature_model(model, (FEATURE_LAYER,))

            def run(batch, planes=None, mask=None):
                outputs = model(call_inputs(takes_hints, batch, planes, mask), training=False)
                return tuple(outputs) if with_features else (outputs, None)

            self._run_model = tf.function(run, reduce_retracing=True)
        return self._run_model

    def _ab_of(self, output: np.ndarray) -> np.ndarray:
        if self.info.kind == "ab":
            return color.denormalize_ab(output)
        return color.rgb_to_lab(np.clip(output, 0.0, 1.0))[..., 1:]

    def predict_chroma(self, lightnesses: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Return the ab (Lab units) predicted for each full-size L, at the model's working size.

        Smoothed along L's edges (smooth_chroma) unless self.smooth is False;
        an ensemble (ensemble.py) combines these before the merge.
        """
        prepared = [self._prepare(lightness) for lightness in lightnesses]
        predictions = self._predict_ab([item.model_input for item in prepared])
        if self.smooth:
            predictions = [smooth_chroma(item.working_lightness, ab) for item, ab in zip(prepared, predictions)]
        return predictions

    def colorize_batch(self, images: Sequence[np.ndarray], saturation: float = 1.0,
                       hints: "Sequence[Hints | None] | None" = None) -> list[np.ndarray]:
        """Return each image colourised: uint8 (H, W, 3) RGB of the same size as its input.

        `hints`, one per image (None for none), steer the colour (colorize/hints/).
        """
        return colorize_images(self, images, saturation, hints)

    def colorize(self, rgb: np.ndarray, saturation: float = 1.0, hints: "Hints | None" = None) -> np.ndarray:
        """Return one image colourised (colour inputs are reduced to their L first), steered by `hints`."""
        return self.colorize_batch([rgb], saturation, [hints])[0]
