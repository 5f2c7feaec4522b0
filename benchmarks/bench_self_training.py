"""Self-training side by side: the teacher, each round's student, the distilled student and an ensemble.

The table in BENCHMARKS.md ("Self-training"). It reads the models from the
rounds.json of finished self-trainings (`train --teacher ... --unlabeled ...`,
selftrain.py) and scores them all on the same photos, each as `predict` runs
it (its working size, its guided filter), one photo at a time with every model
in turn (bench_ensemble.score_side_by_side), beside the gray baseline:

- the test split that `train --test-size 42 --seed 42` held out of data/default
  (no model here saw it: not the teacher, not a student, not as a pseudo-label);
- with --outside FOLDER, colour photos from sources none of them trained on
  (tools/albums/outside_album.py).

Images/s is the colourising speed on those photos (about 512 px on the long
side; 1 / the mean seconds per photo after one untimed call per model).

    python benchmarks/bench_self_training.py RUNS/models/noisy-student --distilled RUNS/models/distil-cpu \\
        [--extra "cpu, no teacher=/tmp/cpu-default.keras"] [--outside ~/.cache/colorize-outside-album/album]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _common import machine_line
from bench_ensemble import score_side_by_side
from colorize.dataset import resolve_dataset_path, scan_dataset, split_dataset
from colorize.training.devices import load_tensorflow
from colorize.models.modelfile import resolve_model_path
from colorize.evaluation.evaluate import markdown_table


def rounds_models(folder: Path, prefix: str = "") -> dict[str, str]:
    """Return {label: model path} of a self-training folder: its teacher, then each finished round."""
    record = json.loads((folder / "rounds.json").read_text())
    teacher = record.get("teacher_model") or str(resolve_model_path(record["settings"]["teacher"]))
    models = {} if prefix else {"teacher": teacher}
    for entry in record["rounds"]:
        models[f"{prefix}round {entry['round']}"] = entry["model"]
    return models


def images_per_second_row(seconds: dict, count: int, columns: list[str]) -> str:
    """Return the Markdown row of images/s per model (an ensemble's: its members' times added)."""
    def rate(column: str) -> str:
        members = column.rsplit(" ", 1)[0].split("+") if column not in seconds else [column]
        total = sum(seconds[member] for member in members)
        return f"{count / total:.2f}" if total else "n/a"
    return "| images/s | | " + " | ".join(rate(column) for column in columns) + " |"


def score(models: dict[str, str], ensembles: list[list[str]], photos: list, title: str) -> None:
    """Print one Markdown table of every model and ensemble on `photos`."""
    from colorize.inference.colorizer import Colorizer

    members = {label: Colorizer.from_path(path) for label, path in models.items()}
    results, seconds = score_side_by_side(members, ensembles, photos, ("keep",))
    print(f"\n{title} ({len(photos)} photos)\n")
    print("\n".join(markdown_table(results)))
    print(images_per_second_row(seconds, len(photos), list(results)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("self_training", type=Path, help="folder with rounds.json (OUTPUT/models/<run>)")
    parser.add_argument("--distilled", type=Path, action="append", default=[],
                        help="another self-training folder whose student is a smaller preset (repeatable)")
    parser.add_argument("--extra", action="append", default=[], metavar="LABEL=PATH",
                        help="another model to score beside them (e.g. the student's preset without a teacher)")
    parser.add_argument("--outside", default=None, help="a folder of colour photos from other sources")
    parser.add_argument("--test-size", type=int, default=42)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    load_tensorflow()
    models = rounds_models(args.self_training)
    last_round = list(models)[-1]
    for folder in args.distilled:
        models.update(rounds_models(folder, prefix=f"distilled {folder.name} "))
    models.update(dict(spec.split("=", 1) for spec in args.extra))
    ensembles = [["teacher", last_round]]
    print(f"{machine_line()}")
    for label, path in models.items():
        print(f"- {label}: {path}")
    print(f"- ensemble: teacher+{last_round}, combined as `--ensemble-chroma keep`")
    test = split_dataset(list(scan_dataset(resolve_dataset_path("default")).ok), None, args.test_size, args.seed).test
    score(models, ensembles, list(test), f"Test split of data/default (--test-size {args.test_size} --seed {args.seed})")
    if args.outside:
        score(models, ensembles, list(scan_dataset(args.outside).ok), f"Outside photos ({args.outside})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
