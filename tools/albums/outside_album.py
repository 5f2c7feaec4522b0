"""Make the outside album: colour photos from Debian packages that data/default takes nothing from.

compare_models.py --outside scores models on photos from outside the training
data. data/default's photos come from gcompris, lxqt, mate, plasma, tuxpaint,
matplotlib, scikit-learn and scikit-image (its MANIFEST.csv), so this album
takes photographs (landscapes, foliage, sky, water, animals, people, objects;
no illustrations, renders, gradients or text) from four other Debian packages:

- lomiri-wallpapers-16.04 and lomiri-wallpapers-20.04 (Ubuntu Touch wallpapers,
  CC-BY-4.0 / CC-BY-SA-3.0 / CC-BY-SA-4.0 / CC0-1.0 per photo),
- palapeli-data (KDE's jigsaw puzzles: public domain / GFDL per photo, as
  written in each puzzle's .desktop file),
- opencv-doc (OpenCV's sample photos; Debian's copyright file puts them under
  the whole project's Apache-2.0 AND BSD-3-Clause; about 96 MB to download).

The chosen files are listed below by name with the package version they were
picked from. `apt-get download` fetches the .deb files (no installing, no root
needed; run `apt-get update` once if apt cannot find them) into --cache, they
are unpacked there, and each chosen photo is written as an RGB JPEG (quality
92, long side at most 512 px, like data/default) into --output with a
MANIFEST.csv of its source, licence and attribution. A missing file or a
newer package version is a warning, not an error. Nothing here is committed:
the photos stay in the cache.

    python tools/albums/outside_album.py                  # ~/.cache/colorize-outside-album/album
    python tools/models/compare_models.py --outside ~/.cache/colorize-outside-album/album MODEL=PATH
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath

MAX_LONG_SIDE = 512
JPEG_QUALITY = 92            # as the photos in data/default

# package: (version the photos were chosen from, {path inside the .deb: album file name})
LOMIRI = "usr/share/backgrounds/"
OPENCV = "usr/share/doc/opencv-doc/examples/"
PALAPELI = "usr/share/palapeli/collection/"
CHOSEN: dict[str, tuple[str, dict[str, str]]] = {
    "lomiri-wallpapers-16.04": ("20.04.0-2", {
        LOMIRI + "aitzgorri_by_Aitzol_Berasategi.jpg": "lomiri-aitzgorri-meadow.jpg",
        LOMIRI + "picosdeeuropa_by_Aitzol_Berasategi.jpg": "lomiri-picos-de-europa.jpg",
        LOMIRI + "life_by_Aitzol_Berasategi.jpg": "lomiri-forest-stream.jpg",
        LOMIRI + "sunset_by_Aitzol_Berasategi.jpg": "lomiri-sunset.jpg",
        LOMIRI + "friends_by_Aitzol_Berasategi.jpg": "lomiri-dogs.jpg",
        LOMIRI + "seeding_by_Clements_Engelhardt.jpg": "lomiri-dandelions.jpg",
        LOMIRI + "Dragonfly_by_Bolly.jpg": "lomiri-leaves-and-sky.jpg",
        LOMIRI + "Bridge_by_Sander_Klootwijk.jpg": "lomiri-bridge-cables.jpg",
        LOMIRI + "Picture_0B_by_freespace.jpg": "lomiri-fig-on-plate.jpg",
        LOMIRI + "Picture_1A_by_freespace.jpg": "lomiri-paint-brushes.jpg",
        LOMIRI + "Wine_by_Jakkub_Mede.jpg": "lomiri-room-with-drum.jpg",
        LOMIRI + "free_by_Peter_Nerlich.jpg": "lomiri-bird-ornament.jpg",
        LOMIRI + "greentock_by_Peter_Nerlich.jpg": "lomiri-clock.jpg",
    }),
    "lomiri-wallpapers-20.04": ("20.04.0-2", {
        LOMIRI + "Kleiber_by_Lukas_Baubkus.jpg": "lomiri-nuthatch.jpg",
    }),
    "palapeli-data": ("4:22.12.3-1", {
        PALAPELI + "castle-maintenon.jpg": "palapeli-castle-maintenon.jpg",
        PALAPELI + "cincinnati-bridge.jpg": "palapeli-cincinnati-bridge.jpg",
        PALAPELI + "citrus-fruits.jpg": "palapeli-citrus-fruits.jpg",
        PALAPELI + "european-honey-bee.jpg": "palapeli-honey-bee.jpg",
        PALAPELI + "panther-chameleon-female.jpg": "palapeli-chameleon.jpg",
    }),
    "opencv-doc": ("4.6.0+dfsg-12", {
        OPENCV + "alphamat/input_images/plant.jpg": "opencv-potted-plant.jpg",
        OPENCV + "data/aero1.jpg": "opencv-aerial-town.jpg",
        OPENCV + "data/aloeL.jpg": "opencv-aloe.jpg",
        OPENCV + "data/apple.jpg": "opencv-apple.jpg",
        OPENCV + "data/baboon.jpg": "opencv-baboon.jpg",
        OPENCV + "data/building.jpg": "opencv-hotel.jpg",
        OPENCV + "data/butterfly.jpg": "opencv-butterfly.jpg",
        OPENCV + "data/chicky_512.png": "opencv-dog.jpg",
        OPENCV + "data/fruits.jpg": "opencv-fruits.jpg",
        OPENCV + "data/home.jpg": "opencv-palace-and-sky.jpg",
        OPENCV + "data/leuvenA.jpg": "opencv-leuven-street.jpg",
        OPENCV + "data/messi5.jpg": "opencv-footballer.jpg",
        OPENCV + "data/orange.jpg": "opencv-orange.jpg",
        OPENCV + "data/rubberwhale1.png": "opencv-toys.jpg",
        OPENCV + "data/squirrel_cls.jpg": "opencv-squirrel.jpg",
        OPENCV + "hfs/data/000.jpg": "opencv-robin.jpg",
        OPENCV + "hfs/data/001.jpg": "opencv-lake.jpg",
        OPENCV + "hfs/data/002.jpg": "opencv-tree-and-sky.jpg",
        OPENCV + "reg/home.png": "opencv-brick-house.jpg",
    }),
}


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def deb_version(deb: Path) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True,
                          capture_output=True, text=True).stdout.strip()


def fetch_deb(package: str, version: str, debs: Path) -> Path | None:
    """Return the package's .deb in `debs`, fetched by `apt-get download` (the chosen version if apt has it)."""
    cached = sorted(debs.glob(f"{package}_*.deb"))
    for deb in cached:
        if deb_version(deb) == version:
            return deb
    if cached:
        return cached[-1]
    for spec in (f"{package}={version}", package):
        result = subprocess.run(["apt-get", "download", spec], cwd=debs, capture_output=True, text=True)
        if result.returncode == 0:
            break
        if spec == package:
            warn(f"apt-get download {package} failed (run `apt-get update` first?): "
                 f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}")
            return None
    cached = sorted(debs.glob(f"{package}_*.deb"))
    return cached[-1] if cached else None


