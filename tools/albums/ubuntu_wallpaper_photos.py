"""Make the Ubuntu wallpaper album: colour photographs from Ubuntu's wallpaper packages, fetched with a signed apt.

More photos to train on (train --extra-data). data/default, the outside
album, the unlabeled album and the training photos take nothing from Ubuntu's
own archive; its wallpaper packages hold hundreds of contest photographs
(Flickr and Unsplash, mostly CC-BY-SA / CC0). This script takes them from
these Ubuntu 24.04 (noble) packages:

- ubuntu-wallpapers-karmic ... ubuntu-wallpapers-noble (30 packages, one a
  release, 24.04.2: CC-BY-SA-3.0 for the older photos, CC-BY-SA-2.0,
  CC-BY-2.0, CC0, CC-BY-SA-4.0 and Unsplash for the newer ones, per file in
  their shared debian/copyright),
- ubuntu-mate-wallpapers-photos (24.04.0: CC-BY-SA-4.0 in its
  debian/copyright),
- budgie-wallpapers-xenial ... budgie-wallpapers-noble (17 packages, 24.04:
  Ubuntu Budgie's contest photos, CC-BY-SA-4.0 / CC0 / CC-BY-SA-3.0),
- edubuntu-wallpapers and edubuntu-wallpapers-legacy (24.04.26: Unsplash
  photos of school things, and CC-BY-SA / public-domain ones).

The album holds 363 photos: 213 from the ubuntu-wallpapers packages, 9 from
ubuntu-mate-wallpapers-photos, 121 from the budgie-wallpapers packages and 20
from Edubuntu's; 118 under CC-BY-SA-3.0, 82 CC-BY-SA-4.0, 79 CC0, 53
CC-BY-SA-2.0, 22 the Unsplash License, 5 CC-BY-2.0, 2 CC-BY-SA (unversioned),
1 public domain and 1 GPL-3.0+ (an Unsplash photo that edubuntu-wallpapers'
copyright file leaves under its `Files: *`). They show landscapes, sea and sky
(115), flowers, plants and foliage (87), objects and food (85: books, pencils,
coffee, instruments, tools), city streets and buildings (42), animals (24) and
people (10).

Left out, by looking at contact sheets of every image in the packages: the
release mascots, logos and brand graphics (the *_Wallpaper_Grey* files, and
kubuntu-wallpapers' all but a nebula and five photos), renders, fractals and
AI-generated pictures (budgie's ai_generated_*), vector art and drawings,
photos of paintings, murals and graffiti, gradients, signs and text,
black-and-white, sepia and near-monochrome photos (blue-tinted snow, fog,
silhouettes on a one-colour sky), bokeh and blur abstracts, and telescope
pictures of nebulae. kubuntu-wallpapers' five photos of leaves
(Gregorio_00[1-5].png) are left out as well: its debian/copyright says
nothing of them, so their licence is unknown. ubuntu-wallpapers-groovy-raspi
holds one graphic only.

Near-duplicates are dropped when the album is made. Each photo's 16x16
difference hash (of the grayscale, 256 bits), of the whole photo, of its
left-right mirror and of centred crops to the common screen shapes (1:1 to
2:1, so a 16:9 copy of a 16:10 wallpaper matches), is compared with every
photo in the --reference folders (data/default, which holds mate-backgrounds,
plasma-workspace-wallpapers and lxqt-themes wallpapers, and the outside,
unlabeled and training-photos albums: a training photo that is also a
held-out or outside photo would spoil them) and with the photos already
kept (wallpaper packages repeat each other's photos). At most 12 bits
apart is a duplicate, or at most 24 bits when both have the same
pixel size. The copies found were 0 bits apart, the closest two different
photos (two sunsets) 26 bits. Of the 365 chosen, two were dropped
this way: ubuntu-wallpapers-karmic's Butterfly.jpg is lxqt-0001.jpg of
data/default (lxqt-themes' Butterfly-Kenneth-Wimer.jpg), and
edubuntu-wallpapers-legacy's mrtau-and-tree is ubuntu-wallpapers-saucy's
Mr._Tau_and_The_Tree; nothing matched the outside album (its lomiri
wallpapers included), the unlabeled album or the training photos.
CACHE/near-duplicates.png shows each dropped pair beside the closest pairs kept.

The packages are fetched without touching the system's apt: a private apt
configuration under CACHE/apt (its own sources.list, lists and cache) reads
http://archive.ubuntu.com/ubuntu noble main universe with
[signed-by=] Ubuntu's archive keyring. That keyring comes from the package
ubuntu-keyring (2023.11.28.1-0.2), which is not in Debian bookworm but is in
Debian trixie: a second private configuration reads Debian trixie main,
verified by the system's own debian-archive-keyring (which holds the trixie
keys), and `apt-get download` fetches the keyring package, checked against
that signed index. Both configurations force apt's checks back on
(no unauthenticated or insecure repositories, Valid-Until and Date checked),
whatever the system's apt.conf.d says. `apt-get download` needs no root.
The .deb files are kept in CACHE/debs and checked against the signed
index's SHA256 when reused; a run with all of them cached needs no network.

The chosen files are listed below by name with the package version they were
picked from and what they show. A missing file or a newer package version
is a warning, not an error. Each photo is written as an RGB JPEG (quality 92,
long side at most 512 px, like data/default) into --output with a
MANIFEST.csv of its source, licence, attribution (the photographer named in
debian/copyright, else in the file name, and the source address given there)
and subject. Nothing here is committed: the photos stay in the cache
(about 1.8 GB with the .deb files and their unpacked trees).

    nice python tools/albums/ubuntu_wallpaper_photos.py     # ~/.cache/colorize-ubuntu-wallpapers/album
    colorize train --extra-data ~/.cache/colorize-ubuntu-wallpapers/album ...
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections import Counter
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

import imagehash
import numpy as np

from album import MANIFEST_FIELDS, licence_counts, save_photo, write_manifest
from debian_packages import (UNKNOWN_LICENCE, FilesParagraph, PrivateApt, deb_version, extract, licence_name,
                             unpack_package, warn)

UBUNTU_SOURCE = "http://archive.ubuntu.com/ubuntu noble main universe"
DEBIAN_SOURCE = "http://deb.debian.org/debian trixie main"
DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")       # the system's own
UBUNTU_KEYRING_PACKAGE = ("ubuntu-keyring", "2023.11.28.1-0.2")               # from Debian trixie
UBUNTU_KEYRING = "usr/share/keyrings/ubuntu-archive-keyring.gpg"
REFERENCES = [Path(__file__).resolve().parent.parent / "data" / "default",
              Path.home() / ".cache" / "colorize-outside-album" / "album",
              Path.home() / ".cache" / "colorize-unlabeled-album" / "album",
              Path.home() / ".cache" / "colorize-training-photos" / "album"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
HASH_SIZE = 16               # a 16x16 difference hash: 256 bits
NEAR_BITS = 12               # of the 256 of a 16x16 difference hash: at most this far apart is a near-duplicate
SAME_SIZE_BITS = 24          # ... or at most this far when both originals have the same pixel size
ASPECTS = (1.0, 5 / 4, 4 / 3, 3 / 2, 16 / 10, 16 / 9, 2.0)      # centred crops hashed besides the whole photo
POPCOUNT = np.array([byte.bit_count() for byte in range(256)], dtype=np.uint16)

PLANT, ANIMAL, OBJECT, LANDSCAPE, CITY, PEOPLE = (
    "flowers/plants/foliage", "animals", "objects/food", "landscapes/sea/sky", "city/buildings", "people")
BACKGROUNDS = "usr/share/backgrounds/"
BUDGIE = "usr/share/backgrounds/budgie/"
MATE_PHOTOS = "usr/share/backgrounds/ubuntu-mate-photos/"
# package: (version the photos were chosen from, folder in the .deb, {file name: what it shows}), in the order
# in which copies are kept (a later copy of a photo is dropped): Ubuntu's releases, MATE, Budgie, Edubuntu
CHOSEN: dict[str, tuple[str, str, dict[str, str]]] = {
    "ubuntu-wallpapers-karmic": ("24.04.2", BACKGROUNDS, {
        "Butterfly.jpg": ANIMAL,
        "Cherries.jpg": OBJECT,
        "FlordeLoto.jpg": PLANT,
        "GrassinA.jpg": PLANT,
        "Naranja.jpg": PLANT,
        "Palmengarten.jpg": PLANT,
        "PrimulaRed.jpg": PLANT,
        "RadioactiveSunrise.jpg": LANDSCAPE,
        "Sand.jpg": LANDSCAPE,
        "Sunset.jpg": LANDSCAPE,
        "TheRainbowisDead.jpg": OBJECT,
        "WhiteOrchid.jpg": PLANT,
    }),
    "ubuntu-wallpapers-lucid": ("24.04.2", BACKGROUNDS, {
        "BosqueTK.jpg": PLANT,
        "Cornered.jpg": PLANT,
        "CurlsbyCandy.jpg": PLANT,
        "Daisy.jpg": PLANT,
        "Fluffodome.jpg": PLANT,
        "Icystones2.jpg": LANDSCAPE,
        "Maraetaibeforesunrise.jpg": LANDSCAPE,
        "Yellowflower.jpg": PLANT,
    }),
    "ubuntu-wallpapers-maverick": ("24.04.2", BACKGROUNDS, {
        "Blue_box_number_2_by_orb9220.jpg": OBJECT,
        "Bubbles_by_JanneM.jpg": OBJECT,
        "Crocosmia_by_sirpecangum.jpg": PLANT,
        "Feather_by_quinn.anya.jpg": OBJECT,
        "Fern_by_aalex04.jpg": PLANT,
        "Life_by_Paco_Espinoza.jpg": PLANT,
        "Morning_II_by_Tadas_N.jpg": PLANT,
        "Primer_Amanecer_2010_by_letoloke.jpg": LANDSCAPE,
        "Serenity_Enchanted_by_sirpecangum.jpg": PLANT,
        "Smile_by_quinn.anya.jpg": OBJECT,
        "Spiral_by_firas.jpg": PLANT,
    }),
    "ubuntu-wallpapers-natty": ("24.04.2", BACKGROUNDS, {
        "Berries_by_Orb9220.jpg": PLANT,
        "Fabric_by_Just_Jeanette.jpg": OBJECT,
        "Green_by_Alan_Mattila.jpg": PLANT,
        "Ilunabarra_Azkainetik_by_Garuna_bor-bor.jpg": LANDSCAPE,
        "La_no_alto_by_Allyson_Souza.jpg": LANDSCAPE,
        "Quandro_by_Tomas_Vasconcelo.jpg": LANDSCAPE,
        "Signpost_by_maroubal2.jpg": OBJECT,
        "Tiny_Worlds_by_matthileo.jpg": PLANT,
        "White_flowers_by_Garuna_bor-bor.jpg": PLANT,
    }),
    "ubuntu-wallpapers-oneiric": ("24.04.2", BACKGROUNDS, {
        "Dybbølsbro_Station_by_SirPecanGum.jpg": CITY,
        "Langelinie_Allé_by_SirPecanGum.jpg": CITY,
        "Momiji_Dream_by_Deacon_MacMillan.jpg": PLANT,
        "Mount_Snowdon,_Wales_by_Adam_Vellender.jpg": LANDSCAPE,
        "Not_Alone_by_Deacon_MacMillan.jpg": PLANT,
        "PurpleDancers_by_Emilio_Merlino.jpg": PLANT,
        "Small_flowers_by_Dariusz_Duma.jpg": PLANT,
        "The_Grass_aint_Greener_by_fix_pena.jpg": PLANT,
        "WildWheat_by_Brian_Burt.jpg": PLANT,
    }),
    "ubuntu-wallpapers-precise": ("24.04.2", BACKGROUNDS, {
        "Delicate_Petals_by_lefthandgergo.jpg": PLANT,
        "Early_Blossom_by_Dh0r.jpg": PLANT,
        "Flocking_by_noombox.jpg": ANIMAL,
        "Golden_Bloom_by_Twinmama.jpg": PLANT,
        "Morning_Dew_by_Lars_Clausen.jpg": PLANT,
        "Precise_Pangolin_by_Vlad_Gerasimov.jpg": PLANT,
        "Speaker_Weave_by_Phil_Jackson.jpg": OBJECT,
        "The_Forbidden_City_by_Daniel_Mathis.jpg": CITY,
        "Tie_My_Boat_by_Ray_García.jpg": OBJECT,
        "Winter_Morning_by_Shannon_Lucas.jpg": PLANT,
    }),
    "ubuntu-wallpapers-quantal": ("24.04.2", BACKGROUNDS, {
        "A_Little_Quetzal_by_vgerasimov.jpg": ANIMAL,
        "Below_Clouds_by_kobinho.jpg": LANDSCAPE,
        "Cairn_by_Sylvain_Naudin.jpg": LANDSCAPE,
        "Early_Morning_by_Robert_Katzki.jpg": LANDSCAPE,
        "Gran_Canaria_by_ALF.jpg": LANDSCAPE,
        "Green_Plant_by_Simon_Schlegl.jpg": PLANT,
        "H_by_Manuel_Sagredo.jpg": PLANT,
        "Pantano_de_Orellana_by_mgarciaiz.jpg": LANDSCAPE,
        "Roof_Tiles_by_Finn_Sturdy.jpg": CITY,
    }),
    "ubuntu-wallpapers-raring": ("24.04.2", BACKGROUNDS, {
        "Begonia_by_fatpoint21.jpg": PLANT,
        "Fleurs_de_Prunus_24_by_Jérôme_Boivin.jpg": PLANT,
        "La_Gomera_by_Alfonso_Aguirre_Arbex.jpg": LANDSCAPE,
        "Landing_by_Nic_Dahlquist.jpg": LANDSCAPE,
        "Last_breath…_by_Francisco_Javier_Epinoza_Pérez.jpg": PLANT,
        "Leftover_by_Sagar_Jain.jpg": LANDSCAPE,
        "Morning_Sun_on_Frost-Covered_Leaves_by_Gary_A_Stafford.jpg": PLANT,
    }),
    "ubuntu-wallpapers-saucy": ("24.04.2", BACKGROUNDS, {
        "Gota_D'água_by_Eiti_Kimura.jpg": PLANT,
        "Grass_by_Jeremy_Hill.jpg": PLANT,
        "Mountains_by_JamesPickles.jpg": LANDSCAPE,
        "Mr._Tau_and_The_Tree_-_by_TJ.jpg": LANDSCAPE,
        "Nylon_Rainbow_by_Sam_Hewitt.jpg": OBJECT,
        "Oak_by_Lyle_Nel.jpg": PLANT,
        "Taxus_baccata_by_baubusiukas.jpg": PLANT,
        "The_City_of_Polen_by_MilanVankovski.jpg": PLANT,
        "Thingvellir_by_pattersa.jpg": LANDSCAPE,
        "Untitled_by_Garazi_Unzueta.jpg": LANDSCAPE,
        "Water_Lily_by_Denis_Dugushkin.jpg": PLANT,
    }),
    "ubuntu-wallpapers-trusty": ("24.04.2", BACKGROUNDS, {
        "Backyard_Mushrooms_by_Kurt_Zitzelman.jpg": PLANT,
        "Beach_by_Renato_Giordanelli.jpg": LANDSCAPE,
        "Berries_by_Tom_Kijas.jpg": PLANT,
        "Forever_by_Shady_S.jpg": LANDSCAPE,
        "Jelly_Fish_by_RaDu_GaLaN.jpg": ANIMAL,
        "Mono_Lake_by_Angela_Henderson.jpg": LANDSCAPE,
        "Reflections_by_Trenton_Fox.jpg": CITY,
    }),
    "ubuntu-wallpapers-utopic": ("24.04.2", BACKGROUNDS, {
        "Empty_Space_by_Glenn_Rayat.jpg": CITY,
        "Golden_leaves_by_Mauro_Campanelli.jpg": PLANT,
        "Kronach_leuchtet_2014_by_Brian_Fox.jpg": CITY,
        "Music_by_tomasino.cz.jpg": OBJECT,
        "Redes_de_hilo_by_Juan_Pablo_Lauriente.jpg": OBJECT,
        "salcantayperu_by_Life_Nomadic.jpg": LANDSCAPE,
        "Sunny_Autumn_by_Joel_Heaps.jpg": PLANT,
        "Warm_grasses_by_dcsearle.t21.jpg": PLANT,
    }),
    "ubuntu-wallpapers-vivid": ("24.04.2", BACKGROUNDS, {
        "Cedar_Wax_Wing_by_Raymond_Lavoie.jpg": ANIMAL,
        "Euphoria!_by_Tomasino.cz.jpg": PEOPLE,
        "Oyster_Catcher_in_the_Rocks_by_Raymond_Lavoie.jpg": ANIMAL,
        "Polka_Dots_and_Moonbeams_by_SirPecanGum.jpg": LANDSCAPE,
        "Primavera_by_Vivian_Morales.jpg": PLANT,
        "Tenerife_Roques_de_Anaga_by_Frederik_Schulz.jpg": LANDSCAPE,
        "Traviny_by_Tomasino.cz.jpg": PLANT,
    }),
    "ubuntu-wallpapers-wily": ("24.04.2", BACKGROUNDS, {
        "Breaker_by_Lyle_Nel.jpg": OBJECT,
        "Hotel_by_sarcasmrules2011.jpg": CITY,
        "Light_my_fire_evening_sun_by_Dariusz_Duma.jpg": PLANT,
        "Mediterranean_Sea_by_simosx.jpg": LANDSCAPE,
        "Moss_inflorescence_by_carmelo75.jpg": PLANT,
        "Sitting_Here,_Making_Fun_by_Philipp_Haegi.jpg": PLANT,
        "Tramonto_a_Scalea_by_Renatvs88.jpg": LANDSCAPE,
        "Tranquil_by_Pat_David.jpg": ANIMAL,
    }),
    "ubuntu-wallpapers-xenial": ("24.04.2", BACKGROUNDS, {
        "Cielo_estrellado_by_Eduardo_Diez_Viñuela.jpg": LANDSCAPE,
        "Dans_ma_bulle_by_Christophe_Weibel.jpg": OBJECT,
        "Flora_by_Marek_Koteluk.jpg": PLANT,
        "Night_lights_by_Alberto_Salvia_Novella.jpg": CITY,
        "passion_flower_by_Irene_Gr.jpg": PLANT,
        "Spring_by_Peter_Apas.jpg": PLANT,
        "TCP118v1_by_Tiziano_Consonni.jpg": LANDSCAPE,
        "The_Land_of_Edonias_by_Γιωργος_Αργυροπουλος.jpg": PLANT,
    }),
    "ubuntu-wallpapers-yakkety": ("24.04.2", BACKGROUNDS, {
        "Alien_wing_by_Ralph_Crützen.jpg": PLANT,
        "Classic_Guitar_Detail_by_Sten_Jørgen_Pettersen.jpg": OBJECT,
        "DSC3907_by_Todor_Velichkov.jpg": PLANT,
        "Haukland_Beach_view_by_Michele_Agostini.jpg": LANDSCAPE,
        "IMG_0081_by_Jobin_Babu.jpg": ANIMAL,
        "IMG_7632_by_Jobin_Babu.jpg": LANDSCAPE,
        "larung_gar_by_night_by_Geza_Radics.jpg": CITY,
        "P1310728_by_Ferran_Reyes.jpg": LANDSCAPE,
        "Wanaka_Tree_by_Stephane_Pakula.jpg": LANDSCAPE,
        "Yala_mountain_by_Geza_Radics.jpg": LANDSCAPE,
    }),
    "ubuntu-wallpapers-zesty": ("24.04.2", BACKGROUNDS, {
        "A_star_has_fallen_by_Juan_Pablo_Lauriente.jpg": ANIMAL,
        "Candy_by_Bernhard_Hanakam.jpg": OBJECT,
        "Espaciolandia_by_Nando_uy.jpg": CITY,
        "Forest_by_Moritz_Reisinger.jpg": LANDSCAPE,
        "Mushrooms_3_by_moritzmhmk.jpg": PLANT,
        "Pink_and_Blue_by_Ashwin_Deshpande.jpg": ANIMAL,
        "Purple_Daisy_by_Maria_Scotto.jpg": PLANT,
        "Road_to_Nowhere_by_Matt_Bailey.jpg": CITY,
        "Seebrücke_Graal-Müritz_by_Oliver_hb.jpg": LANDSCAPE,
        "Some_Light_Reading_by_Brandilyn_Carpenter.jpg": OBJECT,
    }),
    "ubuntu-wallpapers-artful": ("24.04.2", BACKGROUNDS, {
        "Bee_on_lavender_by_Martin.jpg": ANIMAL,
        "Bloom_by_Victor_Madru.jpg": PLANT,
        "Grand_Canyon_North_Rim_by_Rihards_Vilks.jpg": LANDSCAPE,
        "Green_Island_by_Radu_Galan.jpg": LANDSCAPE,
        "Headstock_by_Bernhard_Hanakam.jpg": OBJECT,
        "Lighthouse_at_sunrise_by_Frenchie_Smalls.jpg": LANDSCAPE,
        "Lily_of_the_Valley_by_Robert_Slotte.jpg": PLANT,
        "London_Eye_by_Paul_Daniell.jpg": CITY,
        "More_Kamikochi_by_mendhak.jpg": LANDSCAPE,
        "Planking_is_going_against_the_grain_by_mendhak.jpg": OBJECT,
        "Red_delight_by_Rishikesh_Gawade.jpg": OBJECT,
        "Sunrise_on_the_beach_by_Luca_Ciavatta.jpg": LANDSCAPE,
        "Voss_by_fortuneblues.jpg": LANDSCAPE,
    }),
    "ubuntu-wallpapers-bionic": ("24.04.2", BACKGROUNDS, {
        "Cathédrale_Marie-Rheine-du-Monde_by_Thierry_Pon.jpg": CITY,
        "Crocus_Wallpaper_by_Roy_Tanck.jpg": PLANT,
        "El_Haouaria_by_Nusi_Nusi.jpg": LANDSCAPE,
        "Halifax_Sunset_by_Vlad_Drobinin.jpg": LANDSCAPE,
        "Manhattan_Sunset_by_Giacomo_Ferroni.jpg": CITY,
        "On_top_of_the_Rubihorn_by_Matthias_Niess.jpg": LANDSCAPE,
        "Raindrops_On_The_Table_by_Alex_Fazit.jpg": OBJECT,
        "Ross_Jones_Rockpool_(Sydney)_by_Chris_Carignan.jpg": LANDSCAPE,
        "Spices_in_Athens_by_Makis_Chourdakis.jpg": OBJECT,
        "Wall_with_door_on_Gozo_by_Matthias_Niess.jpg": CITY,
    }),
    "ubuntu-wallpapers-cosmic": ("24.04.2", BACKGROUNDS, {
        "Black_sand_beach_by_Mads_Rosendahl.jpg": LANDSCAPE,
        "Carriage_Return_by_mendhak.jpg": LANDSCAPE,
        "Fairground_at_Night_by_martin.jpg": CITY,
        "Image_of_Mount_Parnassus_by_simosx.jpg": LANDSCAPE,
        "Milky_Way_before_the_dawn_by_Tomas_Sobek.jpg": LANDSCAPE,
        "Spring_Flowers_by_MK4-MI01.jpg": PLANT,
        "Tapiola_Espoo_Cultural_Center_by_Agostino_Faedda.jpg": CITY,
        "Ubuntu_Party_de_Paris_by_Marcos_Costales.jpg": OBJECT,
    }),
    "ubuntu-wallpapers-disco": ("24.04.2", BACKGROUNDS, {
        "Cramond_Island_by_Keanu_Kerr.jpg": LANDSCAPE,
        "Flower_Gate_Bridge_by_Michele_Agostini.jpg": CITY,
        "On_the_harbour_by_Víctor_Fernández_Rico.jpg": LANDSCAPE,
        "Staniel_Cay_by_Joseph_Bylund.jpg": LANDSCAPE,
        "Sunset_of_Peloponnesus_by_Simos_Xenitellis.jpg": LANDSCAPE,
        "Tennis_ball_by_Artem_Kavalerov.jpg": OBJECT,
        "Water_of_Leith_by_Keanu_Kerr.jpg": CITY,
    }),
    "ubuntu-wallpapers-eoan": ("24.04.2", BACKGROUNDS, {
        "Beijling_park_burial_path_by_Mattias_Andersson.jpg": LANDSCAPE,
        "Frozen_sunset_on_the_lake_by_Manuel_Arslanyan.jpg": LANDSCAPE,
        "Origin_of_nature_by_Julian_Tomasini.jpg": LANDSCAPE,
        "Stargazing_by_Marcel_Kächele.jpg": LANDSCAPE,
    }),
    "ubuntu-wallpapers-focal": ("24.04.2", BACKGROUNDS, {
        "brad-huchteman-stone-mountain.jpg": LANDSCAPE,
        "joshua-coleman-something-yellow.jpg": OBJECT,
        "matt-mcnulty-nyc-2nd-ave.jpg": CITY,
        "ryan-stone-skykomish-river.jpg": CITY,
    }),
    "ubuntu-wallpapers-groovy": ("24.04.2", BACKGROUNDS, {
        "Camera_Film_by_Markus_Spiske.jpg": OBJECT,
        "Colored_Pencils_by_Jess_Bailey.jpg": OBJECT,
        "Landscape_Photography_Of_Mountains_by_Simon_Berger.jpg": LANDSCAPE,
        "Silver_Back_Gorilla_by_Mike_Arney.jpg": ANIMAL,
    }),
    "ubuntu-wallpapers-hirsute": ("24.04.2", BACKGROUNDS, {
        "Hippopotamus_Swimming_Photo_by_Francesco_Ungaro.jpg": ANIMAL,
        "Macro_Shot_of_Black_Animal_by_Gene_Taylor.jpg": ANIMAL,
    }),
    "ubuntu-wallpapers-impish": ("24.04.2", BACKGROUNDS, {
        "Milky_Way_by_Paulo_José_Oliveira_Amaro.jpg": LANDSCAPE,
        "Way_by_Kacper_Ślusarczyk.jpg": LANDSCAPE,
    }),
    "ubuntu-wallpapers-jammy": ("24.04.2", BACKGROUNDS, {
        "Blue_flower_by_Elena_Stravoravdi.jpg": PLANT,
        "Cherry_Tree_in_Lakones_by_elenastravoravdi.jpg": PLANT,
        "DSC2943_by_kcpru.jpg": LANDSCAPE,
        "Mirror_by_Uday_Nakade.jpg": LANDSCAPE,
        "ubuntu2_by_arman1992.jpg": LANDSCAPE,
        "ubuntu_by_arman1992.jpg": LANDSCAPE,
    }),
    "ubuntu-wallpapers-kinetic": ("24.04.2", BACKGROUNDS, {
        "Obersee_by_Uday_Nakade.jpg": LANDSCAPE,
        "Sunset_Over_Lake_Lugano_by_Alexey_Kulik.jpg": LANDSCAPE,
    }),
    "ubuntu-wallpapers-lunar": ("24.04.2", BACKGROUNDS, {
        "Copper_Mountain_by_Eduardo_Battaglia.jpg": LANDSCAPE,
        "Startrail_by_Hajime_Mizuno.jpg": LANDSCAPE,
        "Warm_Filament_by_Eduardo_Battaglia.jpg": OBJECT,
    }),
    "ubuntu-wallpapers-mantic": ("24.04.2", BACKGROUNDS, {
        "Haukelivegen_norway_by_madsrh.png": LANDSCAPE,
        "Milkyway_by_mizuno_as.png": LANDSCAPE,
    }),
    "ubuntu-wallpapers-noble": ("24.04.2", BACKGROUNDS, {
        "Clouds_by_Tibor_Mokanszki.jpg": LANDSCAPE,
        "Fuji_san_by_amaral.png": LANDSCAPE,
        "Northan_lights_by_mizuno.webp": LANDSCAPE,
    }),
    "ubuntu-mate-wallpapers-photos": ("24.04.0", MATE_PHOTOS, {
        "andrew-ridley-54228.jpg": LANDSCAPE,
        "gabriele-diwald-201135.jpg": OBJECT,
        "johann-siemens-591.jpg": LANDSCAPE,
        "kristopher-roller-110203.jpg": LANDSCAPE,
        "matteo-botto-16023.jpg": LANDSCAPE,
        "nasa-53884.jpg": LANDSCAPE,
        "nattu-adnan-328570.jpg": LANDSCAPE,
        "stefan-stefancik-105374.jpg": LANDSCAPE,
        "tommy-lisbin-189189.jpg": LANDSCAPE,
    }),
    "budgie-wallpapers-xenial": ("24.04", BUDGIE, {
        "beauty_of_mandarins_by_erwan_hesry.jpg": PLANT,
        "before_the_storm_by_matt_hoffman.jpg": PLANT,
        "foggy_mountain_ridge_by_rosan_harmens.jpg": LANDSCAPE,
        "silent_sunrise_in_the_rainforest_by_eric_li.jpg": LANDSCAPE,
        "sleeping_beauty_by_jordan-whitt.jpg": ANIMAL,
        "sundown_beach_by_quino_al.jpg": LANDSCAPE,
    }),
    "budgie-wallpapers-yakkety": ("24.04", BUDGIE, {
        "clarity_by_sigi_sagi.jpg": PLANT,
        "cloudy_hills_by_the5heepdev.jpg": LANDSCAPE,
        "cobweb_by_sigi_sagi.jpg": PLANT,
        "dream_by_sigi_sagi.jpg": PLANT,
        "net_by_sigi_sagi.jpg": OBJECT,
        "simplicity_by_paul_van_de_velde.jpg": PLANT,
        "wald_by_sigi_sagi.jpg": PLANT,
    }),
    "budgie-wallpapers-zesty": ("24.04", BUDGIE, {
        "beach_by_siddharth_arya.jpg": LANDSCAPE,
        "feathers_by_andre_tr.jpg": OBJECT,
        "impossibly_tall_bridge.jpg": CITY,
        "playground_by_michael_johnson.jpg": CITY,
        "speeding_train_by_xander_jara.jpg": CITY,
        "streaming_butterfly_by_xander_jara.jpg": OBJECT,
        "world_photo_walk_day_by_mr_drizz.jpg": CITY,
    }),
    "budgie-wallpapers-artful": ("24.04", BUDGIE, {
        "12cordas_by_gill_santos.jpg": OBJECT,
        "bercuit_driveway_by_guy_renard.jpg": LANDSCAPE,
        "green_spikey_thing_by_gill_santos.jpg": PLANT,
        "hipster_by_gill_santos.jpg": OBJECT,
        "pointy_red_by_guy_renard.jpg": PLANT,
        "stray_dog_by_radu_galan.jpg": ANIMAL,
        "tramea_basilaris_by_sudhir_reddy.jpg": ANIMAL,
        "wintermas_lights_by_radu_galan.jpg": CITY,
    }),
    "budgie-wallpapers-bionic": ("24.04", BUDGIE, {
        "bench_at_the_american_museum_of_natural_history_by_james_pond.jpg": CITY,
        "bhimtal_by_anniruddha_kibey.jpg": LANDSCAPE,
        "captain_jack_the_cat_by_james_pond.jpg": OBJECT,
        "common_kingfisher_by_sudhir_reddy.jpg": ANIMAL,
        "cycles_at_sunset_by_radu_galan.jpg": PEOPLE,
        "pink_bee_flower_by_gil_santos.jpg": PLANT,
        "unknown_flower_by_ngynloc.jpg": PLANT,
    }),
    "budgie-wallpapers-cosmic": ("24.04", BUDGIE, {
        "bird-3158784cosmic.jpg": ANIMAL,
        "boats-3051610cosmic.jpg": LANDSCAPE,
        "coffee-802057cosmic.jpg": OBJECT,
        "fish-3062034cosmic.jpg": PEOPLE,
        "green-tea-2356770cosmic.jpg": OBJECT,
        "knowledge-1052010cosmic.jpg": OBJECT,
        "mattress-2489615cosmic.jpg": OBJECT,
        "message-in-a-bottle-3437294cosmic.jpg": OBJECT,
        "skyscraper-3094696cosmic.jpg": CITY,
    }),
    "budgie-wallpapers-disco": ("24.04", BUDGIE, {
        "aquamarine_droplet_by_peter_heeling.jpg": OBJECT,
        "bike_wheel_by_michal_kulesza.jpg": OBJECT,
        "camera_and_spectacles_by_bino_storyteller.jpg": OBJECT,
        "coffee_on_bench_by_mikesh_kaos.jpg": OBJECT,
        "cute_puppy_by_rudy_van_der_veen.jpg": ANIMAL,
        "feather_on_windowsill_by_jill_heyer.jpg": OBJECT,
        "quignone_the_cat_by_thomas_jarrand.jpg": ANIMAL,
        "standing_by_waterfall_by_jared_erondu.jpg": LANDSCAPE,
        "watch_macro_by_peter_heeling.jpg": OBJECT,
    }),
    "budgie-wallpapers-eoan": ("24.04", BUDGIE, {
        "darksky_by_bryant_stiven_salazar_aguirre.jpg": LANDSCAPE,
        "espresso_in_small_cup_by_brodie_vissers.jpg": OBJECT,
        "explore_by_andrew_neel.jpg": OBJECT,
        "manuscript_by_phan_minh_cuong.jpg": OBJECT,
        "peaking_sun_in_lake_by_eberhard_grossgasteiger.jpg": LANDSCAPE,
        "sun_through_trees_by_annie_spratt.jpg": LANDSCAPE,
        "tyre_swing_by_scott_webb.jpg": OBJECT,
        "window_in_window_by_stefan_serena.jpg": CITY,
    }),
    "budgie-wallpapers-focal": ("24.04", BUDGIE, {
        "all_with_wheels_by_aabhas_lall.jpg": OBJECT,
        "boat-on-the-beach_by_william_beckwith.jpg": LANDSCAPE,
        "lonely_tree_by_aabhas_lall.jpg": LANDSCAPE,
        "mountain-lake_by_william_beckwith.jpg": LANDSCAPE,
        "pebbles_by_gurjus_bhasin.jpg": LANDSCAPE,
        "pink_bridge_light_by_aabhas_lall.jpg": CITY,
        "sunlight_on_the_pages_of_an_open_book_by_rahul_pandit.jpg": OBJECT,
        "wood_construction_by_stephen.jpg": CITY,
    }),
    "budgie-wallpapers-groovy": ("24.04", BUDGIE, {
        "bicycle_bell-by-joanna-m.jpg": OBJECT,
        "drop-of-water-by-rudy-van-der-veen.jpg": OBJECT,
        "eglise-saint-honorat-by-peter-heeling.jpg": CITY,
        "harmonica-by-joanna-m.jpg": OBJECT,
        "input-section-from-music-equipment-by-carmelo-muscat.jpg": OBJECT,
        "left-behind-cocktail-after-the-night-by-raffael-herrmann.jpg": OBJECT,
        "selfie-hikers-on-cobblestone-hill-by-brodie-vissers.jpg": PEOPLE,
    }),
    "budgie-wallpapers-hirsute": ("24.04", BUDGIE, {
        "bulb_by_jonathan_petersson.jpg": OBJECT,
        "cat_on_back_by_bastian_greshake_tzovaras.jpg": ANIMAL,
        "city_view_binoculars_by_brodie_vissers.jpg": CITY,
        "clear_water_rocks_by_brodie_vissers.jpg": LANDSCAPE,
        "himalayan_salt_on_a_spoon_by_karolina_grabowska.jpg": OBJECT,
        "living_room_brick_wall_by_brodie_vissers.jpg": CITY,
        "sea_coast_by_pasquale_vitiello.jpg": LANDSCAPE,
        "woman_pauses_at_foot_of_waterfall_by_daria_lisovtsova.jpg": PEOPLE,
    }),
    "budgie-wallpapers-impish": ("24.04", BUDGIE, {
        "alley-antique_by_brett_sayles.jpg": CITY,
        "blossom_by_monika_murren.jpg": PLANT,
        "iphone-photography_by_brodie_vissers.jpg": PEOPLE,
        "iso-republic-tiny-floral-bokeh_by_birch_landing_home.jpg": PLANT,
        "sparkle-magic_by_bryant_stiven_salazar_aguirre.jpg": PEOPLE,
    }),
    "budgie-wallpapers-jammy": ("24.04", BUDGIE, {
        "beach_by_sigisagi.jpg": LANDSCAPE,
        "blue_sea_and_clouds_by_marxpresso.jpg": LANDSCAPE,
        "coffee_by_sigisagi.jpg": OBJECT,
        "cut_tree_by_jacob.jpg": PLANT,
        "daisies_by_jacob.jpg": PLANT,
        "fern_by_sigisagi.jpg": PLANT,
        "in_the_woods_by_gregor.jpg": LANDSCAPE,
        "ladybug_by_gregor.jpg": ANIMAL,
        "mills_by_sigisagi.jpg": CITY,
        "spray_flower_by_bakpaul.jpg": PLANT,
        "stones_in_lake_and_blue_mountains_by_sigisagi.jpg": LANDSCAPE,
    }),
    "budgie-wallpapers-kinetic": ("24.04", BUDGIE, {
        "forest_road_by_monika_murren.jpg": LANDSCAPE,
        "outdoor-mineral-pool_by_brodie_vissers.jpg": LANDSCAPE,
        "people-walk-on-bright-beach_by_brodie_vissers.jpg": PEOPLE,
        "sports_5_6_by_matt_moloney.jpg": CITY,
        "tunnel-urban-path_by_mitul_shah.jpg": CITY,
        "water_and_coffee_by_alexey_dulin.jpg": OBJECT,
    }),
    "budgie-wallpapers-lunar": ("24.04", BUDGIE, {
        "beachrock_by_jacob_vlijm.jpg": LANDSCAPE,
        "coconut-on-the-beach_by_jakub_kapusnak.jpg": OBJECT,
        "ladder-to-the-clouds_by_brodie_vissers.jpg": OBJECT,
        "oldshutters_by_jacob_vlijm.jpg": CITY,
        "salt-in-a-glass-container_by_karolina_grabowska.jpg": OBJECT,
        "warrior_door_handle_by_mattias_andersson.jpg": OBJECT,
    }),
    "budgie-wallpapers-mantic": ("24.04", BUDGIE, {
        "antigue_building_marko_tabak.jpg": CITY,
        "coffee_latte_by_matt_hoffman.jpg": OBJECT,
        "light_bulb_by_kari_shea.jpg": OBJECT,
        "old_airplane_by_travis_soule.jpg": OBJECT,
        "origami_by_bruno_glatsch.jpg": OBJECT,
        "wood_wooden_by_alex_klopcic.jpg": OBJECT,
    }),
    "budgie-wallpapers-noble": ("24.04", BUDGIE, {
        "mountain_by_sigi_sagi.jpg": LANDSCAPE,
        "ocean_by_sigi_sagi.jpg": LANDSCAPE,
        "road_by_sigi_sagi.jpg": LANDSCAPE,
    }),
    "edubuntu-wallpapers": ("24.04.26", BACKGROUNDS, {
        "edubuntu-23.04_aaron-burden-1.jpg": OBJECT,
        "edubuntu-23.04_aaron-burden-2.jpg": PEOPLE,
        "edubuntu-23.04_agence-olloweb.jpg": OBJECT,
        "edubuntu-23.04_alexander-grey.jpg": OBJECT,
        "edubuntu-23.04_alexandre-van-thuan.jpg": CITY,
        "edubuntu-23.04_annie-spratt.jpg": OBJECT,
        "edubuntu-23.04_baim-hanif.jpg": PEOPLE,
        "edubuntu-23.04_debby-hudson.jpg": OBJECT,
        "edubuntu-23.04_element5-digital.jpg": OBJECT,
        "edubuntu-23.04_gautam-arora.jpg": OBJECT,
        "edubuntu-23.04_kimberly-farmer.jpg": OBJECT,
        "edubuntu-23.04_markus-spiske.jpg": OBJECT,
        "edubuntu-23.04_nic-rosenau.jpg": OBJECT,
        "edubuntu-23.04_ramakant-sharda.jpg": OBJECT,
        "edubuntu-23.04_robin-worrall.jpg": OBJECT,
        "edubuntu-23.04_ryan-wallace.jpg": OBJECT,
        "edubuntu-23.04_taylor-williams.jpg": OBJECT,
    }),
    "edubuntu-wallpapers-legacy": ("24.04.26", BACKGROUNDS, {
        "edubuntu-horses.jpg": ANIMAL,
        "edubuntu-ladybug.jpg": ANIMAL,
        "edubuntu-mrtau-and-tree-by-tj.jpg": LANDSCAPE,
        "edubuntu-northern-lights.jpg": LANDSCAPE,
    }),
}


def ubuntu_apt(cache: Path) -> PrivateApt:
    """Return the private apt of Ubuntu noble, verified with the keyring of Debian trixie's ubuntu-keyring."""
    keyring_root = cache / "keyring"
    keyring = keyring_root / (f"{UBUNTU_KEYRING_PACKAGE[0]}_{UBUNTU_KEYRING_PACKAGE[1]}_all") / UBUNTU_KEYRING
    if not keyring.exists():
        debian = PrivateApt(cache / "apt" / "debian-trixie", DEBIAN_SOURCE, DEBIAN_KEYRING)
        deb = debian.fetch(*UBUNTU_KEYRING_PACKAGE, keyring_root)
        if deb is None:
            raise SystemExit("error: cannot fetch ubuntu-keyring from Debian trixie to verify Ubuntu's archive")
        if deb_version(deb) != UBUNTU_KEYRING_PACKAGE[1]:
            warn(f"{deb.name} is not ubuntu-keyring {UBUNTU_KEYRING_PACKAGE[1]}")
        keyring = extract(deb, keyring_root) / UBUNTU_KEYRING
    return PrivateApt(cache / "apt" / "ubuntu-noble", UBUNTU_SOURCE, keyring)


