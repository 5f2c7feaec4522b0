"""Classification over ab bins (Zhang et al. 2016) against the shipped L1 regression.

The question: does a 204-bin softmax head with class rebalancing (lambda 0.5)
and annealed-mean decoding fix the shipped model's beige foliage? Same cpu
U-Net body, same crops (30 epochs of 40 batches of 16 at 128 px, seed 42),
soft-encoded targets (Gaussian, sigma 5 ab units), the bins the training
photos occupy. The decoded model is a plain ab model (built-in layers:
Rescaling 1/T, Softmax, a fixed 1x1 conv holding the bin centres), scored by
evaluate_files on the validation split for several temperatures T.

    python benchmarks/bench_classification_head.py            # ~14 min on 2 cores
    python benchmarks/bench_classification_head.py --epochs 2 --steps 3   # a smoke run
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np

from colorize.dataset import color
from colorize.constants import AB_SCALE
from colorize.dataset import load_rgb, resolve_dataset_path, scan_dataset, split_dataset
from colorize.training.devices import load_tensorflow

BIN, SIGMA = 10.0, 5.0


def ab_bins_and_prior(files, rebalance_mix: float):
    """Return (centres (Q, 2) in Lab units, per-bin rebalancing weights) of the occupied 10-wide bins."""
    from skimage.filters import gaussian

    edges = np.arange(-AB_SCALE, AB_SCALE + 1, BIN)
    count = len(edges) - 1
    histogram = np.zeros((count, count))
    for entry in files:
        ab = color.rgb_to_lab(load_rgb(entry)[::2, ::2])[..., 1:].reshape(-1, 2)
        index = np.clip(((ab + AB_SCALE) // BIN).astype(int), 0, count - 1)
        np.add.at(histogram, (index[:, 0], index[:, 1]), 1)
    occupied = histogram > 0
    prior = gaussian(histogram / histogram.sum(), sigma=SIGMA / BIN)[occupied]
    prior /= prior.sum()
    centre_a, centre_b = np.meshgrid(edges[:-1] + BIN / 2, edges[:-1] + BIN / 2, indexing="ij")
    centres = np.stack([centre_a[occupied], centre_b[occupied]], axis=-1).astype(np.float32)
    weights = 1.0 / ((1 - rebalance_mix) * prior + rebalance_mix / len(centres))
    return centres, (weights / (prior * weights).sum()).astype(np.float32)


def soft_encoded_cross_entropy(centres: np.ndarray, weights: np.ndarray):
    """Return a Keras loss: (ab / AB_SCALE, logits over the bins) -> rebalanced cross-entropy per pixel."""
    tf = load_tensorflow()
    bin_centres, bin_weights = tf.constant(centres), tf.constant(weights)

    def loss(y_true, logits):
        ab = tf.cast(y_true, tf.float32) * AB_SCALE
        squared_distance = (tf.reduce_sum(ab * ab, -1, keepdims=True)
                            - 2.0 * tf.tensordot(ab, tf.transpose(bin_centres), 1)
                            + tf.reduce_sum(bin_centres * bin_centres, -1))
        target = tf.nn.softmax(-squared_distance / (2 * SIGMA ** 2), axis=-1)
        pixel_weight = tf.gather(bin_weights, tf.argmin(squared_distance, axis=-1))
        return -tf.reduce_sum(target * tf.nn.log_softmax(logits, axis=-1), axis=-1) * pixel_weight
    return loss


def annealed_mean_model(logits_model, centres: np.ndarray, temperature: float):
    """Return a plain ab model: softmax(logits / T) times the bin centres, all built-in layers."""
    import keras

    scaled = keras.layers.Rescaling(1.0 / temperature, name="annealing")(logits_model.output)
    probabilities = keras.layers.Softmax(name="ab_probabilities")(scaled)
    head = keras.layers.Conv2D(2, 1, use_bias=False, name="ab", dtype="float32")
    ab = head(probabilities)
    head.set_weights([(centres / AB_SCALE).reshape(1, 1, -1, 2)])
    return keras.Model(logits_model.input, ab, name="colorize_classifier")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rebalance-mix", type=float, default=0.5, help="Zhang's lambda (1 = no rebalancing)")
    parser.add_argument("--temperatures", default="0.2,0.38,0.7,1.0")
    args = parser.parse_args()

    load_tensorflow()
    import keras

    from colorize.evaluation.evaluate import evaluate_files
    from colorize.dataset.loader import make_dataset
    from colorize.models.model import build_unet
    from colorize.inference.colorizer import Colorizer

    split = split_dataset(list(scan_dataset(resolve_dataset_path("default")).ok), None, 42, 42)
    centres, weights = ab_bins_and_prior(split.train, args.rebalance_mix)
    keras.utils.set_random_seed(42)
    body = build_unet("cpu")
    logits = keras.layers.Conv2D(len(centres), 1, name="ab_logits")(body.get_layer("decoder1_b_act").output)
    model = keras.Model(body.input, logits)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=soft_encoded_cross_entropy(centres, weights))
    best = f"{tempfile.mkdtemp(prefix='bench-classify-')}/logits.weights.h5"
    start = time.perf_counter()
    model.fit(make_dataset(split.train, 128, 16, training=True, seed=42, repeat=True),
              validation_data=make_dataset(split.validation, 128, 16, training=False),
              epochs=args.epochs, steps_per_epoch=args.steps, verbose=2,
              callbacks=[keras.callbacks.ModelCheckpoint(best, save_best_only=True, save_weights_only=True),
                         keras.callbacks.ReduceLROnPlateau(patience=3, factor=0.5)])
    model.load_weights(best)
    print(f"{len(centres)} bins, trained in {time.perf_counter() - start:.0f} s\n")
    print("| decoding | PSNR | SSIM | colourfulness gap (ratio to gray) | colourfulness |")
    print("|---|---:|---:|---:|---:|")
    for temperature in (float(text) for text in args.temperatures.split(",")):
        ab_model = annealed_mean_model(model, centres, temperature)
        result = evaluate_files(Colorizer(ab_model), split.validation)
        gray = result["gray_baseline"]
        print(f"| T {temperature} | {result['psnr']:.2f} ({gray['psnr']:.2f}) | {result['ssim']:.4f} "
              f"({gray['ssim']:.4f}) | {result['delta_colorfulness']:.1f} "
              f"({result['delta_colorfulness'] / gray['delta_colorfulness']:.2f}) | {result['colorfulness']:.1f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
