"""Make the training photos: more colour photographs, many of foliage, from Debian packages no other photo set uses.

train --extra-data takes colour photos to train on only. data/default's photos
come from gcompris, lxqt, mate, plasma, tuxpaint, matplotlib, scikit-learn and
scikit-image, the outside album (outside_album.py) from lomiri-wallpapers,
palapeli-data and opencv-doc, and the unlabeled album (unlabeled_album.py) from
scratch, kphotoalbum, tuxtype-data, jigzo-data, scribus-template and
sddm-theme-maldives, so these photographs (landscapes, forests, fields,
leaves, flowers, sky, water, animals, people, food, streets, buildings, rooms;
no drawings, renders, cut-outs, screenshots or black-and-white photos) come
from eleven other Debian packages:

- endless-sky-data (the game's 720x360 planet landing photos: morgueFile,
  Unsplash, NASA and USGS photos that Debian lists as public domain, and
  Wikimedia Commons or contributors' photos under CC-BY-SA-3.0 / 4.0; the
  Mars, Jupiter and Moon photos and those recoloured to look alien are left out),
- enlightenment-data (Enlightenment's photo wallpapers, BSD-2-clause; each
  .edj is an Eet archive holding the photo as JPEGs at several sizes, and the
  largest is taken; about 390 MB to download),
- plasma-workspace-data (Plasma's user avatars, CC0-1.0 Pexels photos, as
  written in each photo's SPDX .license file),
- gnome-control-center-data (GNOME's 512 px user pictures; the copyright file
  gives the whole package's GPL-2+ and GPL-3+ and LGPL and Expat and CC0-1.0),
- kalzium-data (photos of laboratory tools, GPL-2.0-or-later),
- gimp-help-en (example photos of the GIMP manual, GFDL-NIV-1.2+; its
  copyright file is gimp-help-common's),
- ruby-rmagick-doc, python-kivy-examples, puzzle-jigsaw, hugin-data and
  digikam-data (a few example photos each: MIT-X, Expat, CC0-1.0, GPL-2+ and
  GPL-2+).

Packages checked that give nothing: tuxpaint-stamps-default (cut-outs),
dde-account-faces and the legacy GNOME faces (under 256 px), tuxmath-data and
kstars-data (space), fotoxx-common, krita-data, inkscape, imagemagick-6-doc,
calligrastage-data, kanagram, khangman, kigo, klines, kbounce, kmahjongg,
ksudoku, blinken, pysiogame, xfdesktop4-data, lomiri-wallpapers,
arctica-greeter, slim, blackbox-themes, fvwm-crystal, terminology-data, the
sddm themes, xscreensaver-data(-extra), rawtherapee-data, variety.

The chosen files are listed below by name with the package version they were
picked from. `apt-get download` fetches the .deb files (no installing, no root
needed; run `apt-get update` once if apt cannot find them) into --cache, they
are unpacked there, and each chosen photo is written as an RGB JPEG (quality
92, long side at most 512 px, like data/default) into --output with a
MANIFEST.csv of its source, licence and attribution. A missing file or a newer
package version is a warning, not an error. Nothing here is committed: the
photos stay in the cache (about 1.3 GB with the .deb files and their unpacked trees).

    python tools/albums/training_photos.py       # ~/.cache/colorize-training-photos/album
    colorize train --extra-data ~/.cache/colorize-training-photos/album ...
"""

from __future__ import annotations

import io
import re
import struct
import sys
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from album import JPEG_QUALITY, MAX_LONG_SIDE, album_folders, album_rows, finish_album, names
from debian_packages import UNKNOWN_LICENCE, FilesParagraph, holders, licence_name

JPEG_START = b"\xff\xd8\xff"
EET_MAGIC = 0x1EE70F42       # an Eet archive: magic, entry count, dictionary size, then 6 big-endian ints an entry

