"""Make the unlabeled album: gray photos for self-training from Debian packages no other photo set uses.

Self-training (issue 16) needs black-and-white photos from outside the
labelled set. data/default's photos come from gcompris, lxqt, mate, plasma,
tuxpaint, matplotlib, scikit-learn and scikit-image (its MANIFEST.csv) and the
outside album (outside_album.py) from lomiri-wallpapers, palapeli-data and
opencv-doc, so this album takes photographs (landscapes, plants, animals,
buildings, streets, rooms, people; no drawings, renders or screenshots) from
six other Debian packages:

- scratch (Scratch 1.4's stage backgrounds, MIT; Media/* CC-BY-SA-3.0),
- kphotoalbum (the demo album: people, dogs, the Grand Canyon, Skagen; GPL-2+),
- tuxtype-data (landscape backgrounds; GPL-2, its README_IMAGES credits
  public-domain NOAA / US Fish and Wildlife Service photos),
- jigzo-data (jigsaw puzzles; each .pzl holds a JPEG; GPL-2+ / GPL-2 /
  CC-BY-NC-SA-1.0 per puzzle),
- scribus-template (photos inside the document templates; GPL-2+),
- sddm-theme-maldives (its Maldives beach background; CC-BY-3.0).

Many Debian wallpaper packages hold renders only (ukui-wallpapers,
gnome-backgrounds 43, sway-backgrounds, desktop-base), so they give nothing.
`apt-get download` fetches the .deb files (no installing, no root needed; run
`apt-get update` once if apt cannot find them) into --cache, they are unpacked
there, and each chosen photo is written as a grayscale JPEG (mode L, quality
92, long side at most 512 px) into --output with a MANIFEST.csv of its source,
version and licence. A missing file or a newer package version is a warning.
Nothing here is committed: the photos stay in the cache.

    python tools/albums/unlabeled_album.py          # ~/.cache/colorize-unlabeled-album/album
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from album import JPEG_QUALITY, MAX_LONG_SIDE, album_folders, album_rows, finish_album, names
from debian_packages import copyright_for

JPEG_START = b"\xff\xd8\xff"   # a jigzo .pzl is a text header, then the photo as a JPEG, then its piece masks

SCRATCH = "usr/share/scratch/Media/Backgrounds/"
KPHOTOALBUM = "usr/share/kphotoalbum/demo/"
TUXTYPE = "usr/share/tuxtype/images/"
JIGZO = "usr/share/games/jigzo/puzzles/00_default/"
SCRIBUS = "usr/share/scribus/templates/"


# package: (version the photos were chosen from, licence when the copyright file
# cannot say it per file (None: read it from the file), {path inside the .deb: album name})
CHOSEN: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "scratch": ("1.4.0.6~dfsg1-6.1", "CC-BY-SA-3.0", {
        **names(SCRATCH + "Indoors/", ["clothing-store.jpg", "hall.jpg", "kitchen.jpg", "the-movies-inside.jpg"],
                "scratch"),
        **names(SCRATCH + "Nature/", [
            "beach-malibu.jpg", "canyon.jpg", "flower-bed.jpg", "flowers.gif", "forest.jpg", "garden-rock.jpg",
            "grand-canyon.jpg", "gravel-desert.jpg", "hill.jpg", "lake.jpg", "moon.jpg", "pathway.jpg",
            "tree.jpg", "water-and-rocks.jpg", "wave.jpg"], "scratch"),
        **names(SCRATCH + "Outdoors/", [
            "atom-playground.jpg", "bench-with-view.jpg", "boardwalk.jpg", "brick-wall-and-stairs.jpg",
            "brick-wall1.jpg", "brick-wall2.jpg", "building-at-mit.jpg", "building-fireproof.jpg", "castle.jpg",
            "city-with-water.jpg", "city-with-water2.jpg", "driveway.jpg", "hallway_outdoors.jpg", "hay_field.jpg",
            "houses.jpg", "mansion.jpg", "parking-ramp.jpg", "pool.jpg", "route66.jpg", "silos.jpg",
            "the-movies.jpg", "train-tracks1.jpg", "train-tracks2.jpg", "village.jpg", "wooden-house.jpg"],
            "scratch"),
        **names(SCRATCH + "Sports/", [
            "baseball-field.jpg", "basketball-court1-a.jpg", "basketball-court1-b.jpg", "football-field.jpg",
            "playing-field.jpg", "tennis-backboard.jpg"], "scratch"),
    }),
    "kphotoalbum": ("5.9.1-1", "GPL-2+", names(KPHOTOALBUM, [
        "anne_helene.jpg", "bar55.jpg", "bar55_2.jpg", "blackie.jpg", "cold_water.jpg", "donna.jpg",
        "donna_2.jpg", "grand_canyon_1.jpg", "grand_canyon_2.jpg", "grand_canyon_3.jpg", "jesper.jpg",
        "jesper_2.jpg", "new_wave_1.jpg", "new_wave_2.jpg", "pool.jpg", "pool_2.jpg", "qt-logo.jpg",
        "skagen.jpg", "skagen_2.jpg", "snow.jpg", "spiff.jpg", "spiff_2.jpg", "sunset.jpg", "wayne.jpg"],
        "kphotoalbum")),
    "tuxtype-data": ("1.8.3-5.1", "GPL-2 (README_IMAGES: public-domain NOAA / US FWS photos)",
                     names(TUXTYPE, [f"kcas{index}.jpg" for index in range(12)] + ["hidden.jpg"], "tuxtype")),
    "jigzo-data": ("0.6.1-7.1", None, names(JIGZO, [
        "bike-3x4.pzl", "bird-2x3.pzl", "blackberry-3x3.pzl", "castle-6x3.pzl", "clouds-4x4.pzl",
        "gorilla2-3x3.pzl", "heli-4x3.pzl", "horse-4x3.pzl", "penguin-3x2.pzl", "tobogan-4x3.pzl",
        "train-2x2.pzl", "windmill-4x4.pzl"], "jigzo")),
    "scribus-template": ("1.2.4.1-6", "GPL-2+", {
        SCRIBUS + "br2/nature.jpg": "scribus-canyon-stream.jpg",
        SCRIBUS + "br2/sunset.jpg": "scribus-sunset.jpg",
        SCRIBUS + "br2/halfmoon.jpg": "scribus-half-moon.jpg",
        SCRIBUS + "cal2/moon.jpg": "scribus-moon-and-sky.jpg",
        SCRIBUS + "menu2/pizza.jpg": "scribus-pizza.jpg",
        SCRIBUS + "scribus_project_de/craigbradney.jpg": "scribus-portrait.jpg",
    }),
    "sddm-theme-maldives": ("0.19.0-5", None, {
        "usr/share/sddm/themes/maldives/background.jpg": "sddm-maldives-jetty.jpg",
    }),
}


def photo_bytes(source: Path) -> io.BytesIO:
    """Return the photo's encoded bytes: the file itself, or the JPEG inside a jigzo .pzl."""
    data = source.read_bytes()
    if source.suffix == ".pzl":
        data = data[data.find(JPEG_START):]
    return io.BytesIO(data)


def save_gray(source: Path, target: Path) -> None:
    """Write `source` as a grayscale JPEG, long side at most MAX_LONG_SIDE."""
    from PIL import Image, ImageOps

    with Image.open(photo_bytes(source)) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail((MAX_LONG_SIDE, MAX_LONG_SIDE), Image.LANCZOS)
        image.convert("L").save(target, quality=JPEG_QUALITY)


def main() -> int:
    cache, output = album_folders(__doc__.splitlines()[0], "colorize-unlabeled-album")
    rows = []
    for package, (version, licence, files) in CHOSEN.items():
        def credit(paragraphs, inside, _source, licence=licence):
            file_licence, attribution = copyright_for(paragraphs, inside)
            return licence or file_licence, attribution

        rows += album_rows(package, version, files, cache, output, save_gray, credit)
    return finish_album(output, rows, "gray photos")


if __name__ == "__main__":
    sys.exit(main())
