"""Multi-worker training for real: two `python -m colorize train --strategy multiworker`
processes on localhost ports, each with its own TF_CONFIG (the README recipe), and
the TF_CONFIG checks that run before TensorFlow starts."""

from __future__ import annotations

import csv
import errno
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize.training.cluster import WorkerRole, read_tf_config
from colorize.training.distributed import save_model_on_every_worker
from colorize.errors import OutputError, UsageError

from conftest import REPO_ROOT, colorful_image, run_colorize, save_image, wait_for_backup

TRAIN_ARGS = ("--preset", "tiny", "--image-size", "32", "--epochs", "3", "--batch-size", "1",
              "--test-size", "2", "--run-name", "run")


def free_ports(count: int) -> list[int]:
    """Return `count` distinct free localhost ports (held open together while picking)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for handle in sockets:
            handle.bind(("localhost", 0))
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def tf_config(ports: list[int], index: int) -> str:
    """Return the TF_CONFIG of worker `index` in a cluster of localhost workers."""
    return json.dumps({"cluster": {"worker": [f"localhost:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def start_train(data: Path, output: Path, strategy: str, environment: dict,
                arguments: tuple[str, ...] = TRAIN_ARGS) -> subprocess.Popen:
    """Start `python -m colorize train` (the tiny preset unless `arguments` say otherwise) in the background."""
    env = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1", **environment)
    env.pop("COLORIZE_OUTPUT", None)
    return subprocess.Popen([sys.executable, "-m", "colorize", "train", "--data", str(data),
                             "--strategy", strategy, "--output", str(output), *arguments],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen, timeout: float = 240) -> str:
    """Wait for a process and return its output; kill it when it hangs (a stuck collective)."""
    try:
        return process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0] + "\n(killed: timed out)"


def epoch_losses(run_dir: Path) -> list[float]:
    """Return the training loss of each epoch from a run's history.csv."""
    with open(run_dir / "history.csv", newline="", encoding="utf-8") as handle:
        return [float(row["loss"]) for row in csv.DictReader(handle)]


def test_two_workers_train_together_and_only_the_chief_writes_the_model(color_folder, tmp_path):
    ports = free_ports(2)
    workers = [start_train(color_folder, tmp_path / f"machine{index}", "multiworker",
                           {"TF_CONFIG": tf_config(ports, index)}) for index in range(2)]
    # The single-process run on the same data, alongside (stock Keras fit).
    alone = start_train(color_folder, tmp_path / "alone", "one", {})
    outputs = [finish(process) for process in workers]
    alone_output = finish(alone)
    for index, (process, output) in enumerate(zip(workers, outputs)):
        assert process.returncode == 0, f"worker {index} failed:\n{output}"
    assert alone.returncode == 0, alone_output

    chief_run, worker_run = (tmp_path / f"machine{index}" / "models" / "run" for index in range(2))
    assert (chief_run / "model.keras").is_file()
    assert not (chief_run / "backup").exists()  # a finished run leaves no backup behind
    assert sorted(path.name for path in worker_run.rglob("*")) == ["config.json"]
    assert not [path.name for path in chief_run.rglob("*") if "partial" in path.name]
    assert "chief saved the model" in outputs[1]
    assert all("the first step took" in output for output in outputs)   # the graph's build is said, as under fit
    # --batch-size is per replica; an epoch is MIN_CROPS_PER_EPOCH crops (640) as in single-process training
    assert "2 replicas, 2 images per step, 320 steps per epoch" in outputs[0]

    together, single = epoch_losses(chief_run), epoch_losses(tmp_path / "alone" / "models" / "run")
    assert len(together) == len(single) == 3
    assert together[-1] < together[0], together
    assert single[-1] < single[0], single

    from colorize.models.modelfile import inspect_model, load_model_file

    assert inspect_model(load_model_file(chief_run / "model.keras")).kind == "ab"