ENDLESS_SKY = "usr/share/games/endless-sky/images/land/"
# All 273 landing photos of 0.9.8 but the Mars ones (canyon01-05, desert0), earthrise, Jupiter (nasa8, nasa9), the
# ones recoloured or near gray (canyon4, desert3, fog0, fog5, fog6, hills3, hills4, mountain2, mountain25-spfld,
# sky3, sky6, sky8, sky9, snow10, snow11-sfiera, valley7, water6, water9) and two odd interiors (space6, station2).
ENDLESS_SKY_PHOTOS = [
    "badlands0", "badlands1", "badlands2", "badlands3", "badlands4", "badlands5", "badlands6", "badlands7",
    "badlands8", "badlands9-harro", "beach0", "beach1", "beach10-sfiera", "beach11-harro", "beach12-harro",
    "beach2", "beach3", "beach4", "beach5", "beach6", "beach7-sfiera", "beach8-sfiera", "beach9-sfiera",
    "bwerner0", "bwerner1", "bwerner2", "bwerner3", "bwerner4", "bwerner5", "bwerner6", "bwerner7", "bwerner8",
    "canyon0", "canyon1", "canyon10-harro", "canyon2", "canyon3", "canyon5", "canyon6", "canyon7", "canyon8",
    "canyon9", "city0", "city1", "city10", "city11", "city12", "city13-sfiera", "city14-sfiera", "city15-sfiera",
    "city16-sfiera", "city17-sfiera", "city18-iridium", "city2", "city3", "city4", "city5", "city6", "city7",
    "city8", "city9", "desert1", "desert10-harro", "desert2", "desert4", "desert5", "desert6", "desert7",
    "desert8-sfiera", "desert9-sfiera", "dmottl0", "dmottl1", "dmottl2", "dmottl3", "dmottl4", "dmottl5", "dune0",
    "dune1", "dune2", "dune3", "dune4", "dune5", "dune6-harro", "fields0", "fields1", "fields10-sfiera",
    "fields11-sfiera", "fields12-sfiera", "fields13-sfiera", "fields2", "fields3", "fields4", "fields5",
    "fields6", "fields7", "fields8", "fields9", "fog1", "fog2", "fog3", "fog4", "fog7", "forest0", "forest1",
    "forest2", "forest3", "forest4", "forest5", "hills0", "hills1", "hills2", "hills5-sfiera", "hills6-sfiera",
    "hills7-harro", "industrial0-iridium", "lava0", "lava1", "lava2", "lava3", "lava4", "lava5", "lava6",
    "lava7-sfiera", "loc0", "loc1", "loc2", "mfield0", "mfield1", "mfield2", "mfield3", "mfield4", "mfield5",
    "mountain0", "mountain1", "mountain10-sfiera", "mountain11-sfiera", "mountain12-sfiera", "mountain13-sfiera",
    "mountain14-sfiera", "mountain15-sfiera", "mountain16-striker", "mountain17-harro", "mountain18-harro",
    "mountain19-harro", "mountain20-harro", "mountain21-harro", "mountain22-spfld", "mountain23-spfld",
    "mountain24-spfld", "mountain3", "mountain4", "mountain5", "mountain6", "mountain7", "mountain8", "mountain9",
    "myrabella0", "myrabella1", "myrabella2", "myrabella3", "myrabella4", "myrabella5", "myrabella6",
    "myrabella7", "myrabella8", "nasa0", "nasa1", "nasa2", "nasa3", "nasa4", "nasa5", "nasa6", "nasa7", "sea0",
    "sea1", "sea10-sfiera", "sea11-sfiera", "sea12-sfiera", "sea13-sfiera", "sea14-sfiera", "sea15-harro",
    "sea16-harro", "sea17-harro", "sea2", "sea3", "sea4", "sea5", "sea6", "sea7", "sea8", "sea9", "sky0", "sky1",
    "sky2", "sky4", "sky5", "sky7", "snow0", "snow1", "snow10-sfiera", "snow2", "snow3", "snow4", "snow5",
    "snow6", "snow7", "snow8", "snow9", "space0", "space1", "space2", "space3", "space4", "space5", "space7",
    "station0", "station1", "station3", "station4", "valley0", "valley1", "valley10-sfiera", "valley11-harro",
    "valley12-harro", "valley13-harro", "valley14-harro", "valley15-harro", "valley2", "valley3", "valley4",
    "valley5", "valley6", "valley8", "valley9", "water0", "water1", "water10-harro", "water11-harro", "water2",
    "water3", "water4", "water5", "water7", "water8",
]
ENLIGHTENMENT = "usr/share/enlightenment/data/backgrounds/"
PLASMA = "usr/share/plasma/avatars/photos/"
GNOME = "usr/share/pixmaps/faces/"
KALZIUM = "usr/share/kalzium/data/toolpics/"
GIMP_HELP = "usr/share/gimp/2.0/help/en/images/"
RMAGICK = "usr/share/doc/ruby-rmagick-doc/html/ex/images/"
KIVY = "usr/share/kivy-examples/"
HUGIN = "usr/share/hugin/xrc/data/help_en_EN/"


