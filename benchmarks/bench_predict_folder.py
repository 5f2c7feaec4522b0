"""Images per second colourising a folder of 20 gray 1 MP JPEGs, cpu preset.

The whole `colorize_path` is timed (scan, decode, model, merge, JPEG encode,
write, grids), once with model batches of 8 and once of 1, side by side in
one process. Random weights: timing only.

    /work/venv/bin/python benchmarks/bench_predict_folder.py [IMAGES]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def make_folder(folder: Path, count: int) -> None:
    """Write `count` gray 1155x866 (1.0 MP) JPEGs with texture."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for index in range(count):
        gradient = np.linspace(0, 255, 1155)[None, :] * rng.uniform(0.5, 1.0)
        photo = np.clip(gradient + rng.normal(0, 20, (866, 1155)), 0, 255).astype(np.uint8)
        Image.fromarray(photo).save(folder / f"photo{index:03d}.jpg", quality=90)


def main() -> None:
    from colorize.config import PredictConfig
    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    from colorize.models.model import build_unet
    from colorize.inference.predict import colorize_path

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        make_folder(work_dir / "photos", count)
        build_unet("cpu").save(work_dir / "cpu.keras")
        print(f"{count} gray 1155x866 JPEGs, cpu preset, random weights, whole colorize_path")
        for batch_size in (8, 1):
            config = PredictConfig(model=str(work_dir / "cpu.keras"), input=str(work_dir / "photos"),
                                   output=str(work_dir / f"out-batch{batch_size}"), batch_size=batch_size)
            start, cpu_start = time.perf_counter(), time.process_time()
            result = colorize_path(config)
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
            assert len(result.written) == count
            print(f"batch {batch_size}: {seconds:6.1f} s wall, {count / seconds:5.2f} images/s, "
                  f"{cpu_seconds:6.1f} s CPU (all threads)")


if __name__ == "__main__":
    main()
