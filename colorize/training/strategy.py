"""What training runs on: the GPUs (devices.py), the tf.distribute strategy over
them, and the precision, chosen once per run and described in one line."""

from __future__ import annotations

from dataclasses import dataclass

from colorize.constants import MIXED_PRECISION_MIN_CAPABILITY


@dataclass(frozen=True)
class DeviceSetup:
    """What training runs on: the GPUs, the distribution strategy, the precision."""
    gpus: list[dict]
    strategy: object                 # tf.distribute.Strategy
    mixed_precision: bool
    description: str                 # one line for the person: what is used and how

    @property
    def replicas(self) -> int:
        """Return how many copies of the model train in step."""
        return int(self.strategy.num_replicas_in_sync)


def detect_devices(strategy: str = "auto") -> DeviceSetup:
    """Return the devices, strategy and precision to train with, configuring TensorFlow for them.

    Mixed float16 is turned on (globally, for models built afterwards) only when
    every GPU has tensor cores; the model's output layer stays float32.
    """
    import keras

    from colorize.training.devices import list_gpus, load_tensorflow

    tf = load_tensorflow()
    _enable_memory_growth(tf)
    gpus = list_gpus()
    mixed_precision = bool(gpus) and all(_capability(gpu) >= MIXED_PRECISION_MIN_CAPABILITY for gpu in gpus)
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    distribution = _choose_strategy(tf, strategy, len(gpus))
    return DeviceSetup(gpus, distribution, mixed_precision, _describe_devices(gpus, distribution, mixed_precision))


def _capability(gpu: dict) -> tuple[int, int]:
    """Return a GPU's compute capability as (major, minor); (0, 0) when unknown."""
    capability = gpu.get("compute_capability")
    return tuple(capability) if capability else (0, 0)


def _enable_memory_growth(tf) -> None:
    """Let TensorFlow take GPU memory as needed instead of all of it at start."""
    for device in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(device, True)
        except RuntimeError:  # the GPU is already initialised: growth is fixed by then
            pass


def _choose_strategy(tf, strategy: str, gpu_count: int):
    """Return the tf.distribute strategy that `strategy` names for this machine."""
    if strategy == "multiworker":
        from colorize.training.cluster import create_multiworker_strategy

        return create_multiworker_strategy()
    if strategy == "mirrored" or (strategy == "auto" and gpu_count > 1):
        if gpu_count:
            return tf.distribute.MirroredStrategy()
        # No GPU: mirror over the CPU devices (more than one only when logical CPU
        # devices were configured, which is how the strategy path is tested).
        return tf.distribute.MirroredStrategy([device.name for device in tf.config.list_logical_devices("CPU")])
    if strategy == "one":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpu_count else "/cpu:0")
    return tf.distribute.get_strategy()


def _describe_devices(gpus: list[dict], strategy, mixed_precision: bool) -> str:
    """Return one line saying what training uses."""
    if gpus:
        names = ", ".join(f"{gpu['name']} ({gpu['memory']})" for gpu in gpus)
        hardware = f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''}: {names}"
    else:
        hardware = "the CPU (no GPU visible to TensorFlow)"
    precision = "mixed float16 precision" if mixed_precision else "float32"
    replicas = strategy.num_replicas_in_sync
    spread = f", {type(strategy).__name__} over {replicas} replicas" if replicas > 1 else ""
    return f"Training on {hardware}{spread}, {precision}."
