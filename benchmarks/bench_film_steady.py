"""Films (issue 28): how the steady colour's settings were chosen, flicker on pans against ghosts on moving things.

Two grainy gray films made as bench_film.py makes them (480x360, grain 6,
12 frames/s), each coloured once by the shipped model; then for each setting
(the new frame's weight, the L-change guard, x264's chroma QP offset) the model's
ab goes through steady.SteadyChroma, the full-size merge and the product's
H.264 encoder (film._write_part), and is decoded again:
- pans: bench_film.py's 3 panned shots with cuts: flicker per pixel and of 8x8
  patches (ab units, along the pan, within shots) and hue recall;
- ghost: a 160x120 crop of one photo sliding over another, still photo: hue
  recall where the crop was in the last 3 frames and is no more (the colour
  the steady average drags behind a thing that moves on its own).
Weight 1.0 is frame by frame. The model runs once per film, so a setting
costs seconds; bench_film.py then measures the chosen one end to end.

    python benchmarks/bench_film_steady.py
    python benchmarks/bench_film_steady.py --settings 1.0/10/-8,0.2/20/0,0.1/10/-8 --frames 24
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_film as films_bench  # noqa: E402
from _common import REPO, machine_line  # noqa: E402

DEFAULT_SETTINGS = "1.0/10/-8,0.2/20/0,0.2/20/-8,0.1/20/-8,0.1/10/-8,0.1/6/-8,0.1/10/0"
CROP = (120, 160)          # the sliding crop's height and width
SLIDE = 10                 # pixels it moves right each frame


def pan_film(frames: int) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    shots = [item for photo, direction in zip(films_bench.PHOTOS, films_bench.PANS)
             for item in films_bench.shot_frames(REPO / "data" / "default" / photo, frames, direction)]
    return [frame for frame, _ in shots], [window for _, window in shots]


def sliding_film(frames: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return (colour frames, where the crop is) of a photo's crop sliding over another, still photo."""
    width, height = films_bench.WIDTH, films_bench.HEIGHT
    def photo(name: str, size: tuple[int, int]) -> np.ndarray:
        return np.asarray(Image.open(REPO / "data" / "default" / name).convert("RGB").resize(
            size, Image.Resampling.BICUBIC))
    background, crop = photo(films_bench.PHOTOS[1], (width, height)), photo(films_bench.PHOTOS[2], CROP[::-1])
    truth, masks = [], []
    for index in range(frames):
        frame, mask = background.copy(), np.zeros((height, width), bool)
        x = SLIDE * index % (width - CROP[1])
        y = height // 3 + round(height / 9 * np.sin(index / 6))
        frame[y:y + CROP[0], x:x + CROP[1]] = crop
        mask[y:y + CROP[0], x:x + CROP[1]] = True
        truth.append(frame)
        masks.append(mask)
    return truth, masks


def model_chroma(truth: list[np.ndarray], work: Path, name: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return (full-size L, the model's ab) of the grainy gray film of `truth`, through H.264 as predict reads it."""
    from colorize.inference.fullres import full_lightness
    from colorize.inference.colorizer import Colorizer

    rng = np.random.default_rng(0)
    film = work / f"{name}.mp4"
    films_bench.write_film(film, [films_bench.grainy_gray(frame, 6.0, rng) for frame in truth])
    lightnesses = [full_lightness(frame) for frame in films_bench.read_film(film)]
    colorizer = Colorizer.from_path("default")
    chroma = [ab for start in range(0, len(lightnesses), 8)
              for ab in colorizer.predict_chroma(lightnesses[start:start + 8])]
    return lightnesses, chroma


def coloured(lightnesses, chroma, setting: tuple[float, float, int], path: Path) -> list[np.ndarray]:
    """Return the ab of the frames steadied with `setting`, merged, encoded as predict encodes and decoded."""
    from colorize.inference import film as films, film_parts
    from colorize.inference.fullres import merge_full_resolution, resize_plane
    from colorize.inference.steady import SteadyChroma

    weight, l_change, chroma_offset = setting
    steady = SteadyChroma(weight, l_change=l_change)
    rgb = [merge_full_resolution(lightness, steady.step(resize_plane(lightness, *ab.shape[:2]), ab))
           for lightness, ab in zip(lightnesses, chroma)]
    height, width = rgb[0].shape[:2]
    film_parts.FILM_CHROMA_QP_OFFSET = chroma_offset   # read by film_parts._add_video_stream
    info = films.FilmInfo(width, height, films.Fraction(films_bench.RATE), len(rgb), False)
    film_parts.write_part(path, film_parts.even_frames(rgb, info), lambda batch: batch, info, 8, lambda count: None)
    return films_bench.ab_of(films_bench.read_film(path))


def ghost_recall(truth_ab, abs_, masks) -> float:
    from colorize.evaluation.metrics import vivid_hues

    hits = vivid = 0
    for index in range(3, len(abs_)):
        trail = (masks[index - 1] | masks[index - 2] | masks[index - 3]) & ~masks[index]
        hues = vivid_hues(truth_ab[index][trail], abs_[index][trail])
        hits += int(hues.hits.sum())
        vivid += hues.hue_gap.size
    return hits / max(vivid, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="frames per pan shot and of the sliding film")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS,
                        help="weight/L change/chroma QP offset, comma separated (default %(default)s)")
    args = parser.parse_args()
    settings = [(float(w), float(l), int(c)) for w, l, c in (item.split("/") for item in args.settings.split(","))]
    print(machine_line())
    pan_truth, windows = pan_film(args.frames)
    slide_truth, masks = sliding_film(args.frames)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        pans, slide = model_chroma(pan_truth, work, "pans"), model_chroma(slide_truth, work, "slide")
        pan_ab, slide_ab = films_bench.ab_of(pan_truth), films_bench.ab_of(slide_truth)
        print(f"pans: 3 shots x {args.frames} frames; ghost: {args.frames} frames; "
              f"{films_bench.WIDTH}x{films_bench.HEIGHT}, grain 6")
        print(f"{'weight':>6s} {'L change':>8s} {'chroma':>6s} {'flicker':>8s} {'8x8':>6s} {'hue recall':>10s} "
              f"{'ghost recall':>12s} {'KiB':>6s}")
        for setting in settings:
            abs_ = coloured(*pans, setting, work / "pans-out.mp4")
            size = (work / "pans-out.mp4").stat().st_size // 1024
            ghost = ghost_recall(slide_ab, coloured(*slide, setting, work / "slide-out.mp4"), masks)
            print(f"{setting[0]:6.2f} {setting[1]:8.0f} {setting[2]:6d} "
                  f"{films_bench.flicker(abs_, windows, args.frames):8.3f} "
                  f"{films_bench.flicker(abs_, windows, args.frames, block=8):6.3f} "
                  f"{films_bench.hue_recall(pan_ab, abs_):10.1%} {ghost:12.1%} {size:6d}")


if __name__ == "__main__":
    main()
