"""Make the black-and-white sample photos in photos/ and their MANIFEST.csv.

Each sample is a gray copy of a photo in data/default that the shipped model
never trained on: the test split `python -m colorize train --data default
--test-size 42 --seed 42` held out. The gray is the photo's own CIE L (the
lightness the model is given), written as the sRGB gray of that lightness, so
the colourised sample can be compared with the original. Run from the
repository root: python data/samples/make_samples.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.color import lab2rgb, rgb2lab

from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset

SAMPLES = Path(__file__).resolve().parent
# Held-out photos with foliage and sky (and water, stone and animals), by name in data/default.
CHOSEN = {"gcompris-0169.jpg": "horses.jpg", "gcompris-0056.jpg": "india-gate.jpg",
          "gcompris-0218.jpg": "giraffes.jpg", "gcompris-0191.jpg": "victoria-memorial.jpg",
          "tuxpaint-0011.jpg": "redwoods.jpg", "gcompris-0174.jpg": "canyon-de-chelly.jpg",
          "gcompris-0178.jpg": "mount-rushmore.jpg"}
MAX_LONG_SIDE = 800
JPEG_QUALITY = 92            # as the photos in data/default


def gray_copy(rgb: np.ndarray) -> Image.Image:
    """Return the 8-bit gray image whose every pixel has the CIE L of `rgb`'s pixel."""
    lightness = rgb2lab(rgb)[..., 0]
    lab = np.stack([lightness, np.zeros_like(lightness), np.zeros_like(lightness)], axis=-1)
    gray = np.rint(lab2rgb(lab)[..., 0] * 255).astype(np.uint8)
    image = Image.fromarray(gray, mode="L")
    image.thumbnail((MAX_LONG_SIDE, MAX_LONG_SIDE), Image.LANCZOS)
    return image


def main() -> None:
    default = resolve_dataset_path("default")
    held_out = {entry.path for entry in split_dataset(scan_dataset(default).ok, None, 42, 42).test}
    missing = set(CHOSEN) - held_out
    if missing:
        raise SystemExit(f"Not in the held-out split: {sorted(missing)}")
    with open(default / "MANIFEST.csv", newline="", encoding="utf-8") as manifest:
        sources = {row["file"]: row for row in csv.DictReader(manifest)}
    (SAMPLES / "photos").mkdir(exist_ok=True)
    rows = []
    for source, name in CHOSEN.items():
        with Image.open(default / source) as photo:
            gray_copy(np.asarray(photo.convert("RGB"))).save(SAMPLES / "photos" / name, quality=JPEG_QUALITY)
        rows.append({"file": f"photos/{name}", "made_from": f"data/default/{source}", **{
            key: value for key, value in sources[source].items() if key != "file"}})
    with open(SAMPLES / "MANIFEST.csv", "w", newline="", encoding="utf-8") as manifest:
        writer = csv.DictWriter(manifest, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