def extract(deb: Path, root: Path) -> Path:
    """Unpack `deb` under root/<its file stem> (once) and return that folder."""
    folder = root / deb.stem
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(folder)], check=True)
        (folder / ".complete").touch()
    return folder


def dep5_stanzas(text: str) -> list[dict[str, str]]:
    """Return the paragraphs of a Debian copyright file as {field: value} (continuation lines joined)."""
    stanzas = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line and not line.startswith("#"):
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields:
            stanzas.append(fields)
    return stanzas


def copyright_for(stanzas: list[dict[str, str]], path: str) -> tuple[str, str]:
    """Return (licence, copyright) of `path` in a machine-readable copyright file.

    The source tree's paths differ from the installed ones, so a Files pattern
    names a photo when its last part (not a bare `*`) matches the photo's file
    name; otherwise the `Files: *` paragraph applies. The last match wins.
    """
    name = PurePosixPath(path).name
    found = ("unknown (see the copyright file)", "")
    for stanza in stanzas:
        if "files" not in stanza:
            continue
        patterns = stanza["files"].split()
        named = any(PurePosixPath(p).name != "*" and fnmatch.fnmatchcase(name, PurePosixPath(p).name)
                    for p in patterns)
        if named or "*" in patterns:
            found = (stanza.get("license", "").splitlines()[0] if stanza.get("license") else found[0],
                     " ".join(stanza.get("copyright", "").split()))
            if named:
                return found
    return found


