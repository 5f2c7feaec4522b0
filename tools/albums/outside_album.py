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

    pip install -e ".[albums]"                          # python-debian and imagehash, once
    python tools/albums/outside_album.py                  # ~/.cache/colorize-outside-album/album
    python tools/models/compare_models.py --outside ~/.cache/colorize-outside-album/album MODEL=PATH
"""

from __future__ import annotations

import sys
from pathlib import Path

from album import album_folders, album_rows, finish_album, save_photo
from debian_packages import copyright_for

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


def desktop_credit(image: Path) -> tuple[str, str] | None:
    """Return (licence, author) from a KDE .desktop file beside `image` (palapeli's puzzles), if any."""
    desktop = image.with_suffix(".desktop")
    if not desktop.exists():
        return None
    fields = dict(line.split("=", 1) for line in desktop.read_text(encoding="utf-8").splitlines() if "=" in line)
    licence = fields.get("X-KDE-PluginInfo-License")
    author = fields.get("X-KDE-PluginInfo-Author", "")
    return (licence, author) if licence else None


def main() -> int:
    cache, output = album_folders(__doc__.splitlines()[0], "colorize-outside-album")
    rows = [row for package, (version, files) in CHOSEN.items()
            for row in album_rows(package, version, files, cache, output, save_photo,
                                  lambda paragraphs, inside, source: desktop_credit(source)
                                  or copyright_for(paragraphs, inside))]
    return finish_album(output, rows)


if __name__ == "__main__":
    sys.exit(main())
