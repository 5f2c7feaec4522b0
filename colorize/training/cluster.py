"""This process's place in a multi-worker cluster: the standard TF_CONFIG variable,
read and checked before TensorFlow starts a server, and the strategy made from it.

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


TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}')


def read_tf_config() -> WorkerRole:
    """Return this worker's role from $TF_CONFIG; UsageError with the fix if missing or invalid.

    TensorFlow's own TFConfigClusterResolver reads it (the reader
    MultiWorkerMirroredStrategy uses, so both agree on the cluster); it only
    reads os.environ. Importing TensorFlow starts no server, so this still comes
    before one. The resolver raises bare JSONDecodeError/KeyError/TypeError on a
    malformed value and does not check that the task is in the cluster: those
    become one-line UsageErrors here.
    """
    from colorize.training.devices import load_tensorflow

    text = os.environ.get(TF_CONFIG_ENV_VAR, "")
    if not text.strip():
        raise UsageError(f"--strategy multiworker needs the {TF_CONFIG_ENV_VAR} environment variable "
                         f"on every machine, e.g. {TF_CONFIG_ENV_VAR}='{TF_CONFIG_EXAMPLE}'.")
    resolver = load_tensorflow().distribute.cluster_resolver.TFConfigClusterResolver()
    try:
        tf_config = json.loads(text)
        if not isinstance(tf_config, dict):
            raise TypeError("not a JSON object")
        missing = [key for key in ("cluster", "task") if key not in tf_config]
        if missing or not isinstance(tf_config["task"], dict):
            raise KeyError(" and ".join(missing) or "task")
        task_type, task_index, cluster = resolver.task_type, resolver.task_id, resolver.cluster_spec()
        if task_type is None or task_index is None:
            raise KeyError("task type and index")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"{TF_CONFIG_ENV_VAR} is not valid ({error}); "
                         f"it must look like {TF_CONFIG_EXAMPLE}.") from None
    return worker_role(task_type, task_index, cluster)


def worker_role(task_type: str, task_index: int, cluster) -> WorkerRole:
    """Return the role of task `task_type` `task_index` in the tf.train.ClusterSpec `cluster`."""
    counts = {job: cluster.num_tasks(job) if job in cluster.jobs else 0 for job in ("chief", "worker")}
    indices = cluster.task_indices(task_type) if task_type in counts and counts[task_type] else []
    if task_index not in indices:
        raise UsageError(f"{TF_CONFIG_ENV_VAR} names task {task_type} {task_index}, which is not in its "
                         f"cluster (chief: {counts['chief']}, worker: {counts['worker']}).")
    if counts["chief"] > 1:
        raise UsageError(f"{TF_CONFIG_ENV_VAR} lists {counts['chief']} chiefs; a cluster has at most one.")
    # With no "chief" entry, worker 0 is the chief (TensorFlow's own rule).
    is_chief = task_type == "chief" or (not counts["chief"] and task_index == 0)
    return WorkerRole(task_type, task_index, counts["chief"] + counts["worker"], is_chief)


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
