"""Loader throughput against the tutorial way, and training fed by the loader vs from memory.

1. images/s of `loader.make_dataset` (training mode: decode, random scale/crop,
   flip, Lab) against a plain Python generator that reads each file with
   skimage.io.imread, crops the same size, flips and converts with skimage's
   rgb2lab, one image after another. Same files, same crop size, one run each.
2. images/s of `fit` on the cpu preset fed by the loader, against `fit` fed by
   the same number of batches already in memory (the upper bound).

    python benchmarks/bench_loader.py [--images 300] [--size 128] [--batch 16] [--steps 30]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def tutorial_generator(paths, size: int, seed: int):
    """Yield (L, ab) one image at a time, the usual tutorial way (skimage, no parallelism)."""
    from skimage import color as skcolor, io, transform

    rng = np.random.default_rng(seed)
    for path in paths:
        rgb = io.imread(path)[..., :3].astype(np.float32) / 255.0
        short = min(rgb.shape[:2])
        if short < size:
            scale = size / short
            rgb = transform.resize(rgb, (round(rgb.shape[0] * scale), round(rgb.shape[1] * scale)))
        top = rng.integers(0, rgb.shape[0] - size + 1)
        left = rng.integers(0, rgb.shape[1] - size + 1)
        crop = rgb[top:top + size, left:left + size]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        lab = skcolor.rgb2lab(crop)
        yield lab[..., :1] / 50.0 - 1.0, lab[..., 1:] / 110.0


def images_per_second(batches, count_images) -> float:
    """Return images/s of consuming an iterable of batches (or single images)."""
    started = time.perf_counter()
    images = sum(count_images(item) for item in batches)
    return images / (time.perf_counter() - started)


def loader_figures(files, args) -> tuple[float, float]:
    """Return (loader images/s, tutorial generator images/s) over the same files."""
    from colorize import loader

    warm = loader.make_dataset(files[:args.batch], args.size, args.batch, training=True, seed=0)
    for _ in warm:  # traces the tf.data functions once, as any real run does before its first epoch
        pass
    stream = loader.make_dataset(files, args.size, args.batch, training=True, seed=args.seed)
    loader_speed = images_per_second(stream, lambda pair: int(pair[0].shape[0]))
    paths = [entry.source for entry in files]
    tutorial_speed = images_per_second(tutorial_generator(paths, args.size, args.seed), lambda pair: 1)
    return loader_speed, tutorial_speed


def training_figures(files, args) -> tuple[float, float]:
    """Return (fit images/s fed by the loader, fit images/s fed from memory), cpu preset."""
    import keras
    import tensorflow as tf

    from colorize import loader, model

    stream = loader.make_dataset(files, args.size, args.batch, training=True, seed=args.seed, repeat=True)
    in_memory = list(stream.take(args.steps))
    memory_stream = tf.data.Dataset.from_tensor_slices((
        tf.concat([pair[0] for pair in in_memory], 0), tf.concat([pair[1] for pair in in_memory], 0),
    )).batch(args.batch).repeat()
    speeds = {}
    for label, source in (("loader", stream), ("memory", memory_stream)):
        keras.utils.set_random_seed(args.seed)
        net = model.compile_for_training(model.build_unet("cpu"))
        net.fit(source, steps_per_epoch=3, epochs=1, verbose=0)   # trace and warm up
        started = time.perf_counter()
        net.fit(source, steps_per_epoch=args.steps, epochs=1, verbose=0)
        speeds[label] = args.steps * args.batch / (time.perf_counter() - started)
    return speeds["loader"], speeds["memory"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from colorize import dataset

    files = dataset.scan_dataset(dataset.resolve_dataset_path("default")).ok[:args.images]
    loader_speed, tutorial_speed = loader_figures(files, args)
    print(f"{len(files)} photos of data/default, {args.size} px crops, batch {args.batch}")
    print(f"loader.make_dataset        {loader_speed:8.1f} images/s")
    print(f"skimage generator          {tutorial_speed:8.1f} images/s")
    print(f"ratio                      {loader_speed / tutorial_speed:8.1f} x")
    fed, memory = training_figures(files, args)
    print(f"fit fed by the loader      {fed:8.1f} images/s (cpu preset, {args.steps} steps)")
    print(f"fit fed from memory        {memory:8.1f} images/s")
    print(f"loader-fed / memory-fed    {fed / memory:8.3f}")


if __name__ == "__main__":
    main()