def photographer(file_name: str) -> str:
    """Return the name after the last `_by_` / `-by-` of a file name, or ''."""
    found = re.match(r".*[_-]by[_-](.+)$", PurePosixPath(file_name).stem, re.IGNORECASE)
    return re.sub(r"[_-]+", " ", found[1]).strip() if found else ""


def plain(name: str) -> str:
    return " ".join(re.sub(r"[^\w]+|\d+|_", " ", re.sub(r"<[^>]*>|\([^)]*\)", "", name)).casefold().split())


def credit(paragraphs: list[FilesParagraph], inside: str) -> tuple[str, str]:
    """Return (licence, attribution) of a photo from its package's machine-readable copyright file.

    Its Files patterns are source paths: a pattern naming the photo's file name
    wins over one matching its installed path, which wins over `*`; among
    equals the last one, as DEP-5 says. The attribution is the paragraph's one
    copyright holder, else the holder named in the file name (`..._by_Name`),
    else that name, and the first web address of the paragraph's Comment
    when the paragraph is of this one file.
    """
    name = PurePosixPath(inside).name
    ranked: list[tuple[int, int, FilesParagraph]] = []
    for index, paragraph in enumerate(paragraphs):
        patterns = paragraph.files
        if name in (PurePosixPath(pattern).name for pattern in patterns):
            ranked.append((2, index, paragraph))
        elif any(pattern != "*" and (fnmatchcase(inside, pattern) or fnmatchcase(inside, "*/" + pattern))
                 for pattern in patterns):
            ranked.append((1, index, paragraph))
        elif "*" in patterns:
            ranked.append((0, index, paragraph))
    if not ranked:
        return UNKNOWN_LICENCE, ""
    _, _, paragraph = max(ranked, key=lambda item: item[:2])
    licence = licence_name(paragraph) if paragraph.license else "unknown"
    holders = [line.strip() for line in (paragraph.copyright or "").splitlines() if line.strip()]
    author = photographer(name)
    named = [holder for holder in holders if author and plain(holder) and
             (plain(holder) in plain(author) or plain(author) in plain(holder))]
    if len(holders) == 1:
        who = holders[0]
    elif len(named) == 1:
        who = named[0]
    else:
        who = f"{author} (from the file name)" if author else "; ".join(holders)
    address = re.search(r"https?://\S+", paragraph.comment or "") if len(paragraph.files) == 1 else None
    return licence, who + (f", {address[0]}" if address else "")


