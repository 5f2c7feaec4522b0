"""Training the hint model's branch beside training the pretrained preset: images/s at 128 px (issue 26).

Side by side in one run, in turns (the machine is shared and noisy, so read the ratio):
- pretrained: the shipped model's logits view compiled as `train --model default`
  compiles it (compile_for_training: rebalanced class loss, EMA), the encoder frozen;
- hint branch: a hint model grown from the shipped model (models/hint_model.py), only
  its branch training, as tools/models/train_hint_model.py trains it.
Both get the same in-memory random batches of 16 crops at 128 px (the loader
excluded; the hint model also gets ten 3x3 hint patches per crop), one warm-up
step each, then --steps steps a round, best round of --rounds.

    python benchmarks/bench_hint_training.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_times, machine_line  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    print(machine_line())
    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    from colorize.models import ab_classes
    from colorize.models.hint_model import grow_hint_model
    from colorize.models.model import compile_for_training
    from colorize.models.modelfile import load_model_file, resolve_model_path
    from colorize.models.presets import preset_settings

    settings = preset_settings("pretrained")
    shipped = load_model_file(resolve_model_path("default"))
    head = ab_classes.class_head_settings(shipped)
    classes = ab_classes.AbClasses(head["centres"], np.full(head["classes"], 1.0 / head["classes"], np.float32))
    pretrained = compile_for_training(ab_classes.logits_view(shipped), settings["learning_rate"], classes=classes,
                                      rebalance=settings["rebalance"], ema_momentum=settings["ema_momentum"])
    branch = ab_classes.logits_view(grow_hint_model(load_model_file(resolve_model_path("default"))))
    weights = np.ones(head["classes"], np.float32)
    branch.compile(optimizer="adam", loss=ab_classes.AbClassLoss(head["centres"], weights, head["head_stride"]))

    generator = np.random.default_rng(0)
    size, batch = args.size, args.batch
    lightness = generator.uniform(-1, 1, (batch, size, size, 1)).astype(np.float32)
    ab = generator.uniform(-0.5, 0.5, (batch, size, size, 2)).astype(np.float32)
    mask = np.zeros((batch, size, size, 1), np.float32)
    for index in range(batch):
        for top, left in generator.integers(0, size - 3, (10, 2)):
            mask[index, top:top + 3, left:left + 3] = 1.0
    planes = np.where(mask > 0, ab, 0.0).astype(np.float32)
    inputs = {"pretrained": lightness, "hint branch": [lightness, planes, mask]}
    models = {"pretrained": pretrained, "hint branch": branch}
    for name, model in models.items():   # warm-up: traces the step
        model.train_on_batch(inputs[name], ab)

    def steps(name):
        return lambda: [models[name].train_on_batch(inputs[name], ab) for _ in range(args.steps)]

    best, _ = best_times({name: steps(name) for name in models}, args.rounds)
    rates = {name: args.steps * batch / seconds for name, seconds in best.items()}
    for name, rate in rates.items():
        print(f"{name:12s} {rate:6.1f} images/s at {size} px ({rate / rates['pretrained']:.2f}x)")


if __name__ == "__main__":
    main()
