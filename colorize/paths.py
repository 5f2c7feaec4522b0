"""Where outputs go (the output root, a fresh, never-reused run folder) and the paths users type."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path, PurePosixPath

from colorize.constants import DEFAULT_OUTPUT_DIR, OUTPUT_ENV_VAR
from colorize.errors import ColorizeError, OutputError, UsageError

MODELS_DIR_NAME = "models"      # OUTPUT/models/<run>/: training runs
RESULTS_DIR_NAME = "results"    # OUTPUT/results/<run>/: colourised photos, evaluations, test grids
KAGGLE_WORKING = Path("/kaggle/working")
COLAB_CONTENT = Path("/content")


def output_root_and_reason() -> tuple[Path, str]:
    """Return the output root and why it was chosen (shown by `info`)."""
    if os.environ.get(OUTPUT_ENV_VAR):
        return Path(os.environ[OUTPUT_ENV_VAR]), f"from ${OUTPUT_ENV_VAR}"
    if KAGGLE_WORKING.is_dir():
        return KAGGLE_WORKING / "OUTPUT", "on Kaggle: /kaggle/working survives the session"
    if os.environ.get("COLAB_RELEASE_TAG") and COLAB_CONTENT.is_dir():
        return COLAB_CONTENT / "OUTPUT", "on Colab: /content (copy to Drive to keep it)"
    return DEFAULT_OUTPUT_DIR.resolve(), "the default, ./OUTPUT"


def output_root() -> Path:
    """Return the folder that holds `models/` and `results/`."""
    return output_root_and_reason()[0]


def chosen_output_root(output: str | None) -> Path:
    """Return the output root a command was given (--output, ~ expanded), else the default one."""
    return expand_home(output, OutputError) if output else output_root()


def models_root(output: str | None = None) -> Path:
    """Return OUTPUT/models (training run folders), or <output>/models for a chosen --output."""
    return chosen_output_root(output) / MODELS_DIR_NAME


def results_root(output: str | None = None) -> Path:
    """Return OUTPUT/results (predict's and evaluate's run folders, a training's test grids), or <output>/results.

    The one place that names it: train, predict and evaluate all put their run folders here.
    """
    return chosen_output_root(output) / RESULTS_DIR_NAME


def expand_home(path: str | Path, error: type[ColorizeError] = UsageError) -> Path:
    """Return `path` with a leading ~ or ~user expanded; `error` when there is no such home folder.

    Path.expanduser() raises RuntimeError on '~0' (no user 0), which reached the
    user as "Something unexpected" (issue 14); os.path.expanduser leaves it as typed.
    """
    text = os.fspath(path)
    expanded = os.path.expanduser(text)
    if expanded.startswith("~"):
        home = re.split(r"[\\/]", text, maxsplit=1)[0]
        where = "" if home == text else f" (in {text})"
        raise error(f"Cannot tell which home folder {home} is{where}; type the full path.")
    return Path(expanded)


def existing_path(path: str | Path, error: type[ColorizeError]) -> Path | None:
    """Return the path a user typed (~ expanded), or None when nothing is there; `error` if it cannot be looked at."""
    candidate = expand_home(path, error)
    try:
        return candidate if candidate.exists() else None
    except OSError as problem:  # a name too long (ENAMETOOLONG), a permission problem on the way
        raise error(f"{path} cannot be opened ({problem.strerror or problem}).") from problem


def safe_name(name: str) -> str:
    """Return `name` reduced to characters that are safe in a folder name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return cleaned[:80] or "run"


def new_run_dir(parent: Path, name: str | None = None) -> Path:
    """Create and return a new folder under `parent`; never reuse an existing one."""
    base = safe_name(name) if name else time.strftime("%Y%m%d-%H%M%S")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for index in range(1000):
            candidate = parent / (base if index == 0 else f"{base}-{index + 1}")
            try:
                candidate.mkdir()
                return candidate
            except FileExistsError:
                continue
    except OSError as error:
        raise OutputError(f"Cannot create a run folder in {parent}: {error.strerror or error}") from error
    raise OutputError(f"Too many runs named {base!r} in {parent}; choose another --run-name.")


def is_inside(path: Path, folder: Path) -> bool:
    """Return whether `path` is `folder` or lies under it (as written: resolve both first to follow links)."""
    return path == folder or folder in path.parents


# --- outputs never mix with inputs: the two rules -----------------------------------
# Never write into a user's input: anything written there (grids, curves.png,
# colourised photos) would be scanned as photos by the next run on that folder.
# train and evaluate make new run folders under an output root, so the rule is
# about that root's models/ and results/; predict may write into a folder the
# user names (and continue in it), so its rule is about that folder itself.

def refuse_run_folders_inside_data(output: str | None, data: str | Path) -> None:
    """train's and evaluate's rule: raise OutputError when OUTPUT/models or OUTPUT/results (of `output`,
    else the default root) is the data (folder, zip or file) or lies inside it."""
    data = Path(data).resolve()
    for folder in (models_root(output), results_root(output)):
        if is_inside(folder.resolve(), data):
            raise OutputError(f"The output folder {folder.resolve()} is inside the data {data}; "
                              "choose an output folder outside it (--output DIR).")


def refuse_output_mixing_with_input(output_dir: Path, input_root: str | Path, input_is_folder: bool) -> None:
    """predict's rule: raise OutputError when `output_dir` is an input folder, inside it or around it,
    or (for a single file or zip) the folder that holds the input.

    An existing photo in such a folder could also be taken for a finished result.
    A single file or zip may be colourised into any folder but its own.
    """
    output, root = output_dir.resolve(), Path(input_root).resolve()
    if input_is_folder:
        if is_inside(output, root) or is_inside(root, output):
            raise OutputError(f"The output folder {output} overlaps the input folder {root}; "
                              "choose an output folder outside it (--output DIR).")
    elif output == root.parent:
        raise OutputError(f"The output folder {output} is the folder that holds the input {root.name}; "
                          "choose another output folder (--output DIR).")


def write_error_log(traceback_text: str) -> Path:
    """Append a traceback to OUTPUT/colorize-error.log and return the log's path."""
    from colorize.constants import ERROR_LOG_NAME

    log_path = output_root() / ERROR_LOG_NAME
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{traceback_text}\n")
    except OSError:
        log_path = Path("(could not write the error log)")
    return log_path


def is_safe_relative(path: PurePosixPath) -> bool:
    """Return whether `path` stays inside the folder it is joined to (no /, .., C:)."""
    if not path.parts or path.is_absolute():
        return False
    return ".." not in path.parts and ":" not in path.parts[0]