def album_name(package: str, file_name: str) -> str:
    """Return `<package less -wallpapers>-<file name as lower-case ASCII words>.jpg` (edubuntu- said once)."""
    stem = unicodedata.normalize("NFKD", PurePosixPath(file_name).stem).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-").removeprefix("edubuntu-")
    return f"{package.replace('-wallpapers', '')}-{words}.jpg"


def difference_hashes(path: Path) -> dict[tuple[bool, float], np.ndarray]:
    """Return {(landscape, aspect): [hash, mirrored hash]} of the whole photo (aspect 0) and its centred crops.

    A hash is the 256 bits (packed to 32 bytes) of imagehash's 16x16 difference hash of the grayscale,
    packed so that `distances` compares every pair at once: ImageHash's own `a - b` takes about 4 us a
    pair in Python, some 25 s for the album against its references, where numpy takes under 3 s.
    """
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image.draft("L", (512, 512))
        image = ImageOps.exif_transpose(image).convert("L")
    image.thumbnail((512, 512))

    def bits(picture: Image.Image) -> np.ndarray:
        return np.packbits(imagehash.dhash(picture, hash_size=HASH_SIZE).hash)

    width, height = image.size
    landscape = width >= height
    ratio = max(width, height) / min(width, height)
    hashes = {}
    for aspect in (0.0, *ASPECTS):
        if aspect > ratio * 1.02:
            continue
        crop = image
        if aspect:
            long_side = min(max(width, height), round(min(width, height) * aspect))
            box_width, box_height = (long_side, height) if landscape else (width, long_side)
            left, top = (width - box_width) // 2, (height - box_height) // 2
            crop = image.crop((left, top, left + box_width, top + box_height))
        hashes[(landscape or aspect == 1.0, aspect)] = np.stack([bits(crop), bits(ImageOps.mirror(crop))])
    return hashes


