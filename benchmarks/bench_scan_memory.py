"""Scanner memory: peak RSS of scanning 300 vs 3000 files must stay flat.

Generates small colour JPEGs in a temporary folder, then scans the first N of
them (a folder of hard links) in a fresh subprocess per size and reads the
child's peak RSS (resource.getrusage ru_maxrss, KiB on Linux). The baseline is a
subprocess that imports the scanner and scans one file.

    python benchmarks/bench_scan_memory.py [--sizes 1,300,3000]
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

CHILD = """
import resource, sys
from colorize.dataset import scan_dataset
result = scan_dataset(sys.argv[1])
assert result.counts()["ok"] == int(sys.argv[2]), result.counts()
current = [line for line in open("/proc/self/status") if line.startswith("VmRSS")][0].split()[1]
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, current)
"""


def write_photos(folder: Path, count: int) -> list[Path]:
    """Write `count` different 256x192 colour JPEGs (~10 KB each)."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    photo = Image.fromarray(base).resize((256, 192), Image.BILINEAR)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=85)
    folder.mkdir()
    paths = []
    for index in range(count):
        path = folder / f"photo{index:05d}.jpg"
        # A different JPEG comment (COM segment) per file keeps them distinct without re-encoding.
        path.write_bytes(buffer.getvalue()[:2] + b"\xff\xfe\x00\x06" + index.to_bytes(4, "big")
                         + buffer.getvalue()[2:])
        paths.append(path)
    return paths


def peak_rss_kib(folder: Path, expected_ok: int) -> tuple[int, int]:
    """Scan `folder` in a fresh Python; return that process's peak and final RSS in KiB."""
    output = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(expected_ok)],
                            capture_output=True, text=True, check=True).stdout
    peak, final = output.strip().splitlines()[-1].split()
    return int(peak), int(final)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,300,3000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        photos = write_photos(root / "all", max(sizes))
        peaks = {}
        for size in sizes:
            subset = root / f"first{size}"
            subset.mkdir()
            for photo in photos[:size]:
                os.link(photo, subset / photo.name)
            peaks[size] = peak_rss_kib(subset, size)
    for size in sizes:
        print(f"{size:>6} files: peak RSS {peaks[size][0] / 1024:6.1f} MiB, "
              f"after the scan {peaks[size][1] / 1024:6.1f} MiB")
    growth = (peaks[sizes[-1]][0] - peaks[sizes[-2]][0]) / 1024
    print(f"growth from {sizes[-2]} to {sizes[-1]} files: {growth:+.1f} MiB "
          f"({growth * 1024 / (sizes[-1] - sizes[-2]):.2f} KiB per file)")


if __name__ == "__main__":
    main()