def start_workers(data: Path, root: Path, arguments: tuple[str, ...]) -> list[subprocess.Popen]:
    """Start two local workers, each with its own output folder (machine0 is the chief)."""
    ports = free_ports(2)
    return [start_train(data, root / f"machine{index}", "multiworker", {"TF_CONFIG": tf_config(ports, index)},
                        arguments) for index in range(2)]


def finish_workers(workers: list[subprocess.Popen]) -> list[str]:
    """Wait for the workers; fail naming the one that did not exit 0."""
    outputs = [finish(process) for process in workers]
    for index, (process, output) in enumerate(zip(workers, outputs)):
        assert process.returncode == 0, f"worker {index} failed:\n{output}"
    return outputs


@pytest.mark.slow
def test_two_workers_train_the_pretrained_preset_and_continue_the_default_model(color_folder, tmp_path):
    """The default preset (a class head: the logits view trains, the inference model is saved)
    and the shipped model continued; before, the first was refused and the second failed inside."""
    from colorize.dataset import color
    from colorize.models import ab_classes
    from colorize.models.modelfile import load_model_file

    small = ("--image-size", "32", "--epochs", "1", "--batch-size", "4", "--test-size", "2")
    gray = tmp_path / "gray.png"
    save_image(gray, colorful_image(48, 40, seed=5)[..., 1])
    for name, extra in (("new", ()), ("continued", ("--model", "default"))):
        outputs = finish_workers(start_workers(color_folder, tmp_path / name, (*small, "--run-name", "run", *extra)))
        assert "chief saved the model" in outputs[1]
        run_dir = tmp_path / name / "machine0" / "models" / "run"
        model = load_model_file(run_dir / "model.keras")
        assert ab_classes.has_class_head(model)
        assert (run_dir / "metrics.json").is_file() and not (run_dir / "backup").exists()
        predicted = run_colorize("predict", "--model", str(run_dir / "model.keras"), "--input", str(gray),
                                 "--output", str(tmp_path / name / "results"))
        assert predicted.returncode == 0, predicted.stdout + predicted.stderr
        with Image.open(tmp_path / name / "results" / "gray.png") as result:
            assert result.size == (48, 40)
            chroma = np.linalg.norm(color.rgb_to_lab(np.asarray(result.convert("RGB")))[..., 1:], axis=-1)
        assert chroma.mean() > 1.0, (name, chroma.mean())   # colour, not gray


MIRRORED_PRETRAINED_SCRIPT = """
import json, sys
import tensorflow as tf
# Two logical CPU devices must be configured before TensorFlow initialises.
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from colorize.config import TrainConfig
from colorize.training.train import train_model
config = TrainConfig(data=sys.argv[1], output=sys.argv[2], epochs=1, test_size=2, image_size=32, batch_size=4,
                     preset="pretrained", strategy="mirrored", run_name="mirrored", model=sys.argv[3])
result = train_model(config, notify=print)
print(json.dumps({"model": str(result.model_path)}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("model", ["new", "default"])
def test_mirrored_strategy_trains_the_pretrained_preset_and_continues_the_default_model(color_folder, tmp_path,
                                                                                        model):
    """The class head on the other strategy that spreads one step over replicas (two logical CPUs)."""
    process = subprocess.run([sys.executable, "-c", MIRRORED_PRETRAINED_SCRIPT, str(color_folder),
                              str(tmp_path / "OUTPUT"), model], capture_output=True, text=True, timeout=600,
                             cwd=REPO_ROOT, env=dict(os.environ, NO_COLOR="1"))
    assert process.returncode == 0, process.stdout + process.stderr
    assert "MirroredStrategy over 2 replicas" in process.stdout
    from colorize.models import ab_classes
    from colorize.models.modelfile import load_model_file

    assert ab_classes.has_class_head(load_model_file(json.loads(process.stdout.strip().splitlines()[-1])["model"]))


@pytest.mark.slow
def test_ctrl_c_stops_every_worker_and_the_same_command_continues(color_folder, tmp_path):
    """SIGINT to both workers once an epoch is backed up: all stop after the same step (one
    that stopped alone would leave the other in its next all-reduce for ever), exit 130, keep
    the chief's backup, and the same command finishes the run."""
    arguments = (*TRAIN_ARGS[:TRAIN_ARGS.index("--epochs")], "--epochs", "3",
                 *TRAIN_ARGS[TRAIN_ARGS.index("--epochs") + 2:])
    chief_run = tmp_path / "machine0" / "models" / "run"
    workers = start_workers(color_folder, tmp_path, arguments)
    wait_for_backup(workers[0], chief_run / "backup")
    for process in workers:
        process.send_signal(signal.SIGINT)
    outputs = [finish(process, timeout=120) for process in workers]
    assert [process.returncode for process in workers] == [130, 130], outputs
    assert "the same command continues" in outputs[0] and "Traceback" not in outputs[0] + outputs[1]
    assert (chief_run / "backup" / "latest.weights.h5").is_file() and not (chief_run / "model.keras").exists()
    epochs_before = len(epoch_losses(chief_run))
    assert 1 <= epochs_before < 3

    outputs = finish_workers(start_workers(color_folder, tmp_path, arguments))
    assert f"from epoch {epochs_before + 1}" in outputs[0]
    with open(chief_run / "history.csv", newline="", encoding="utf-8") as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == [0, 1, 2]
    assert (chief_run / "model.keras").is_file() and not (chief_run / "backup").exists()


