"""Make N synthetic colour photos (640x480 JPEG, seeded) in a folder, for big-set benchmarks.

Nothing is downloaded: each photo is drawn from its own seed (the folder's seed
plus its number), so the same command makes the same files. Each has a colour
gradient background, a few filled shapes (ellipses, rectangles, polygons) in
random colours, and Gaussian grain, then is saved as a JPEG of quality 90 (about
a camera photo's size for its pixels: grain does not compress). Photos already
there are kept, so a folder can be grown or reused.

    python tools/albums/synthetic_photos.py FOLDER --count 20000 [--seed 0] [--workers 2]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 640, 480
JPEG_QUALITY = 90
GRAIN = 8.0                  # std of the Gaussian grain, 0..255 scale
CHUNK = 200                  # photos per worker task


def photo_name(index: int) -> str:
    return f"synthetic{index:06d}.jpg"


def draw_photo(seed: int) -> np.ndarray:
    """Return one (HEIGHT, WIDTH, 3) uint8 colour photo drawn from `seed`."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    top, bottom = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    across = rng.uniform(-60, 60, 3)
    rows = np.linspace(0.0, 1.0, HEIGHT)[:, None, None]
    columns = np.linspace(-0.5, 0.5, WIDTH)[None, :, None]
    background = top + (bottom - top) * rows + across * columns
    image = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(3, 9)):
        colour = tuple(int(value) for value in rng.integers(0, 256, 3))
        x0, y0 = int(rng.integers(-50, WIDTH)), int(rng.integers(-50, HEIGHT))
        x1, y1 = x0 + int(rng.integers(30, 300)), y0 + int(rng.integers(30, 250))
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif kind == 1:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            points = [(int(x), int(y)) for x, y in zip(rng.integers(x0, x1, 5), rng.integers(y0, y1, 5))]
            draw.polygon(points, fill=colour)
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0.0, GRAIN, (HEIGHT, WIDTH, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _write_chunk(folder: str, indices: list[int], seed: int) -> int:
    from PIL import Image

    for index in indices:
        Image.fromarray(draw_photo(seed * 1_000_003 + index)).save(Path(folder) / photo_name(index),
                                                                  quality=JPEG_QUALITY)
    return len(indices)


def make_photos(folder: Path, count: int, seed: int = 0, workers: int = 2) -> int:
    """Make the photos of `folder` numbered below `count` that are missing; return how many were made."""
    folder.mkdir(parents=True, exist_ok=True)
    missing = [index for index in range(count) if not (folder / photo_name(index)).is_file()]
    chunks = [missing[start:start + CHUNK] for start in range(0, len(missing), CHUNK)]
    with ProcessPoolExecutor(max(1, workers)) as pool:
        return sum(pool.map(_write_chunk, [str(folder)] * len(chunks), chunks, [seed] * len(chunks)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    made = make_photos(args.folder, args.count, args.seed, args.workers)
    print(f"{made} photos made, {args.count} in {args.folder}")


if __name__ == "__main__":
    main()
