"""Model presets and every check of a training setting: plain data, no TensorFlow.

One source of truth for the CLI, the wizard, TrainConfig and the model
builder: what each preset is, which image sizes it takes, which monitors
exist, and the ranges every setting must stay in.
"""

from __future__ import annotations

from colorize.errors import UsageError

# keras-hub style: a preset is a plain dict. U-Net presets: `widths` are the
# encoder levels (the last one is the bottleneck), `dilations` extra 3x3 convs
# in the bottleneck that widen the receptive field cheaply (Zhang et al. 2016
# use dilated convs for the same reason: colour needs context). The pretrained
# preset starts from ImageNet-trained EfficientNet-Lite0 (encoder.py) and
# predicts ab classes (ab_classes.py): see model.build_pretrained_unet.
# `ema_momentum`: the weights saved, scored and checkpointed are Adam's
# exponential moving average of the trained ones (Polyak averaging); on 205
# photos the raw weights of one epoch swing the colours of whole photos from
# seed to seed (data/models/README.md, run 18).
# `temperature` 0.8: averaged weights hedge more than one epoch's, and on three
# seeds decoding at 0.8 rather than 1.0 gave more green and PSNR, hue recall level.
# `rebalance` 0.75 (Zhang's lambda; 1 = none): with averaged weights it gave more
# right hues and greens than no rebalancing on every seed, for ~0.25 dB of PSNR
# (data/models/README.md, run 19); without averaging the same gain did not hold.
PRESETS: dict[str, dict] = {
    "pretrained": {"encoder": "efficientnet_lite0", "decoder_widths": (192, 128, 96), "head_stride": 4, "global_context": 256,
                   "rebalance": 0.75, "temperature": 0.8, "ema_momentum": 0.99, "size_multiple": 32,
                   "image_size": 128, "batch_size": 16, "learning_rate": 1e-3,
                   "description": "starts from a network that already knows objects (ImageNet): "
                                  "the best colours; about 7.6 M parameters, 3.4 M of them the frozen ImageNet encoder"},
    "tiny": {"widths": (4, 8), "dilations": (), "size_multiple": 2, "image_size": 32, "batch_size": 4,
             "learning_rate": 1e-3, "description": "tests only: seconds on a CPU"},
    "cpu": {"widths": (16, 32, 64, 128), "dilations": (2, 4), "size_multiple": 8, "image_size": 128,
            "batch_size": 16, "learning_rate": 1e-3,
            "description": "small, from scratch: fast on a CPU, muted colours; about 0.8 M parameters"},
    "gpu": {"widths": (32, 64, 128, 256, 512), "dilations": (2, 4), "size_multiple": 16, "image_size": 256,
            "batch_size": 32, "learning_rate": 1e-3, "description": "from scratch, one GPU: about 13 M parameters"},
    "large": {"widths": (64, 128, 256, 512, 768), "dilations": (2, 4, 8), "size_multiple": 16,
              "image_size": 256, "batch_size": 32, "learning_rate": 5e-4,
              "description": "from scratch, big GPUs: about 44 M parameters"},
}
DEFAULT_PRESET = "pretrained"
TEST_PRESETS = ("tiny",)            # offered by the CLI, not by the wizard

# Names `train --monitor` accepts. All are minimised.
MONITORS: tuple[str, ...] = ("val_loss", "loss", "val_ab_mae", "ab_mae", "val_chroma_gap", "chroma_gap")
STRATEGIES = ("auto", "one", "mirrored", "multiworker")

ENCODER_BLOCKS = 16                 # EfficientNet-Lite0's MBConv blocks (fine-tuning counts from the top)
MIN_IMAGE_SIZE = 16
MAX_IMAGE_SIZE = 2048


def require(condition: bool, message: str) -> None:
    """Raise UsageError(message) unless condition holds."""
    if not condition:
        raise UsageError(message)


def preset_settings(preset: str) -> dict:
    """Return the preset's settings, or raise UsageError naming the choices."""
    require(preset in PRESETS, f"Unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    return PRESETS[preset]


def size_multiple(preset: str) -> int:
    """Return the number image sides must be a multiple of for this preset."""
    return int(preset_settings(preset)["size_multiple"])


def has_class_head(preset: str) -> bool:
    """Return whether the preset's models predict ab classes (and so need the training photos' bins).

    The question asked before a model exists (checking settings, deciding to
    measure the bins a new model is built with); the pretrained-encoder presets
    are the class-head ones (model.build_model). Of a model, ask
    ab_classes.has_class_head(model): a continued model is whatever it was saved as.
    """
    return "encoder" in preset_settings(preset)


def check_image_size(size: int, preset: str) -> None:
    """Raise UsageError unless `size` is in range and a positive multiple of the preset's size multiple."""
    require(MIN_IMAGE_SIZE <= size <= MAX_IMAGE_SIZE,
            f"Image size must be {MIN_IMAGE_SIZE}..{MAX_IMAGE_SIZE} pixels (got {size}).")
    factor = size_multiple(preset)
    require(size >= factor and size % factor == 0,
            f"Image size {size} does not fit the {preset!r} model: use a multiple of "
            f"{factor} (for example {max(factor, size // factor * factor)}).")


def check_monitor(monitor: str) -> None:
    """Raise UsageError unless `monitor` is a quantity training logs."""
    require(monitor in MONITORS, f"Unknown monitor {monitor!r}; choose one of {', '.join(MONITORS)}.")


def check_strategy(strategy: str) -> None:
    """Raise UsageError unless `strategy` names a distribution strategy."""
    require(strategy in STRATEGIES, f"Unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.")