def readme_multiworker_commands() -> list[tuple[dict, list[str]]]:
    """Return the README's two multi-worker commands as (TF_CONFIG, colorize arguments) pairs."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Training on several machines", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        if "TF_CONFIG=" not in line:
            continue
        config_text, command = line.split("TF_CONFIG='", 1)[1].split("'", 1)
        words = command.split()
        assert words[:3] == ["python", "-m", "colorize"], line
        commands.append((json.loads(config_text), words[3:]))
    return commands


@pytest.mark.slow
def test_the_readme_multiworker_example_runs(color_folder, tmp_path):
    """The README's commands as written, with localhost for its hosts, a small photo folder for
    photos/, and small sizes appended (argparse keeps the last value of a flag)."""
    commands = readme_multiworker_commands()
    assert [config["task"]["index"] for config, _ in commands] == [0, 1]
    ports = free_ports(2)
    processes = []
    for config, arguments in commands:
        hosts = config["cluster"]["worker"]
        config["cluster"]["worker"] = [f"localhost:{port}" for port in ports]
        assert len(hosts) == 2
        arguments = [str(color_folder) if word == "photos/" else word for word in arguments]
        env = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1", TF_CONFIG=json.dumps(config))
        env.pop("COLORIZE_OUTPUT", None)
        output = tmp_path / f"machine{config['task']['index']}"
        processes.append(subprocess.Popen(
            # 32 px: the smallest size the pretrained preset (the default) takes, a multiple of 32
            [sys.executable, "-m", "colorize", *arguments, "--output", str(output), "--image-size", "32",
             "--epochs", "1", "--batch-size", "4", "--test-size", "2"],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [finish(process) for process in processes]
    for index, (process, output) in enumerate(zip(processes, outputs)):
        assert process.returncode == 0, f"worker {index} failed:\n{output}"
    run_name = commands[0][1][commands[0][1].index("--run-name") + 1]
    assert (tmp_path / "machine0" / "models" / run_name / "model.keras").is_file()
    assert not (tmp_path / "machine1" / "models" / run_name / "model.keras").exists()


def test_multiworker_without_tf_config_is_one_clear_line(color_folder, tmp_path):
    result = run_colorize("train", "--data", str(color_folder), "--strategy", "multiworker",
                          "--output", str(tmp_path / "out"), *TRAIN_ARGS, env={"TF_CONFIG": ""})
    assert result.returncode == 1
    assert "TF_CONFIG" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "models" / "run" / "model.keras").exists()


@pytest.mark.parametrize("text, message", [
    ("", "needs the TF_CONFIG environment variable"),
    ("{not json", "TF_CONFIG is not valid"),
    ('{"cluster": {"worker": ["a:1"]}}', "TF_CONFIG is not valid"),
    ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}', "not in its cluster"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "not in its cluster"),
    ('["a:1"]', "TF_CONFIG is not valid"),
    ('{"cluster": {"worker": "a:1"}, "task": {"type": "worker", "index": 0}}', "TF_CONFIG is not valid"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": "first"}}', "TF_CONFIG is not valid"),
    ('{"cluster": {"chief": ["a:1", "b:1"]}, "task": {"type": "chief", "index": 0}}', "at most one"),
])
def test_bad_tf_config_says_what_to_fix(text, message, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", text)   # TensorFlow's resolver reads only os.environ
    with pytest.raises(UsageError, match=message):
        read_tf_config()


def role_in(monkeypatch, cluster: dict, task_type: str, index: int) -> WorkerRole:
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}}))
    return read_tf_config()


def test_worker_zero_is_the_chief_unless_the_cluster_names_one(monkeypatch):
    workers = {"worker": ["a:1", "b:1"]}
    first, second = role_in(monkeypatch, workers, "worker", 0), role_in(monkeypatch, workers, "worker", 1)
    assert (first.is_chief, second.is_chief, first.worker_count) == (True, False, 2)
    with_chief = {"chief": ["c:1"], **workers}
    worker, chief = role_in(monkeypatch, with_chief, "worker", 0), role_in(monkeypatch, with_chief, "chief", 0)
    assert (worker.is_chief, chief.is_chief, chief.worker_count) == (False, True, 3)


# --- a model file under its final name is always whole (README), on the multi-worker path too ---

def test_the_chief_replaces_the_model_file_only_once_the_new_one_is_whole(tmp_path):
    """Each better epoch replaces model.keras: a save cut off halfway must leave the last whole one."""
    from colorize.models.modelfile import load_model_file
    from tiny_models import build_ab_model

    chief, other = WorkerRole("worker", 0, 2, True), WorkerRole("worker", 1, 2, False)
    target = tmp_path / "run" / "model.keras"
    target.parent.mkdir()
    first, second = build_ab_model(seed=1), build_ab_model(seed=2)
    save_model_on_every_worker(first, target, chief)
    earlier = target.read_bytes()

    class FullDiskHalfway:
        """The next epoch's model, whose save fills the disk halfway through the file."""

        def save(self, path):
            assert Path(path) != target and target.read_bytes() == earlier
            second.save(path)
            Path(path).write_bytes(Path(path).read_bytes()[:1000])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match="Cannot save the model to .*model.keras: No space left on device"):
        save_model_on_every_worker(FullDiskHalfway(), target, chief)
    assert [path.name for path in target.parent.iterdir()] == ["model.keras"]
    assert target.read_bytes() == earlier

    save_model_on_every_worker(second, target, chief)
    lightness = np.linspace(-1, 1, 64, dtype=np.float32).reshape(1, 8, 8, 1)
    np.testing.assert_allclose(load_model_file(target).predict(lightness, verbose=0),
                               second.predict(lightness, verbose=0), atol=1e-6)
    # Another worker saves too (saving is a collective step) but writes nothing where the chief's files go.
    save_model_on_every_worker(first, tmp_path / "elsewhere" / "model.keras", other)
    assert not (tmp_path / "elsewhere").exists()


