"""Grow a hint model (colorize/models/hint_model.py) from a trained class-head model and train its hint branch.

Simulated hints as Zhang et al. 2017 train theirs: per crop a geometric number
of points (p = 1/8, at least one: with none the branch is gated off and has
nothing to learn), each a square patch of 1 to 4 px (a point's 1% patch at the
256 px working size is 2-3 px) holding the mean true ab of that patch. Crops
come from the product's loader at the working scale; only the branch trains
(the base is frozen, so colour without hints stays the base's exactly). Loss:
the class head's cross-entropy rebalanced as the preset's (the training photos'
prior on the base's bins): without it the branch learnt to undo the base's
rebalancing wherever a hint opened its gate (held-out hue recall 66.8% with no
hints, 62.1% with the branch alone at 10 points, a 30-minute run).

    python tools/models/train_hint_model.py --minutes 20 --output /tmp/hint.keras
    python tools/models/train_hint_model.py --steps 2 --image-size 64 --output /tmp/h.keras   # a smoke run

Trains on the training part of data/default's split (--test-size 42 --seed 42),
so the held-out photos stay unseen; prints images/s.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from colorize.training.devices import load_tensorflow

POINT_PROBABILITY = 1 / 8      # Zhang 2017: the number of points is geometric with p = 1/8
PATCH_SIDES = (1, 2, 3, 4)


def simulated_hint_planes(ab_batch: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (hint ab planes, mask) for a batch of true ab / AB_SCALE (B, H, W, 2)."""
    generator = np.random.default_rng(seed)
    batch, height, width, _ = ab_batch.shape
    planes = np.zeros_like(ab_batch, dtype=np.float32)
    mask = np.zeros((batch, height, width, 1), np.float32)
    for index in range(batch):
        for _ in range(int(generator.geometric(POINT_PROBABILITY))):
            side = int(generator.choice(PATCH_SIDES))
            top, left = int(generator.integers(0, height - side + 1)), int(generator.integers(0, width - side + 1))
            patch = (index, slice(top, top + side), slice(left, left + side))
            planes[patch] = ab_batch[patch].reshape(-1, 2).mean(axis=0)
            mask[patch] = 1.0
    return planes, mask


def hinted_batches(files, image_size: int, batch_size: int, seed: int):
    """Return the loader's (L, ab) batches as ((L, hint ab, mask), ab)."""
    import tensorflow as tf

    from colorize.dataset.loader import make_dataset

    batches = make_dataset(files, image_size, batch_size, training=True, seed=seed, repeat=True)

    def add_hints(number, lightness, ab):
        planes, mask = tf.numpy_function(lambda values, step: simulated_hint_planes(values, seed + int(step)),
                                         [ab, number], (tf.float32, tf.float32), stateful=False)
        planes.set_shape(ab.shape)
        mask.set_shape(ab.shape[:-1].concatenate([1]))
        return (lightness, planes, mask), ab

    return batches.enumerate().map(lambda number, pair: add_hints(number, *pair),
                                   num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="default", help="the class-head model to grow from")
    parser.add_argument("--data", default="default")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--minutes", type=float, default=20.0, help="train this long (wall clock)")
    parser.add_argument("--steps", type=int, default=0, help="or this many steps (overrides --minutes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rebalance", type=float, help="Zhang's lambda (default: the pretrained preset's)")
    args = parser.parse_args()
    load_tensorflow()
    import keras

    from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset
    from colorize.models import ab_classes
    from colorize.models.hint_model import grow_hint_model
    from colorize.models.modelfile import load_model_file, resolve_model_path

    base = load_model_file(resolve_model_path(args.base))
    model = grow_hint_model(base)
    from colorize.models.presets import preset_settings
    from colorize.training.train import _training_photo_classes

    settings = ab_classes.class_head_settings(base)
    split = split_dataset(list(scan_dataset(resolve_dataset_path(args.data)).ok), None, 42, 42)
    files = split.train
    classes = _training_photo_classes(split, print, centres=settings["centres"])
    rebalance = preset_settings("pretrained")["rebalance"] if args.rebalance is None else args.rebalance
    weights = ab_classes.rebalancing_weights(classes.prior, rebalance)
    trainee = ab_classes.logits_view(model)
    loss = ab_classes.AbClassLoss(settings["centres"], weights, settings["head_stride"])
    trainee.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss=loss)
    batches = iter(hinted_batches(files, args.image_size, args.batch_size, args.seed))
    print(f"{len(files)} training photos; branch weights {sum(int(np.prod(w.shape)) for w in trainee.trainable_weights)}")
    started, step, losses = time.perf_counter(), 0, []
    while (step < args.steps) if args.steps else (time.perf_counter() - started < 60 * args.minutes):
        inputs, truth = next(batches)
        losses.append(float(trainee.train_on_batch(inputs, truth)))
        step += 1
        if step % 50 == 0 or step == args.steps:
            took = time.perf_counter() - started
            print(f"step {step}: loss {np.mean(losses[-50:]):.4f}, {step * args.batch_size / took:.1f} images/s",
                  flush=True)
    took = time.perf_counter() - started
    print(f"{step} steps, {step * args.batch_size} crops of {args.image_size} px in {took:.0f} s: "
          f"{step * args.batch_size / took:.2f} images/s")
    model.save(args.output)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
