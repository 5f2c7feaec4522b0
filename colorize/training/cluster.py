"""This process's place in a multi-worker cluster: the standard TF_CONFIG variable,
read and checked before TensorFlow starts, and the strategy made from it.

Every worker runs the same command with its own TF_CONFIG (the same cluster
list, its own task); distributed.py runs the training loop across them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from colorize.constants import TF_CONFIG_ENV_VAR
from colorize.errors import UsageError


@dataclass(frozen=True)
class WorkerRole:
    """This process's place in the cluster that TF_CONFIG describes."""
    task_type: str          # "chief" or "worker"
    task_index: int
    worker_count: int       # every task that trains (chief included)
    is_chief: bool          # the one that writes the model, history and backups

    def describe(self) -> str:
        """Return a line such as 'worker 1 of 2 (chief: no)'."""
        return (f"{self.task_type} {self.task_index} of {self.worker_count} workers"
                f" ({'chief: writes the model' if self.is_chief else 'not the chief: writes nothing'})")


def read_tf_config(environ: dict | None = None) -> WorkerRole:
    """Return this worker's role from $TF_CONFIG; UsageError with the fix if missing or invalid."""
    text = (os.environ if environ is None else environ).get(TF_CONFIG_ENV_VAR, "")
    example = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}')
    if not text.strip():
        raise UsageError(f"--strategy multiworker needs the {TF_CONFIG_ENV_VAR} environment variable "
                         f"on every machine, e.g. {TF_CONFIG_ENV_VAR}='{example}'.")
    try:
        tf_config = json.loads(text)
        cluster, task = tf_config["cluster"], tf_config["task"]
        task_type, task_index = str(task["type"]), int(task["index"])
        chiefs, workers = list(cluster.get("chief", [])), list(cluster.get("worker", []))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"{TF_CONFIG_ENV_VAR} is not valid ({error}); it must look like {example}.") from None
    tasks = {"chief": chiefs, "worker": workers}
    if task_type not in tasks or not 0 <= task_index < len(tasks[task_type]):
        raise UsageError(f"{TF_CONFIG_ENV_VAR} names task {task_type} {task_index}, which is not in its "
                         f"cluster (chief: {len(chiefs)}, worker: {len(workers)}).")
    if len(chiefs) > 1:
        raise UsageError(f"{TF_CONFIG_ENV_VAR} lists {len(chiefs)} chiefs; a cluster has at most one.")
    # With no "chief" entry, worker 0 is the chief (TensorFlow's own rule).
    is_chief = task_type == "chief" or (not chiefs and task_index == 0)
    return WorkerRole(task_type, task_index, len(chiefs) + len(workers), is_chief)


def create_multiworker_strategy():
    """Return a MultiWorkerMirroredStrategy for $TF_CONFIG; call it before any other TensorFlow work.

    TensorFlow configures collective ops when its runtime starts, so the strategy
    must exist before the first tensor is made ("Collective ops must be
    configured at program startup").
    """
    from colorize.training.devices import load_tensorflow

    read_tf_config()  # a clear error before TensorFlow starts a server
    tf = load_tensorflow()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (ValueError, RuntimeError) as error:
        raise UsageError(f"Cannot start multi-worker training from {TF_CONFIG_ENV_VAR}: {error}") from None
