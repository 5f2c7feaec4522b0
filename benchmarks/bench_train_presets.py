"""Training speed of each model preset, its FLOPs per image, and how close it gets to the machine's roofline.

For every preset, at its default image size: training images/s of `fit` on
random in-memory batches (loader cost excluded), the conv FLOPs per image
counted analytically from the layer shapes (2 FLOPs per multiply-add, x3 for
forward + backward), and the achieved FLOP/s as a fraction of a float32
2048x2048 numpy matmul measured in the same run (the practical peak on a CPU).
On a CPU the batch is capped (--max-batch) so the big presets finish in minutes.

    python benchmarks/bench_train_presets.py [--presets tiny,cpu,gpu,large] [--steps 4] [--max-batch 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _common import fit_images_per_second


def matmul_flops_per_second(side: int = 2048, repeats: int = 5) -> float:
    """Return the best FLOP/s of a float32 side x side numpy matmul."""
    rng = np.random.default_rng(0)
    left, right = rng.random((side, side), np.float32), rng.random((side, side), np.float32)
    left @ right
    best = min(_timed(lambda: left @ right) for _ in range(repeats))
    return 2.0 * side**3 / best


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def conv_macs_per_image(net, size: int) -> int:
    """Return the multiply-adds of every Conv2D in `net` for one size x size image."""
    import keras

    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    probe = keras.Model(net.inputs, [layer.output for layer in convs])
    output_specs = probe.compute_output_spec(keras.KerasTensor((1, size, size, 1)))
    macs = 0
    for layer, spec in zip(convs, output_specs):
        kernel_height, kernel_width = layer.kernel_size
        macs += spec.shape[1] * spec.shape[2] * kernel_height * kernel_width * layer.input.shape[-1] * layer.filters
    return macs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="tiny,cpu,gpu,large")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--max-batch", type=int, default=8, help="batch cap when no GPU is present")
    args = parser.parse_args()

    import tensorflow as tf

    from colorize.models import model
    from colorize.models.presets import PRESETS

    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    roofline = matmul_flops_per_second()
    print(f"numpy float32 2048x2048 matmul: {roofline / 1e9:.1f} GFLOP/s ({'GPU present' if on_gpu else 'CPU only'}); "
          "the fractions use the best of this and a second matmul measured at the end")
    print(f"{'preset':7s} {'size':>5s} {'batch':>5s} {'params':>8s} {'GFLOP/img':>10s} {'images/s':>9s} "
          f"{'GFLOP/s':>8s} {'of matmul':>9s}")
    rows = []
    for preset in args.presets.split(","):
        settings = PRESETS[preset]   # the U-Net presets (`pretrained` needs the photos' ab classes)
        size = settings["image_size"]
        batch = settings["batch_size"] if on_gpu else min(settings["batch_size"], args.max_batch)
        net = model.compile_for_training(model.build_unet(preset), settings["learning_rate"])
        flops_per_image = 3 * 2 * conv_macs_per_image(net, size)
        speed = fit_images_per_second(net, size, batch, args.steps)
        rows.append((preset, size, batch, net.count_params(), flops_per_image, speed))
    # The machine is shared: a matmul timed once can land in a busy moment, so take the best of two.
    roofline = max(roofline, matmul_flops_per_second())
    for preset, size, batch, parameters, flops_per_image, speed in rows:
        achieved = speed * flops_per_image
        print(f"{preset:7s} {size:5d} {batch:5d} {parameters / 1e6:7.2f}M {flops_per_image / 1e9:10.2f} "
              f"{speed:9.1f} {achieved / 1e9:8.1f} {achieved / roofline:9.1%}")
    print(f"matmul roofline used: {roofline / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
