"""Which loss gives vivid colour without a colour cast? Huber vs L1 vs rebalanced L1.

Trains the cpu preset once per loss on the same crops of data/default for the
same number of steps (keras Huber is the feasibility run's loss; the others are
model.RebalancedL1Loss settings written `by:rebalance[:saturation]`, e.g.
`bin:0.5` is Zhang's mix, `bin:0` plain L1) and compares, on held-out photos
(centre crops), the mean
predicted chroma sqrt(a^2 + b^2) with the photos' own, the mean predicted a and b
(a sepia wash is small positive a and b everywhere), ab error, and the hue
agreement on clearly coloured pixels.

    python benchmarks/bench_loss_chroma.py [--losses huber,bin:0,bin:0.5] [--steps 400] [--held-out 42]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def train_once(loss_spec: str, train_files, held_out, args) -> dict:
    """Train a fresh cpu model with one loss; return chroma figures on the held-out crops."""
    import keras

    from colorize import loader, model

    keras.utils.set_random_seed(args.seed)
    net = model.build_unet("cpu")
    if loss_spec == "huber":
        net.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.Huber())
    else:
        by, rebalance, saturation = (loss_spec.split(":") + ["0"])[:3]
        model.compile_for_training(net, learning_rate=1e-3, rebalance=float(rebalance), by=by,
                                   saturation=float(saturation))
    stream = loader.make_dataset(train_files, args.size, args.batch, training=True, seed=args.seed, repeat=True)
    started = time.perf_counter()
    net.fit(stream, steps_per_epoch=args.steps // args.epochs, epochs=args.epochs, verbose=0)
    seconds = time.perf_counter() - started
    truth, predicted = [], []
    for lightness, ab in loader.make_dataset(held_out, args.size, args.batch, training=False):
        truth.append(ab.numpy() * 110.0)
        predicted.append(net.predict(lightness, verbose=0) * 110.0)
    return {"seconds": seconds, **chroma_figures(np.concatenate(truth), np.concatenate(predicted))}


def chroma_figures(truth: np.ndarray, predicted: np.ndarray) -> dict:
    """Return mean chroma, mean a/b, ab error and hue agreement (Lab units)."""
    true_chroma = np.hypot(truth[..., 0], truth[..., 1])
    predicted_chroma = np.hypot(predicted[..., 0], predicted[..., 1])
    coloured = true_chroma > 20.0
    cosine = (truth[..., 0] * predicted[..., 0] + truth[..., 1] * predicted[..., 1]) / (
        true_chroma * predicted_chroma + 1e-6)
    return {
        "chroma_true": float(true_chroma.mean()), "chroma_pred": float(predicted_chroma.mean()),
        "a_true": float(truth[..., 0].mean()), "a_pred": float(predicted[..., 0].mean()),
        "b_true": float(truth[..., 1].mean()), "b_pred": float(predicted[..., 1].mean()),
        "ab_mae": float(np.abs(truth - predicted).mean()),
        "hue_cosine_coloured": float(cosine[coloured].mean()),
        "chroma_pred_on_coloured": float(predicted_chroma[coloured].mean()),
        "chroma_true_on_coloured": float(true_chroma[coloured].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", default="huber,bin:0,bin:0.5")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--held-out", type=int, default=42)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from colorize import dataset

    scan = dataset.scan_dataset(dataset.resolve_dataset_path("default"))
    split = dataset.split_dataset(scan.ok, train_size=None, test_size=args.held_out, seed=args.seed)
    train_files = split.train + split.validation
    print(f"{len(train_files)} training photos, {len(split.test)} held out, {args.steps} steps of "
          f"{args.batch} crops of {args.size} px, cpu preset")
    for loss_spec in args.losses.split(","):
        figures = train_once(loss_spec, train_files, split.test, args)
        print(f"{loss_spec:12s} " + "  ".join(f"{key} {value:.2f}" for key, value in figures.items()), flush=True)


if __name__ == "__main__":
    main()