# package: (version the photos were chosen from, (licence, attribution) when the package's copyright file cannot
# say it (None: read it from the photo's SPDX .license file or the copyright file), {path inside the .deb: name})
CHOSEN: dict[str, tuple[str, tuple[str, str] | None, dict[str, str]]] = {
    "endless-sky-data": ("0.9.8-1.2", None,
                         names(ENDLESS_SKY, [f"{stem}.jpg" for stem in ENDLESS_SKY_PHOTOS], "endless-sky")),
    "enlightenment-data": ("0.25.4-2", None, names(ENLIGHTENMENT, [
        "Bamboo.edj", "God-Rays.edj", "Green-Maple.edj", "Lichen-Branches.edj", "Red-Maple.edj",
        "Sea-of-Lanterns.edj", "Snow-Trees.edj", "Spruce-Needles.edj", "Sunset-Clouds.edj", "White-Flower.edj",
        "Yellow-Flower.edj"], "enlightenment")),
    "plasma-workspace-data": ("4:5.27.5-2+deb12u2", None, names(PLASMA, [
        "Air Balloon.png", "Astronaut.png", "Books.png", "Brushes.png", "Bulb.png", "Car.png", "Cat.png",
        "Chameleon.png", "Cocktail.png", "Dog.png", "Fish.png", "Gamepad.png", "Owl.png", "Pancakes.png",
        "Parrot.png", "Pencils.png", "Shuttle.png", "Soccer.png", "Sunflower.png", "Sushi.png"], "plasma-avatar")),
    "gnome-control-center-data": ("1:43.6-2~deb12u1", None, names(GNOME, [
        "bicycle.jpg", "book.jpg", "calculator.jpg", "cat.jpg", "coffee2.jpg", "flower2.jpg", "guitar2.jpg",
        "headphones.jpg", "hummingbird.jpg", "mountain.jpg", "plane.jpg", "surfer.jpg", "tomatoes.jpg", "tree.jpg"],
        "gnome-face")),
    "kalzium-data": ("4:22.12.3-1", None, {
        KALZIUM + "abzug.jpg": "kalzium-fume-hood.jpg",
        KALZIUM + "becherglas.jpg": "kalzium-beaker.jpg",
        KALZIUM + "brenner.jpg": "kalzium-bunsen-burner.jpg",
        KALZIUM + "dsc.jpg": "kalzium-calorimeter.jpg",
        KALZIUM + "erlenmeyerkolben.jpg": "kalzium-erlenmeyer-flask.jpg",
        KALZIUM + "exikator.jpg": "kalzium-desiccator.jpg",
        KALZIUM + "hplc.jpg": "kalzium-hplc.jpg",
        KALZIUM + "phpapier.jpg": "kalzium-ph-paper.jpg",
        KALZIUM + "rg-staender.jpg": "kalzium-test-tube-rack.jpg",
        KALZIUM + "rotationsverdampfer.jpg": "kalzium-rotary-evaporator.jpg",
        KALZIUM + "spatel.jpg": "kalzium-spatulas.jpg",
        KALZIUM + "verteiler.jpg": "kalzium-glass-adapter.jpg",
        KALZIUM + "waage.jpg": "kalzium-balance.jpg",
    }),
    "gimp-help-en": ("2.10.34-2", ("GFDL-NIV-1.2+", "The GIMP Documentation Team"), {
        GIMP_HELP + "filters/examples/taj_orig.jpg": "gimp-help-taj-mahal.jpg",
        GIMP_HELP + "filters/examples/enhance/high-pass-origin.png": "gimp-help-chimpanzee.jpg",
        GIMP_HELP + "filters/examples/kvitveis-orig.png": "gimp-help-anemone.jpg",
        GIMP_HELP + "filters/examples/blur/mean_curvature-ex-1.jpg": "gimp-help-rose.jpg",
        GIMP_HELP + "tutorials/tone-mapping/power-lines.jpg": "gimp-help-power-lines.jpg",
        GIMP_HELP + "tutorials/tone-mapping/apple-orchard-truck-from-camera.jpg": "gimp-help-orchard-truck.jpg",
    }),
    "ruby-rmagick-doc": ("4.2.3-2+deb12u1", None, {
        RMAGICK + "Ballerina3.jpg": "rmagick-ballerina.jpg",
        RMAGICK + "Cheetah.jpg": "rmagick-cheetah.jpg",
        RMAGICK + "Hot_Air_Balloons_H.jpg": "rmagick-hot-air-balloons.jpg",
        RMAGICK + "Red_Rocks.jpg": "rmagick-red-rocks.jpg",
    }),
    "python-kivy-examples": ("2.1.0-1", None, {
        KIVY + "demo/pictures/images/Wall.jpg": "kivy-ruined-arches.jpg",
        KIVY + "demo/pictures/images/faust_github.jpg": "kivy-cat-and-mug.jpg",
        KIVY + "widgets/cityCC0.png": "kivy-city-at-night.jpg",
    }),
    "puzzle-jigsaw": ("1.0.2+git20201007.527c529+dfsg-4+b1", None, {
        "usr/share/puzzle-jigsaw/samples/cat-animal-cat-portrait-mackerel.jpg": "puzzle-jigsaw-cat.jpg",
        "usr/share/puzzle-jigsaw/samples/pexels-photo-302304.jpeg": "puzzle-jigsaw-tiger.jpg",
    }),
    "hugin-data": ("2022.0.0+dfsg-2", None, {
        HUGIN + "CA_fringes00.jpg": "hugin-beech-wood.jpg",
        HUGIN + "CA_tCA00.jpg": "hugin-office-and-lawn.jpg",
    }),
    "digikam-data": ("4:7.9.0-1", ("GPL-2+", "the digiKam developers"), {
        "usr/share/digikam/about/images/body-background.jpg": "digikam-hill-and-lake.jpg",
    }),
}


