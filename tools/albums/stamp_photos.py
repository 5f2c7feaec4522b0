"""Make the stamp photos: photographs of single animals, plants, fruit and things, cut out, from Tux Paint's stamps.

data/default's held-out photos are mostly GCompris' pictures of one thing each
(a tool, a fish, a crab, a panda, a monument), and the shipped model's misses
are whole objects given the wrong colour. The landscape photos of
training_photos.py taught it that outdoor texture is brown; these are the
kind of photo the held-out ones are. tuxpaint-stamps-default (GPL-2, the
Debian package training_photos.py set aside as cut-outs) holds about 130
photographic cut-outs: birds, fish, insects, mammals, fruit, vegetables,
flowers, mushrooms, trees, tools, vehicles. Each chosen stamp is laid on white
(the backdrop of many GCompris object photos), cropped to the cut-out with a
margin, and written as an RGB JPEG (quality 92, long side at most 512 px) into
--output with a MANIFEST.csv of its source, licence and attribution.

Chosen from the package's PNG stamps outside the drawn families (cartoon,
alphabets, letters, symbols, signs, money, flags, planets) whose cut-out has
at least 80 px on its short side and over 700 distinct colours (5-bit RGB), less
three drawings that pass that test (two Easter bunnies and a chick). No stamp
shows a held-out photo's subject from the same picture: the 42 test photos of
`train --test-size 42 --seed 42` were compared with the chosen stamps by eye.
Nothing here is committed: the photos stay in the cache.

    python tools/albums/stamp_photos.py       # ~/.cache/colorize-stamp-photos/album
    colorize train --extra-data ~/.cache/colorize-stamp-photos/album ...
"""

from __future__ import annotations

import sys
from pathlib import Path

from album import JPEG_QUALITY, MAX_LONG_SIDE, album_folders, album_rows, finish_album
from debian_packages import copyright_for

