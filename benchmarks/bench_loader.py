"""Loader throughput against the Keras way, and training fed by the loader vs from memory.

1. images/s of `loader.make_dataset` (training mode: decode, random scale/crop,
   flip, Lab) against what a Keras user writes: keras.utils.
   image_dataset_from_directory (decode and resize in parallel, centre crop to
   the square, batches) with a map that flips and converts to Lab (the same
   TensorFlow Lab conversion, colorize.dataset.color.tf_rgb_to_model_pair). Same photos,
   same crop size and batch; the two take turns for --rounds full passes and
   each one's best pass counts, so load on a shared machine hits both alike.
   Also the process's CPU time per image (least over the passes), which load
   elsewhere disturbs less than wall time (that swings +-25% on 2 busy cores).
   A third row runs the Keras way with its Lab map compiled by XLA, to show
   what the loader's fused 8-bit Lab map is worth apart from its decode.
2. images/s of `fit` on the cpu preset fed by the loader, against `fit` fed by
   the same number of batches already in memory (the upper bound); skipped
   with --fit-steps 0.

    python benchmarks/bench_loader.py [--images 300] [--size 128] [--batch 16] [--rounds 3] [--fit-steps 30]
                                      [--data FOLDER]

--data reads the first --images photos of another folder (default: data/default), e.g. the
big set of tools/albums/synthetic_photos.py (640x480 JPEGs).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import machine_line


def keras_directory_pipeline(folder: Path, size: int, batch: int, seed: int, xla: bool = False):
    """Return the Keras way: image_dataset_from_directory, then a map to (L, ab) with a random flip.

    xla=True compiles that map with XLA (jit_compile), as the loader's 8-bit Lab map is.
    """
    import keras
    import tensorflow as tf

    from colorize.dataset import color

    images = keras.utils.image_dataset_from_directory(folder, labels=None, image_size=(size, size),
                                                      batch_size=batch, crop_to_aspect_ratio=True,
                                                      shuffle=True, seed=seed, verbose=False)
    model_pair = tf.function(color.tf_rgb_to_model_pair, jit_compile=True) if xla else color.tf_rgb_to_model_pair

    def to_model_pair(rgb):
        return model_pair(tf.image.random_flip_left_right(rgb / 255.0, seed=seed))

    return images.map(to_model_pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def count_images(batches) -> int:
    """Consume a dataset of (L, ab) batches; return how many images it gave."""
    return sum(int(lightness.shape[0]) for lightness, _ in batches)


def timed_passes(pipelines: dict, rounds: int) -> dict[str, tuple[float, float]]:
    """Read whole passes of the pipelines in turns; return each one's (best images/s, least CPU ms per image)."""
    best = {name: (0.0, float("inf")) for name in pipelines}
    for _ in range(rounds):
        for name, pipeline in pipelines.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            images = count_images(pipeline)
            speed = images / (time.perf_counter() - started)
            cpu_ms = (time.process_time() - cpu_started) / images * 1000
            best[name] = (max(best[name][0], speed), min(best[name][1], cpu_ms))
    return best


def loader_figures(files, args) -> dict[str, tuple[float, float]]:
    """Return {pipeline: (best images/s, least CPU ms per image)} over the same files, --rounds passes each."""
    from colorize.dataset import loader

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for entry in files:
            os.symlink(Path(entry.source).resolve(), folder / Path(entry.source).name)
        pipelines = {
            "loader": loader.make_dataset(files, args.size, args.batch, training=True, seed=args.seed),
            "keras": keras_directory_pipeline(folder, args.size, args.batch, args.seed),
            "keras_xla": keras_directory_pipeline(folder, args.size, args.batch, args.seed, xla=True),
        }
        for pipeline in pipelines.values():   # trace (and compile) the tf.data functions once, as a real run does
            assert count_images(pipeline) == len(files)
        return timed_passes(pipelines, args.rounds)


def training_figures(files, args) -> tuple[float, float]:
    """Return (fit images/s fed by the loader, fit images/s fed from memory), cpu preset."""
    import keras
    import tensorflow as tf

    from colorize.dataset import loader
    from colorize.models import model

    stream = loader.make_dataset(files, args.size, args.batch, training=True, seed=args.seed, repeat=True)
    in_memory = list(stream.take(args.fit_steps))
    memory_stream = tf.data.Dataset.from_tensor_slices((
        tf.concat([pair[0] for pair in in_memory], 0), tf.concat([pair[1] for pair in in_memory], 0),
    )).batch(args.batch).repeat()
    speeds = {}
    for label, source in (("loader", stream), ("memory", memory_stream)):
        keras.utils.set_random_seed(args.seed)
        net = model.compile_for_training(model.build_unet("cpu"))
        net.fit(source, steps_per_epoch=3, epochs=1, verbose=0)   # trace and warm up
        started = time.perf_counter()
        net.fit(source, steps_per_epoch=args.fit_steps, epochs=1, verbose=0)
        speeds[label] = args.fit_steps * args.batch / (time.perf_counter() - started)
    return speeds["loader"], speeds["memory"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fit-steps", type=int, default=30, help="0 skips the fit comparison")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", default="default", help="folder of photos (default: data/default)")
    args = parser.parse_args()

    from colorize import dataset
    from colorize.training.devices import load_tensorflow

    load_tensorflow()
    files = dataset.scan_dataset(dataset.resolve_dataset_path(args.data)).ok[:args.images]
    figures = loader_figures(files, args)
    print(f"{len(files)} photos of {args.data}, {args.size} px crops, batch {args.batch}, "
          f"best of {args.rounds} passes; {machine_line()}")
    labels = {"loader": "loader.make_dataset", "keras": "image_dataset_from_directory + Lab map",
              "keras_xla": "  the same, Lab map compiled by XLA"}
    for name, label in labels.items():
        speed, cpu_ms = figures[name]
        print(f"{label:40s} {speed:8.1f} images/s  {cpu_ms:6.2f} CPU ms/image")
    for name, label in (("keras", "Keras way"), ("keras_xla", "Keras way, XLA Lab map")):
        print(f"loader / {label:31s} {figures['loader'][0] / figures[name][0]:8.2f} x images/s  "
              f"(its CPU per image / the loader's: {figures[name][1] / figures['loader'][1]:.2f})")
    if args.fit_steps:
        fed, memory = training_figures(files, args)
        print(f"fit fed by the loader      {fed:8.1f} images/s (cpu preset, {args.fit_steps} steps)")
        print(f"fit fed from memory        {memory:8.1f} images/s")
        print(f"loader-fed / memory-fed    {fed / memory:8.3f}")


if __name__ == "__main__":
    main()