def desktop_credit(image: Path) -> tuple[str, str] | None:
    """Return (licence, author) from a KDE .desktop file beside `image` (palapeli's puzzles), if any."""
    desktop = image.with_suffix(".desktop")
    if not desktop.exists():
        return None
    fields = dict(line.split("=", 1) for line in desktop.read_text(encoding="utf-8").splitlines() if "=" in line)
    licence = fields.get("X-KDE-PluginInfo-License")
    author = fields.get("X-KDE-PluginInfo-Author", "")
    return (licence, author) if licence else None


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


MANIFEST_FIELDS = ["file", "source_package", "source_version", "original_path", "license", "attribution"]


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


def write_manifest(output: Path, rows: list[dict[str, str]]) -> None:
    """Write the album's MANIFEST.csv: each photo's file, source package and version, path, licence, credit."""
    with open(output / "MANIFEST.csv", "w", newline="", encoding="utf-8") as manifest:
        writer = csv.DictWriter(manifest, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def unpack_package(package: str, version: str, files: dict[str, str] | list[str], cache: Path,
                   fetch: Callable[[str, str, Path], Path | None] = fetch_deb,
                   ) -> tuple[Path, str, list[dict[str, str]], Path] | None:
    """Fetch (with `fetch`, the system's apt by default) and unpack one package.

    A warning when it is missing or another version. Return (unpacked root,
    the version got, its copyright stanzas, its copyright file), or None.
    """
    deb = fetch(package, version, cache / "debs")
    if deb is None:
        warn(f"skipping {package}'s {len(files)} photos")
        return None
    got = deb_version(deb)
    if got != version:
        warn(f"{package} {got} is not {version}, the version the photos were chosen from")
    root = extract(deb, cache / "extract")
    copyright_file = root / "usr/share/doc" / package / "copyright"
    stanzas = dep5_stanzas(copyright_file.read_text(encoding="utf-8", errors="replace")) \
        if copyright_file.exists() else []
    return root, got, stanzas, copyright_file


def names(folder: str, files: list[str], prefix: str) -> dict[str, str]:
    """Return {path inside the .deb: album file name} for files of one folder, named after them."""
    return {folder + file: f"{prefix}-{Path(file).stem.replace('_', '-').replace(' ', '-').lower()}.jpg"
            for file in files}


# credit(copyright stanzas, path inside the .deb, unpacked file) -> (licence, attribution)
Credit = Callable[[list[dict[str, str]], str, Path], tuple[str, str]]


def album_rows(package: str, version: str, files: dict[str, str], cache: Path, output: Path,
               save: Callable[[Path, Path], None], credit: Credit) -> list[dict[str, str]]:
    """Fetch and unpack one package, `save` each chosen photo into `output`; return their manifest rows."""
    unpacked = unpack_package(package, version, files, cache)
    if unpacked is None:
        return []
    root, got, stanzas, _ = unpacked
    rows = []
    for inside, name in files.items():
        source = root / inside
        if not source.exists():
            warn(f"{package} {got} has no {inside}; skipped")
            continue
        licence, attribution = credit(stanzas, inside, source)
        save(source, output / name)
        rows.append({"file": name, "source_package": package, "source_version": got, "original_path": inside,
                     "license": licence, "attribution": attribution})
    return rows


def finish_album(output: Path, rows: list[dict[str, str]], what: str = "photos") -> int:
    """Write the manifest, say how many photos each package and licence gave; return the exit code."""
    write_manifest(output, rows)
    print(f"{len(rows)} {what} in {output}")
    for package in dict.fromkeys(row["source_package"] for row in rows):
        licences: dict[str, int] = {}
        for row in rows:
            if row["source_package"] == package:
                licences[row["license"]] = licences.get(row["license"], 0) + 1
        print(f"  {package}: " + ", ".join(f"{licence} ({count})" for licence, count in sorted(licences.items())))
    return 0 if rows else 1


def main() -> int:
    cache, output = album_folders(__doc__.splitlines()[0], "colorize-outside-album")
    rows = [row for package, (version, files) in CHOSEN.items()
            for row in album_rows(package, version, files, cache, output, save_photo,
                                  lambda stanzas, inside, source: desktop_credit(source)
                                  or copyright_for(stanzas, inside))]
    return finish_album(output, rows)


if __name__ == "__main__":
    sys.exit(main())