def distances(ours: list[dict], theirs: list[dict]) -> np.ndarray:
    """Return the smallest Hamming distance of each of `ours` to each of `theirs` (mirrored ours too), len x len."""
    result = np.full((len(ours), len(theirs)), 256, dtype=np.uint16)
    for key in {key for hashes in ours for key in hashes}:
        rows = [index for index, hashes in enumerate(ours) if key in hashes]
        columns = [index for index, hashes in enumerate(theirs) if key in hashes]
        if not rows or not columns:
            continue
        mine = np.stack([ours[index][key] for index in rows])                   # n x 2 x 32
        other = np.stack([theirs[index][key][0] for index in columns])          # m x 32
        bits = POPCOUNT[mine[:, None, :, :] ^ other[None, :, None, :]].sum(axis=-1).min(axis=-1)
        block = np.ix_(rows, columns)
        result[block] = np.minimum(result[block], bits)
    return result


def reference_photos(folders: list[Path], output: Path) -> list[tuple[str, Path]]:
    """Return (folder as given, photo) for every image under the reference folders (a warning for a missing one)."""
    photos = []
    for folder in folders:
        root = folder.expanduser().resolve()
        if not root.is_dir():
            warn(f"reference folder {folder} is missing; not checked for near-duplicates")
            continue
        if root == output:
            continue
        photos += [(str(folder), path) for path in sorted(root.rglob("*"))
                   if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()]
    return photos


