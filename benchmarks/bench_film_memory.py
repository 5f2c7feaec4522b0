"""Films (issue 28): peak memory of `predict` on a short and a long 1280x720 film.

Writes two gray 1280x720 films at 12 frames/s with a tone as their sound (a
moving gradient with grain, x264 ultrafast so making them is quick), then runs
`python -m colorize predict` on each in its own process and reports the peak
resident memory of that process (getrusage of the child). The model is a tiny
untrained U-Net built here (build_unet('tiny')): what is measured is whether
frames stream through, not the model's size, and the shipped model would take
minutes per long film on 2 cores.

    python benchmarks/bench_film_memory.py                       # 10 s and 60 s
    python benchmarks/bench_film_memory.py --seconds 10,600      # a 10-minute film (slow)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line  # noqa: E402

WIDTH, HEIGHT, RATE = 1280, 720, 12


def write_film(path: Path, seconds: int) -> None:
    import av

    rng = np.random.default_rng(0)
    x = np.arange(WIDTH, dtype=np.float32)[None, :]
    y = np.arange(HEIGHT, dtype=np.float32)[:, None]
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=RATE, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = container.add_stream("aac", rate=44100)
        audio.layout = "mono"
        for index in range(seconds * RATE):
            gray = 128 + 60 * np.sin((x + 4 * index) / 40.0) * np.cos(y / 50.0)
            gray = np.clip(gray + rng.normal(0, 6, (HEIGHT, WIDTH)), 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(np.repeat(gray[..., None], 3, axis=2), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(44100 * seconds) / 44100)).astype(np.float32)
        for start in range(0, tone.size, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 44100, start
            container.mux(audio.encode(chunk))
        container.mux(audio.encode(None))


def peak_of_predict(model: Path, film: Path, output: Path) -> tuple[float, float]:
    """Return (seconds, peak resident MiB) of one `predict` process (Linux reports ru_maxrss in KiB)."""
    script = ("import resource, subprocess, sys; "
              "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, sys.executable, "-m", "colorize", "predict",
                           "--model", str(model), "--input", str(film), "--output", str(output)],
                          capture_output=True, text=True, check=True, env=dict(os.environ, NO_COLOR="1"))
    return time.perf_counter() - started, int(done.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", default="10,60", help="film lengths in seconds (default 10,60)")
    args = parser.parse_args()
    print(machine_line())
    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    from colorize.models.model import build_unet

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        model = work / "tiny.keras"
        build_unet("tiny").save(model)
        print(f"{'film':>12s} {'frames':>7s} {'seconds':>8s} {'frames/s':>8s} {'peak MiB':>9s}")
        for seconds in (int(text) for text in args.seconds.split(",")):
            film = work / f"film-{seconds}s.mp4"
            write_film(film, seconds)
            took, peak = peak_of_predict(model, film, work / f"out-{seconds}")
            frames = seconds * RATE
            print(f"{seconds:>10d} s {frames:7d} {took:8.1f} {frames / took:8.1f} {peak:9.0f}")
            film.unlink()


if __name__ == "__main__":
    main()