RECORDED_SAVES_SCRIPT = """
import json, sys
from colorize.training.devices import load_tensorflow
load_tensorflow()
import keras
saves = []
keras_save = keras.Model.save
def recorded_save(model, filepath, *args, **kwargs):
    saves.append(str(filepath))
    return keras_save(model, filepath, *args, **kwargs)
keras.Model.save = recorded_save
from colorize.config import TrainConfig
from colorize.training.train import train_model
config = TrainConfig(data=sys.argv[1], output=sys.argv[2], epochs=2, test_size=0, image_size=32, batch_size=8,
                     preset="tiny", strategy="multiworker", run_name="alone", save_h5=True, save_best=False)
result = train_model(config)
print(json.dumps({"saves": saves, "files": {role: str(path) for role, path in result.files.items()}}))
"""


def test_the_multiworker_loop_saves_every_model_under_a_temporary_name_first(color_folder, tmp_path):
    """A cluster of one worker through the real loop: every model.save goes to a temporary name."""
    env = dict(os.environ, NO_COLOR="1", TF_CONFIG=tf_config(free_ports(1), 0))
    process = subprocess.run([sys.executable, "-c", RECORDED_SAVES_SCRIPT, str(color_folder), str(tmp_path / "out")],
                             capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, env=env)
    assert process.returncode == 0, process.stdout + process.stderr
    result = json.loads(process.stdout.strip().splitlines()[-1])
    run_dir = tmp_path / "out" / "models" / "alone"
    assert result["files"]["model"] == str(run_dir / "model.keras")
    assert result["files"]["model_h5"] == str(run_dir / "model.h5")
    chief_saves = [Path(path) for path in result["saves"] if Path(path).parent == run_dir]
    # as after fit: ModelCheckpoint keeps weights during the epochs, and the model and its .h5 copy
    # are saved once at the end, neither under its final name
    assert [path.name for path in chief_saves] == [".partial-model.keras", ".partial-model.h5"]
    from colorize.models.modelfile import inspect_model, load_model_file

    for name in ("model.keras", "model.h5"):
        assert inspect_model(load_model_file(run_dir / name)).kind == "ab"
    assert not [path.name for path in run_dir.rglob("*") if "partial" in path.name]