def pair_sheet(pairs: list[tuple[Path, Path, str]], target: Path) -> None:
    """Save a contact sheet: each pair of photos side by side (120 px thumbnails) with its caption below."""
    from PIL import Image, ImageDraw

    cell_width, cell_height, columns = 260, 140, 3
    rows = max(1, (len(pairs) + columns - 1) // columns)
    sheet = Image.new("RGB", (columns * cell_width, rows * cell_height), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (left, right, caption) in enumerate(pairs):
        x, y = index % columns * cell_width, index // columns * cell_height
        for offset, path in ((0, left), (125, right)):
            with Image.open(path) as image:
                image = image.convert("RGB")
                image.thumbnail((120, 110))
                sheet.paste(image, (x + 5 + offset, y + 4))
        draw.text((x + 5, y + 118), caption[:42], fill="black")
    sheet.save(target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "colorize-ubuntu-wallpapers",
                        help="where the apt configurations and .deb files are kept and unpacked (default: %(default)s)")
    parser.add_argument("--output", type=Path, help="the album folder (default: CACHE/album)")
    parser.add_argument("--reference", type=Path, action="append",
                        help="a folder of photos the album must not repeat (may be given again; default: "
                             + ", ".join(str(folder) for folder in REFERENCES) + ")")
    args = parser.parse_args()
    cache = args.cache.expanduser().resolve()
    output = (args.output or cache / "album").expanduser().resolve()
    output.mkdir(parents=True, exist_ok=True)
    names = {album_name(package, file): (package, file) for package, (_, _, files) in CHOSEN.items() for file in files}
    assert len(names) == sum(len(files) for _, _, files in CHOSEN.values()), "two photos get one album name"
    for name in names:                          # photos of an earlier run, dropped or missing now
        (output / name).unlink(missing_ok=True)

    apt: PrivateApt | None = None
    rows, sizes = [], []
    for package, (version, folder, files) in CHOSEN.items():
        apt = apt or ubuntu_apt(cache)
        unpacked = unpack_package(package, version, list(files), cache, apt.fetch)
        if unpacked is None:
            continue
        root, got, paragraphs = unpacked
        for file, subject in files.items():
            source = root / folder / file
            if not source.is_file():
                warn(f"{package} {got} has no {folder + file}; skipped")
                continue
            from PIL import Image

            with Image.open(source) as image:
                sizes.append(image.size)
            name = album_name(package, file)
            save_photo(source, output / name)
            licence, attribution = credit(paragraphs, folder + file)
            rows.append({"file": name, "source_package": package, "source_version": got,
                         "original_path": folder + file, "license": licence, "attribution": attribution,
                         "subject": subject})

    rows, dropped = drop_near_duplicates(rows, sizes, output, [*map(Path, args.reference or REFERENCES)], cache)
    write_manifest(output, rows, [*MANIFEST_FIELDS, "subject"])
    print(f"{len(rows)} photos in {output} ({dropped} near-duplicates dropped)")
    for line in licence_counts(rows):
        print(line)
    print("by licence: " + ", ".join(f"{licence} ({count})" for licence, count in
                                     Counter(row["license"] for row in rows).most_common()))
    print("by subject: " + ", ".join(f"{subject} ({count})" for subject, count in
                                     Counter(row["subject"] for row in rows).most_common()))
    return 0 if rows else 1


def drop_near_duplicates(rows: list[dict[str, str]], sizes: list[tuple[int, int]], output: Path,
                         references: list[Path], cache: Path) -> tuple[list[dict[str, str]], int]:
    """Delete the album's near-duplicates of a reference photo or of a photo kept before it; return the rest.

    Print how many were dropped against which folder, and save CACHE/near-duplicates.png: the dropped pairs, then
    the closest pairs kept.
    """
    ours = [difference_hashes(output / row["file"]) for row in rows]
    others = reference_photos(references, output)
    theirs = [difference_hashes(path) for _, path in others]
    to_reference = distances(ours, theirs) if theirs else np.full((len(rows), 0), 256, dtype=np.uint16)
    to_album = distances(ours, ours)
    reasons: dict[int, tuple[Path, int, str]] = {}              # dropped row: (its twin, bits apart, where)
    closest: list[tuple[int, Path, Path, str]] = []            # (bits, ours, theirs, where) of the pairs kept
    for index in range(len(rows)):
        if to_reference.shape[1]:
            nearest = int(to_reference[index].argmin())
            bits = int(to_reference[index, nearest])
            where, twin = others[nearest]
            if bits <= NEAR_BITS:
                reasons[index] = (twin, bits, where)
                continue
            closest.append((bits, output / rows[index]["file"], twin, where))
        earlier = [other for other in range(index) if other not in reasons]
        if earlier:
            bits_apart = to_album[index, earlier].astype(int)
            limits = np.array([SAME_SIZE_BITS if sizes[other] == sizes[index] else NEAR_BITS for other in earlier])
            hits = np.flatnonzero(bits_apart <= limits)
            twin_index = earlier[int(hits[0] if len(hits) else bits_apart.argmin())]
            pair = (int(to_album[index, twin_index]), output / rows[twin_index]["file"])
            if len(hits):
                reasons[index] = (pair[1], pair[0], "this album")
                continue
            closest.append((pair[0], output / rows[index]["file"], pair[1], "this album"))
    counts = Counter(where for _, _, where in reasons.values())
    for folder in [*map(str, references), "this album"]:
        print(f"near-duplicates of {folder}: {counts.get(folder, 0)}")
    for index, (twin, bits, where) in reasons.items():
        print(f"  dropped {rows[index]['file']} ({rows[index]['original_path']}): {bits} bits from "
              f"{twin.name} in {where}")
    closest.sort(key=lambda pair: pair[0])
    for bits, mine, twin, where in closest[:3]:
        print(f"  closest kept: {mine.name}, {bits} bits from {twin.name} in {where}")
    pair_sheet([(output / rows[index]["file"], twin, f"dropped, {bits} bits: {twin.name}")
                for index, (twin, bits, _) in reasons.items()]
               + [(mine, twin, f"kept, {bits} bits: {twin.name}") for bits, mine, twin, _ in closest[:6]],
               cache / "near-duplicates.png")
    for index in reasons:
        (output / rows[index]["file"]).unlink()
    return [row for index, row in enumerate(rows) if index not in reasons], len(reasons)


if __name__ == "__main__":
    sys.exit(main())
