"""A decoding tried and not kept: the annealed mean taken within the most probable hue, not across all.

The class head's annealed mean averages every bin, so a pixel that is 50% leaf
green and 50% sky blue gets teal, right for neither. This writes a copy of a
class-head model that first picks the hue sector (24 of 15 degrees, each
counting the chromatic bins within 45 degrees of it) holding the most
probability, then decodes with the bins outside it pushed down by e^-BETA
(gray bins stay in), all with stock layers as the shipped decoding is. Score
it beside the original:

    python tools/models/hue_mode_decoding.py data/models/default.keras /tmp/hue-mode.keras
    python tools/models/compare_models.py --split validation --outside ~/.cache/colorize-outside-album/album \\
        mean=data/models/default.keras hue-mode=/tmp/hue-mode.keras

What it measured is in data/models/README.md ("What did not add"): more
colour and a little more green, the same hue recall, 0.3-0.4 dB less PSNR.
The misses are beliefs, not averaging.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SECTORS = 24
SECTOR_HALF_WIDTH = 45.0       # degrees of hue a sector counts on either side of its centre
MIN_CHROMA = 10.0              # bins nearer gray than this belong to every sector
SELECTION_TEMPERATURE = 0.05   # softmax over sector masses: near one-hot, still smooth


def hue_mode_model(model, beta: float):
    """Return an inference model sharing `model`'s layers that decodes at its most probable hue."""
    import keras

    from colorize.models import ab_classes
    from colorize.constants import AB_SCALE

    settings = ab_classes.class_head_settings(model)
    centres = settings["centres"]
    chroma = np.hypot(centres[:, 0], centres[:, 1])
    hue = np.degrees(np.arctan2(centres[:, 1], centres[:, 0])) % 360
    offset = np.abs(hue[:, None] - np.arange(SECTORS) * 360 / SECTORS) % 360
    in_sector = (np.minimum(offset, 360 - offset) <= SECTOR_HALF_WIDTH) & (chroma >= MIN_CHROMA)[:, None]
    allowed = in_sector.astype(np.float32)
    allowed[chroma < MIN_CHROMA] = 1.0

    logits = model.get_layer(ab_classes.LOGITS_LAYER).output
    scaled = keras.layers.Rescaling(1.0 / settings["temperature"], name="hue_mode_temperature")(logits)
    sector_mass = keras.layers.Conv2D(SECTORS, 1, use_bias=False, trainable=False, name="hue_mode_sector_mass")
    probabilities = keras.layers.Softmax(name="hue_mode_probabilities")(scaled)
    sharpened = keras.layers.Rescaling(1.0 / SELECTION_TEMPERATURE, name="hue_mode_sharpen")(sector_mass(probabilities))
    chosen = keras.layers.Softmax(name="hue_mode_chosen_sector")(sharpened)
    penalty = keras.layers.Conv2D(len(centres), 1, trainable=False, name="hue_mode_penalty")
    expectation = keras.layers.Conv2D(2, 1, use_bias=False, trainable=False, name="hue_mode_expectation")
    within_mode = keras.layers.Add(name="hue_mode_gate")([scaled, penalty(chosen)])
    ab = expectation(keras.layers.Softmax(name="hue_mode_gated_probabilities")(within_mode))
    sector_mass.set_weights([in_sector.astype(np.float32).reshape(1, 1, -1, SECTORS)])
    penalty.set_weights([(beta * allowed.T).reshape(1, 1, SECTORS, -1), np.full(len(centres), -beta, np.float32)])
    expectation.set_weights([(centres / AB_SCALE).reshape(1, 1, -1, 2).astype(np.float32)])
    ab = keras.layers.UpSampling2D(settings["head_stride"], interpolation="nearest", name="hue_mode_ab")(ab)
    return keras.Model(model.inputs, ab, name=f"{model.name}_hue_mode")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a class-head model (.keras)")
    parser.add_argument("target", type=Path, help="where to write the hue-mode copy")
    parser.add_argument("--beta", type=float, default=4.0, help="how far bins outside the chosen hue are pushed down")
    args = parser.parse_args()
    from colorize.models.modelfile import load_model_file

    hue_mode_model(load_model_file(args.source), args.beta).save(args.target)
    print(f"Wrote {args.target}")


if __name__ == "__main__":
    main()