def copyright_of(paragraphs: list[FilesParagraph], path: str) -> tuple[str, str]:
    """Return (licence, copyright) of `path` in a machine-readable copyright file.

    Its Files patterns are source paths, so a pattern names the photo when its
    last part (not a bare `*`) matches the file name, as in
    debian_packages.copyright_for (kcms/users/avatars/photos/Cat.png names
    usr/share/plasma/avatars/photos/Cat.png), and covers it when it is `*` or
    matches the end of the path (images/land/* covers
    usr/share/games/endless-sky/images/land/beach0.jpg). The paragraphs that
    name the photo win, else the last one that covers it. Several that name it
    are all given: endless-sky-data's lists images/land/mountain1* (Unsplash,
    public domain) after images/land/*-sfiera* (Chris Pickel, CC-BY-SA-4.0), so
    which one mountain12-sfiera.jpg is under cannot be told.
    """
    name = PurePosixPath(path).name
    named, covering = [], []
    for paragraph in paragraphs:
        patterns = paragraph.files
        if any(PurePosixPath(pattern).name != "*" and fnmatchcase(name, PurePosixPath(pattern).name)
               for pattern in patterns):
            named.append(paragraph)
        elif any(pattern == "*" or fnmatchcase(path, "*/" + pattern) for pattern in patterns):
            covering.append(paragraph)
    chosen = named or covering[-1:]
    if not chosen:
        return UNKNOWN_LICENCE, ""
    licences = dict.fromkeys(licence_name(paragraph) if paragraph.license else "unknown" for paragraph in chosen)
    return " / ".join(licences), " / ".join(dict.fromkeys(holders(paragraph) for paragraph in chosen))


def spdx_credit(photo: Path) -> tuple[str, str] | None:
    """Return (licence, copyright and source) from a REUSE `<photo>.license` file (Plasma's avatars), if any."""
    sidecar = photo.with_name(photo.name + ".license")
    if not sidecar.exists():
        return None
    text = sidecar.read_text(encoding="utf-8")
    fields = dict(re.findall(r"SPDX-([\w-]+):\s*(.+)", text))
    source = re.search(r"https?://\S+", text)
    if "License-Identifier" not in fields:
        return None
    credit = [fields.get("FileCopyrightText", "").strip(), source[0] if source else ""]
    return fields["License-Identifier"].strip(), " ".join(part for part in credit if part)


def edje_jpeg(data: bytes) -> bytes:
    """Return the largest JPEG in an Eet archive (an Enlightenment .edj wallpaper keeps its photo at several sizes)."""
    magic, entries, _ = struct.unpack_from(">3i", data)
    if magic != EET_MAGIC:
        raise ValueError("not an Eet archive")
    jpegs = []
    for entry in range(entries):
        offset, size = struct.unpack_from(">2i", data, 12 + 24 * entry)
        if data.startswith(JPEG_START, offset):
            jpegs.append(data[offset:offset + size])
    return max(jpegs, key=len)


def save_photo(source: Path, target: Path) -> None:
    """Write `source` (or the photo inside an .edj) as an RGB JPEG, long side at most MAX_LONG_SIDE."""
    from PIL import Image, ImageOps

    data = source.read_bytes()
    if source.suffix == ".edj":
        data = edje_jpeg(data)
    with Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail((MAX_LONG_SIDE, MAX_LONG_SIDE), Image.LANCZOS)
        image.save(target, quality=JPEG_QUALITY)


def main() -> int:
    cache, output = album_folders(__doc__.splitlines()[0], "colorize-training-photos")
    rows = []
    for package, (version, credit, files) in CHOSEN.items():
        rows += album_rows(package, version, files, cache, output, save_photo,
                           lambda paragraphs, inside, source, credit=credit:
                           credit or spdx_credit(source) or copyright_of(paragraphs, inside))
    return finish_album(output, rows)


if __name__ == "__main__":
    sys.exit(main())