AVERAGED_WEIGHTS_SCRIPT = """
import json, sys
from colorize.training.devices import load_tensorflow
load_tensorflow()
import keras
import numpy as np
from colorize.training import callbacks
from colorize.models import presets
presets.PRESETS["tiny"] = dict(presets.PRESETS["tiny"], ema_momentum=0.5)   # weight averaging, as the pretrained preset
validated, trained = [], []
class Recorder(keras.callbacks.Callback):
    def __init__(self, into):
        super().__init__()
        self.into = into
    def on_test_begin(self, logs=None):
        self.into.append([weight.numpy().copy() for weight in self.model.trainable_weights])
plain_build_callbacks = callbacks.build_callbacks
def recorded_build_callbacks(*args, **kwargs):
    # before the weight-average swap: the trained weights; after it: what validation sees
    return [Recorder(trained), *plain_build_callbacks(*args, **kwargs), Recorder(validated)]
callbacks.build_callbacks = recorded_build_callbacks
from colorize.config import TrainConfig
from colorize.models.modelfile import load_model_file
from colorize.training.train import train_model
config = TrainConfig(data=sys.argv[1], output=sys.argv[2], epochs=2, test_size=0, image_size=32, batch_size=8,
                     preset="tiny", strategy="multiworker", run_name="averaged", save_best=False)
result = train_model(config)
saved = load_model_file(result.files["model"]).trainable_weights
print(json.dumps({
    "saved_is_validated": all(np.allclose(s.numpy(), v, atol=1e-6) for s, v in zip(saved, validated[-1])),
    "validated_differs_from_trained": any(not np.allclose(v, t) for v, t in zip(validated[-1], trained[-1])),
    "epochs": len(trained)}))
"""


def test_the_multiworker_loop_validates_and_saves_the_weight_average(color_folder, tmp_path):
    """With an optimizer that averages its weights (the pretrained preset's), the custom loop
    does what fit's callbacks do: validation and model.keras see the average, and training goes
    on from the trained weights. Before, it validated and saved the trained weights."""
    env = dict(os.environ, NO_COLOR="1", TF_CONFIG=tf_config(free_ports(1), 0))
    process = subprocess.run([sys.executable, "-c", AVERAGED_WEIGHTS_SCRIPT, str(color_folder), str(tmp_path / "out")],
                             capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, env=env)
    assert process.returncode == 0, process.stdout + process.stderr
    result = json.loads(process.stdout.strip().splitlines()[-1])
    assert result == {"saved_is_validated": True, "validated_differs_from_trained": True, "epochs": 2}
