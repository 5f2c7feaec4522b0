"""Films (issue 28): steady colour against frame by frame, and a film's time against its frames as images.

Makes a grainy gray film from data/default photos with numpy and PyAV: shots
that pan a 480x360 window (--size) across a photo (upscaled to leave room to move), a
hard cut between shots, Gaussian grain on every frame, a 440 Hz tone as its
sound, at 12 frames/s. The colour frames it was made from are the truth.
Then, with the shipped model:
- steady: `predict` on the film (colorize_path), the product's steady colour;
- frame by frame: the same film path with the steady colour off (weight 1.0);
- as images: the same gray frames written as PNG files, `predict` on the folder.
For each: flicker (the mean ab distance between consecutive frames at the same
pixel, within shots; the truth's own flicker is the pan's), hue recall against
the colour frames (colorize.evaluation.metrics), and seconds (the film and the
folder runs each load the model, scan and write, as a user's run does).

    python benchmarks/bench_film.py                     # 3 shots x 40 frames
    python benchmarks/bench_film.py --frames 24 --grain 4 --weights 0.5,0.15
    python benchmarks/bench_film.py --frames 12 --size 1280x720
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine_line  # noqa: E402

WIDTH, HEIGHT, RATE = 480, 360, 12
PHOTOS = ("gcompris-0007.jpg", "gcompris-0031.jpg", "gcompris-0090.jpg")
PANS = ((1, 0), (0, 1), (-1, 1))   # the direction each shot's window moves


def shot_frames(photo: Path, frames: int, direction: tuple[int, int]) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """Return (colour frame, window's (y, x)) of a pan across `photo`: a WIDTH x HEIGHT window over a copy 4/3 as big."""
    canvas = (WIDTH * 4 // 3, HEIGHT * 4 // 3)
    image = np.asarray(Image.open(photo).convert("RGB").resize(canvas, Image.Resampling.BICUBIC))
    room_x, room_y = canvas[0] - WIDTH, canvas[1] - HEIGHT
    out = []
    for index in range(frames):
        step = index / max(frames - 1, 1)
        x = round(room_x * (step if direction[0] > 0 else 1 - step if direction[0] < 0 else 0.5))
        y = round(room_y * (step if direction[1] > 0 else 1 - step if direction[1] < 0 else 0.5))
        out.append((image[y:y + HEIGHT, x:x + WIDTH].copy(), (y, x)))
    return out


def grainy_gray(frame: np.ndarray, grain: float, rng: np.random.Generator) -> np.ndarray:
    """Return the frame's gray (its luma) with Gaussian grain, as a uint8 RGB frame."""
    gray = frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    gray = np.clip(gray + rng.normal(0.0, grain, gray.shape), 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def write_film(path: Path, frames: list[np.ndarray]) -> None:
    """Write the frames as H.264 (crf 16) at RATE frames/s with a 440 Hz tone (AAC) as its sound."""
    import av

    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=RATE, options={"crf": "16"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = container.add_stream("aac", rate=44100)
        audio.layout = "mono"
        for frame in frames:
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode(None))
        samples = round(44100 * len(frames) / RATE)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 44100)).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 44100, start
            container.mux(audio.encode(chunk))
        container.mux(audio.encode(None))


def read_film(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def ab_of(frames: list[np.ndarray]) -> list[np.ndarray]:
    from colorize.dataset import color

    return [color.rgb_to_lab(frame)[..., 1:].astype(np.float32) for frame in frames]


def flicker(abs_: list[np.ndarray], windows: list[tuple[int, int]], shot_length: int, block: int = 1) -> float:
    """Return the mean ab distance between consecutive frames at the same spot of the scene, within shots.

    The spot is followed along the pan (the windows' known offsets), over the part both frames show;
    `block` > 1 compares the mean colour of block x block patches instead of single pixels.
    """
    steps = []
    for index in range(1, len(abs_)):
        if index % shot_length == 0:
            continue
        dy = windows[index][0] - windows[index - 1][0]
        dx = windows[index][1] - windows[index - 1][1]
        now = abs_[index][max(0, -dy):HEIGHT - max(0, dy), max(0, -dx):WIDTH - max(0, dx)]
        before = abs_[index - 1][max(0, dy):HEIGHT - max(0, -dy), max(0, dx):WIDTH - max(0, -dx)]
        if block > 1:   # the mean colour of each block x block patch: a spot, not a pixel's codec noise
            now, before = _block_means(now, block), _block_means(before, block)
        steps.append(np.linalg.norm(now - before, axis=-1).mean())
    return float(np.mean(steps))


def _block_means(ab: np.ndarray, block: int) -> np.ndarray:
    height, width = ab.shape[0] // block * block, ab.shape[1] // block * block
    return ab[:height, :width].reshape(height // block, block, width // block, block, 2).mean(axis=(1, 3))


def hue_recall(truth: list[np.ndarray], candidate: list[np.ndarray]) -> float:
    from colorize.evaluation.metrics import vivid_hues

    hits = vivid = 0
    for reference, guess in zip(truth, candidate):
        hues = vivid_hues(reference.reshape(-1, 2), guess.reshape(-1, 2))
        hits += int(hues.hits.sum())
        vivid += hues.hue_gap.size
    return hits / max(vivid, 1)


def run_film(film: Path, output: Path, weight: float | None) -> tuple[float, Path]:
    """Colour the film as `predict` does (weight None) or with another steady weight; return (seconds, path)."""
    from colorize.config import PredictConfig
    from colorize.inference import film as films
    from colorize.inference.colorizer import Colorizer
    from colorize.inference.predict import colorize_path

    started = time.perf_counter()
    if weight is None:
        colorize_path(PredictConfig(models=("default",), input=str(film), output=str(output)))
    else:
        entry = films.plan_films([_entry(film)]).ready[0]
        entry.target = output / film.name
        output.mkdir(parents=True, exist_ok=True)
        films.colorize_film(Colorizer.from_path("default"), entry, 1.0, 1, lambda frames: None, None, weight)
    return time.perf_counter() - started, output / film.name


def _entry(path: Path):
    from colorize.dataset import ScannedFile

    return ScannedFile(path.name, str(path), None, "film")


def run_images(frames: list[np.ndarray], folder: Path, output: Path) -> tuple[float, list[np.ndarray]]:
    from colorize.config import PredictConfig
    from colorize.inference.predict import colorize_path

    folder.mkdir()
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"frame-{index:05d}.png")
    started = time.perf_counter()
    colorize_path(PredictConfig(models=("default",), input=str(folder), output=str(output)))
    seconds = time.perf_counter() - started
    return seconds, [np.asarray(Image.open(path).convert("RGB")) for path in sorted(output.glob("frame-*.png"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="frames per shot (default 40)")
    parser.add_argument("--grain", type=float, default=6.0, help="grain, gray levels (default 6)")
    parser.add_argument("--weights", default="", help="also try these steady weights, e.g. 0.5,0.15")
    parser.add_argument("--size", default="480x360", help="frame size (default 480x360; e.g. 1280x720)")
    args = parser.parse_args()
    global WIDTH, HEIGHT
    WIDTH, HEIGHT = (int(side) for side in args.size.split("x"))
    print(machine_line())
    rng = np.random.default_rng(0)
    shots = [item for photo, direction in zip(PHOTOS, PANS)
             for item in shot_frames(REPO / "data" / "default" / photo, args.frames, direction)]
    truth, windows = [frame for frame, _ in shots], [window for _, window in shots]
    gray = [grainy_gray(frame, args.grain, rng) for frame in truth]
    truth_ab = ab_of(truth)
    print(f"{len(PHOTOS)} shots x {args.frames} frames, {WIDTH}x{HEIGHT}, {RATE} frames/s, grain {args.grain}; "
          f"the truth's own flicker {flicker(truth_ab, windows, args.frames):.3f}")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        film = work / "gray.mp4"
        write_film(film, gray)
        rows = {}
        seconds, images = run_images(read_film(film), work / "frames", work / "as-images")
        rows["as images"] = (seconds, images)
        seconds, path = run_film(film, work / "steady", None)
        rows["steady (predict)"] = (seconds, read_film(path))
        for weight in [1.0] + [float(text) for text in args.weights.split(",") if text]:
            seconds, path = run_film(film, work / f"weight-{weight}", weight)
            rows[f"weight {weight}" + (" (frame by frame)" if weight == 1.0 else "")] = (seconds, read_film(path))
        rows["the truth, grainy, H.264"] = (0.0, _encoded_truth(truth, args.grain, work / "truth.mp4"))
        print(f"{'method':28s} {'flicker':>8s} {'8x8':>6s} {'hue recall':>10s} {'seconds':>8s} {'frames/s':>8s}")
        for name, (seconds, frames) in rows.items():
            abs_ = ab_of(frames)
            print(f"{name:28s} {flicker(abs_, windows, args.frames):8.3f} "
                  f"{flicker(abs_, windows, args.frames, block=8):6.3f} {hue_recall(truth_ab, abs_):10.1%} "
                  + (f"{seconds:8.1f} {len(frames) / seconds:8.1f}" if seconds else f"{'-':>8s} {'-':>8s}"))


def _encoded_truth(truth: list[np.ndarray], grain: float, path: Path) -> list[np.ndarray]:
    """Return the colour truth with the same grain through the same H.264 settings: the codec's floor."""
    from colorize.inference import film as films, film_parts

    rng = np.random.default_rng(1)
    noisy = [np.clip(frame + rng.normal(0, grain, frame.shape[:2])[..., None], 0, 255).astype(np.uint8)
             for frame in truth]
    info = films.FilmInfo(WIDTH, HEIGHT, films.Fraction(RATE), len(noisy), False)
    film_parts.write_part(path, film_parts.even_frames(noisy, info), lambda batch: batch, info, 8, lambda count: None)
    return read_film(path)


if __name__ == "__main__":
    main()
