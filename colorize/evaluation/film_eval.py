"""`evaluate` on a colour film: it is grayed here, coloured as `predict` colours films, and scored.

Every frame is scored against its colour original with the usual figures
(metrics.ScoreTotals, pooled over frames as over photos), beside the gray
baseline; `flicker` is the mean ab distance per pixel between consecutive
coloured frames within shots (a cut, found as the steady colour finds it,
starts a new shot), and `flicker_truth` the same for the colour film itself:
what the scene's own motion accounts for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from colorize.constants import FILM_CUT_DISTANCE, FILM_SUFFIXES
from colorize.dataset.color import rgb_to_lab
from colorize.evaluation import metrics
from colorize.inference import film, film_parts
from colorize.inference.fullres import full_lightness
from colorize.inference.steady import SteadyChroma, cut_distance, histogram

if TYPE_CHECKING:
    from colorize.dataset import ScannedFile

Progress = Callable[[int, int], None]


def film_to_score(data: str) -> "ScannedFile | None":
    """Return the film `data` names (a file with a film's suffix), or None for photos."""
    from colorize.dataset import ScannedFile
    from colorize.paths import expand_home

    if Path(str(data)).suffix.lower() not in FILM_SUFFIXES:
        return None
    path = expand_home(str(data), film.FilmError)
    if not path.is_file():
        return None
    return ScannedFile(path.name, str(path.resolve()), None, "film")


class FlickerTotals:
    """Running mean of the ab change between consecutive frames of one shot, for the model and the truth."""

    def __init__(self) -> None:
        self.previous: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.sums = np.zeros(2)
        self.pairs = 0

    def add(self, lightness: np.ndarray, coloured_ab: np.ndarray, true_ab: np.ndarray) -> None:
        current = histogram(lightness)
        if self.previous is not None and cut_distance(self.previous[0], current) <= FILM_CUT_DISTANCE:
            self.sums += [np.linalg.norm(coloured_ab - self.previous[1], axis=-1).mean(),
                          np.linalg.norm(true_ab - self.previous[2], axis=-1).mean()]
            self.pairs += 1
        self.previous = (current, coloured_ab, true_ab)

    def summary(self) -> dict:
        means = self.sums / self.pairs if self.pairs else [None, None]
        return {"flicker": None if means[0] is None else float(means[0]),
                "flicker_truth": None if means[1] is None else float(means[1])}


def evaluate_film(colorizer, entry: "ScannedFile", batch_size: int, progress: Progress | None = None) -> dict:
    """Return the usual figures over the frames of the colour film `entry`, its gray baseline and its flicker."""
    plan = film.plan_films([entry])
    if plan.bad:
        raise film.FilmError(plan.bad[0].reason)
    info = plan.ready[0].info
    model_totals, baseline_totals, flicker = metrics.ScoreTotals(), metrics.ScoreTotals(), FlickerTotals()
    steady = SteadyChroma()
    done = 0
    with film.open_film(entry) as container:
        reader = film.FrameReader(container, info)
        for batch in film_parts.batched(reader, batch_size):
            grays = [metrics.gray_baseline(frame) for frame in batch]
            for original, gray, coloured in zip(batch, grays, film.colorize_frames(colorizer, steady, grays, 1.0)):
                model_totals.add(metrics.score_image(original, coloured))
                baseline_totals.add(metrics.score_image(original, gray))
                flicker.add(full_lightness(gray), rgb_to_lab(coloured)[..., 1:], rgb_to_lab(original)[..., 1:])
            done += len(batch)
            if progress:
                progress(done, max(done, info.frames))
    if reader.stopped_by and done == 0:
        raise film.FilmError(f"{entry.path}: no frame could be read ({reader.stopped_by}).")
    baseline = baseline_totals.summary()
    return {**model_totals.summary(), **flicker.summary(), "frames": done,
            "gray_baseline": {name: baseline[name] for name in metrics.FIGURES}, "grids": []}