PACKAGE = "tuxpaint-stamps-default"
VERSION = "2022.06.04-1"
STAMPS = "usr/share/tuxpaint/stamps/"
MARGIN = 0.08                  # of the cut-out's long side, on each side
# folder under STAMPS: the chosen stamps in it
CHOSEN: dict[str, list[str]] = {
    "animals/amphibians/": ["frog-1.png", "frog.png"],
    "animals/birds/": [
        "albino_peahen.png", "crowned_crane.png", "cuckoo.png", "drake.png", "duck.png", "gander.png",
        "guineafowl.png", "helmeted_guineafowl.png", "hen.png", "lark.png", "little-penguin.png",
        "nandou.png", "ostrich.png", "peacock.png", "pelican.png", "penguin.png", "pink_flamingo.png",
        "quetzal.png", "rooster.png", "tucan.png", "turkey.png", "vulture.png"
    ],
    "animals/fish/": ["butterflyfish.png", "coraltrout.png", "lionfish.png", "lobster.png", "seahorse.png"],
    "animals/insects/": ["grasshopper.png", "hornet.png", "hoverfly.png", "mantis.png", "xanthia.png"],
    "animals/mammals/apes/": ["chimp.png"],
    "animals/mammals/aquatic/": ["dolphin.png", "otter.png"],
    "animals/mammals/bears/": ["european-bear.png"],
    "animals/mammals/bears/toys/": ["edward_bear.png"],
    "animals/mammals/bovines/": [
        "cow.png", "gnu-baby-stand.png", "gnu-baby.png", "goat.png", "indian_blackbuck.png", "zebu.png"
    ],
    "animals/mammals/camel/": ["camel.png", "dromedary.png"],
    "animals/mammals/cats/": ["lion-2.png", "tiger.png", "tiger_sumatran.png"],
    "animals/mammals/deer/": ["doe.png"],
    "animals/mammals/equines/": ["donkey.png", "horse.png", "zebra.png"],
    "animals/mammals/": [
        "giraffe.png", "hippopotamus.png", "pig_golden.png", "pig_golden2.png", "wildboar.png"
    ],
    "animals/mammals/rodents/": ["beaver.png", "capybara.png", "squirrel.png"],
    "animals/marsupials/": ["koala.png"],
    "animals/shellfish/": ["abalone.png"],
    "food/fruit/": [
        "Apricot_whole.png", "Cherry_Stella.png", "Strawberry2.png", "cherimoya.png", "orange_seville.png"
    ],
    "food/spices/": ["ginger.png"],
    "food/vegetables/": ["broccoli.png", "corn.png"],
    "hobbies/": ["binoculars.png", "camera_35mm.png"],
    "household/": ["Lightbulb.png", "cylinder.png"],
    "household/dishes/": ["pitcher_small.png"],
    "household/tools/": ["cementmixer.png", "spade.png", "toolbox.png"],
    "medical/": ["mercurythermometer.png"],
    "military/": ["final-roll-call.png", "paratrooper.png"],
    "military/vehicles/": ["bradley.png", "bradley_mirror.png", "ww2_german_gun.png"],
    "people/": ["fireman200b.png"],
    "people/toys/": ["grannysmith.png"],
    "plants/": ["eggplant.png", "lavender.png", "lettuce_bolted.png", "thyme.png"],
    "plants/flowers/": [
        "adeenia.png", "anemone_red.png", "daffodil.png", "iris.png", "pigface.png", "red-gazania.png",
        "whitestar-petunia.png"
    ],
    "plants/flowers/plastic/": ["chuvanna_plastic_poo.png"],
    "plants/mushrooms/": ["cep-1.png", "cep-2.png", "cep.png"],
    "plants/trees/": ["holm_oak.png", "liberia-palm.png", "rambutan.png", "tree336.png"],
    "seasonal/": ["candle.png"],
    "seasonal/christmas/": [
        "Candy_cane_photo_1.png", "Candy_cane_photo_2.png", "Christmas_Tree_photo.png",
        "Christmas_pudding.png", "German_Christmas_toy.png", "Roast_turkey.png"
    ],
    "seasonal/easter/": ["daffodil.png"],
    "seasonal/halloween/": ["grave-a.png", "grave-f.png"],
    "space/": ["apollo_lander.png", "spacewalk.png", "voyager2.png"],
    "sports/": ["soccer.png"],
    "vehicles/construction/": ["dumper.png", "dumper_mirror.png"],
    "vehicles/cycle/": ["pink_tricycle.png"],
    "vehicles/emergency/": ["firetruck.png"],
    "vehicles/flight/": ["balloon360.png"],
    "vehicles/flight/planes/": ["747.png"],
    "vehicles/": ["garbagetruck.png", "wheel_tractor.png"],
    "vehicles/masstransit/": ["green_korean_bus.png"],
    "vehicles/race/": ["indycar.png"],
    "vehicles/ship/": ["chineseJunk.png", "walnutBoat.png"],
}


def save_cut_out(source: Path, target: Path) -> None:
    """Write the stamp laid on white and cropped to its opaque part plus a margin, as an RGB JPEG."""
    from PIL import Image

    with Image.open(source) as image:
        rgba = image.convert("RGBA")
    left, top, right, bottom = rgba.getchannel("A").point(lambda alpha: 255 if alpha > 128 else 0).getbbox()
    margin = round(MARGIN * max(right - left, bottom - top))
    box = (max(left - margin, 0), max(top - margin, 0),
           min(right + margin, rgba.width), min(bottom + margin, rgba.height))
    photo = Image.new("RGB", rgba.size, "white")
    photo.paste(rgba, mask=rgba.getchannel("A"))
    photo = photo.crop(box)
    photo.thumbnail((MAX_LONG_SIDE, MAX_LONG_SIDE), Image.LANCZOS)
    photo.save(target, quality=JPEG_QUALITY)


def main() -> int:
    cache, output = album_folders(__doc__.splitlines()[0], "colorize-stamp-photos")
    files = {STAMPS + folder + name: "stamp-" + (folder + Path(name).stem).replace("/", "-").replace("_", "-").lower()
             + ".jpg" for folder, names in CHOSEN.items() for name in names}
    rows = album_rows(PACKAGE, VERSION, files, cache, output, save_cut_out,
                      lambda paragraphs, inside, source: copyright_for(paragraphs, inside))
    return finish_album(output, rows)


if __name__ == "__main__":
    sys.exit(main())
