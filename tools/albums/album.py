"""What the album scripts share about the album itself: its two folders, its photos, its MANIFEST.csv.

Each script chooses photos inside Debian packages (debian_packages.py fetches
and unpacks them) and writes each one as a JPEG like data/default's (quality
92, long side at most 512 px) into the album folder, with a MANIFEST.csv of
its source package, version, path, licence and attribution.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from pathlib import Path

from debian_packages import FilesParagraph, unpack_package, warn

MAX_LONG_SIDE = 512
JPEG_QUALITY = 92            # as the photos in data/default
MANIFEST_FIELDS = ["file", "source_package", "source_version", "original_path", "license", "attribution"]

# credit(Files paragraphs of the copyright file, path inside the .deb, unpacked file) -> (licence, attribution)
Credit = Callable[[list[FilesParagraph], str, Path], tuple[str, str]]


def save_photo(source: Path, target: Path) -> None:
    """Write `source` as an RGB JPEG, long side at most MAX_LONG_SIDE (transparency over white)."""
    from PIL import Image, ImageOps

    with Image.open(source) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, "white")
            image.paste(rgba, mask=rgba.getchannel("A"))
        image = image.convert("RGB")
        image.thumbnail((MAX_LONG_SIDE, MAX_LONG_SIDE), Image.LANCZOS)
        image.save(target, quality=JPEG_QUALITY)


def album_folders(description: str, cache_name: str) -> tuple[Path, Path]:
    """Parse --cache and --output (an album script's two options); return both, made and resolved."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / cache_name,
                        help="where the .deb files are fetched and unpacked (default: %(default)s)")
    parser.add_argument("--output", type=Path, help="the album folder (default: CACHE/album)")
    args = parser.parse_args()
    cache = args.cache.expanduser().resolve()
    output = (args.output or cache / "album").expanduser().resolve()
    for folder in (cache / "debs", output):
        folder.mkdir(parents=True, exist_ok=True)
    return cache, output


def write_manifest(output: Path, rows: list[dict[str, str]], fields: list[str] = MANIFEST_FIELDS) -> None:
    """Write the album's MANIFEST.csv: each photo's file, source package and version, path, licence, credit."""
    with open(output / "MANIFEST.csv", "w", newline="", encoding="utf-8") as manifest:
        writer = csv.DictWriter(manifest, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def names(folder: str, files: list[str], prefix: str) -> dict[str, str]:
    """Return {path inside the .deb: album file name} for files of one folder, named after them."""
    return {folder + file: f"{prefix}-{Path(file).stem.replace('_', '-').replace(' ', '-').lower()}.jpg"
            for file in files}


def album_rows(package: str, version: str, files: dict[str, str], cache: Path, output: Path,
               save: Callable[[Path, Path], None], credit: Credit) -> list[dict[str, str]]:
    """Fetch and unpack one package, `save` each chosen photo into `output`; return their manifest rows."""
    unpacked = unpack_package(package, version, files, cache)
    if unpacked is None:
        return []
    root, got, paragraphs = unpacked
    rows = []
    for inside, name in files.items():
        source = root / inside
        if not source.exists():
            warn(f"{package} {got} has no {inside}; skipped")
            continue
        licence, attribution = credit(paragraphs, inside, source)
        save(source, output / name)
        rows.append({"file": name, "source_package": package, "source_version": got, "original_path": inside,
                     "license": licence, "attribution": attribution})
    return rows


def licence_counts(rows: list[dict[str, str]]) -> list[str]:
    """Return a line for each source package: how many of its photos are under each licence."""
    lines = []
    for package in dict.fromkeys(row["source_package"] for row in rows):
        licences: dict[str, int] = {}
        for row in rows:
            if row["source_package"] == package:
                licences[row["license"]] = licences.get(row["license"], 0) + 1
        lines.append(f"  {package}: " + ", ".join(f"{licence} ({count})" for licence, count in sorted(licences.items())))
    return lines


def finish_album(output: Path, rows: list[dict[str, str]], what: str = "photos") -> int:
    """Write the manifest, say how many photos each package and licence gave; return the exit code."""
    write_manifest(output, rows)
    print(f"{len(rows)} {what} in {output}")
    for line in licence_counts(rows):
        print(line)
    return 0 if rows else 1
