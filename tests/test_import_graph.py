"""The import graph and the layout of colorize (issues 14 and 25).

No import cycles anywhere (so no front-end module sits on one): `distributed`
takes training_steps_per_epoch from the loader, not from train; the wizard does
not import the CLI; exit codes are defined once, in colorize/errors.py. The
layout: at most a dozen modules directly in colorize/, no function over 70 lines
but argparse builders, and the scanning half of the dataset stage starts
without TensorFlow.

The graph is read from the source with ast: every `import` and `from ... import`,
those inside functions too (a lazy import that closes a cycle is still a cycle
when it runs), except under `if TYPE_CHECKING:` (never run).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "colorize"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Return the ids of every node under an `if TYPE_CHECKING:` block."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(child) for statement in node.body for child in ast.walk(statement))
    return inside


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Return the colorize modules `path` imports when it runs (a submodule's package too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import; the graph reads absolute ones"
            # `from colorize import console` imports colorize.frontends.console; `from colorize.x import y` imports x
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:   # importing colorize.dataset.scan runs colorize.dataset first
            parts = name.split(".")
            found.update(".".join(parts[:end]) for end in range(2, len(parts) + 1))
    own = module_name(path)
    own_packages = {".".join(own.split(".")[:end]) for end in range(1, own.count(".") + 2)}
    return (found & known) - own_packages


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(files)
    return {name: imported_modules(path, known) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """Return one import cycle as [a, b, ..., a], or [] when there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return error.args[1]
    return []


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Return every module that importing `start` runs, directly or through others."""
    seen, stack = set(), [start]
    while stack:
        for target in graph.get(stack.pop(), ()) - seen:
            seen.add(target)
            stack.append(target)
    return seen


def test_the_graph_sees_lazy_imports_and_skips_type_checking_ones():
    graph = import_graph()
    assert "colorize.dataset.loader" in graph["colorize.training.distributed"]     # inside train_multiworker
    assert "colorize.training.train" not in graph["colorize.frontends.reporting"]      # only under TYPE_CHECKING
    assert {"colorize.dataset.archive", "colorize.dataset.imagefile"} <= graph["colorize.dataset.classify"]
    assert "colorize.dataset" not in graph["colorize.dataset.classify"]   # its own package, already running


def test_colorize_has_no_import_cycle():
    graph = import_graph()
    assert {"colorize.frontends.cli", "colorize.frontends.wizard", "colorize.dataset.loader"} <= set(graph)
    assert find_cycle(graph) == []


def test_distributed_does_not_import_train():
    graph = import_graph()
    assert "colorize.training.train" not in graph["colorize.training.distributed"]
    assert "colorize.training.distributed" not in graph["colorize.dataset.loader"]


def test_a_cycle_is_found_and_named():
    cycle = find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert cycle[0] == cycle[-1] and sorted(cycle[1:]) == ["a", "b", "c"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_the_wizard_does_not_import_the_cli():
    graph = import_graph()
    assert "colorize.frontends.console" in reachable(graph, "colorize.frontends.wizard")
    assert "colorize.frontends.cli" not in reachable(graph, "colorize.frontends.wizard")


def assigned_names(path: Path) -> set[str]:
    """Return every plain name `path` assigns anywhere (=, :=, annotated, augmented, for targets)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def test_exit_codes_are_defined_only_in_the_errors_module():
    from colorize import errors

    assert (errors.EXIT_OK, errors.EXIT_USER_ERROR, errors.EXIT_USAGE, errors.EXIT_INTERRUPTED) == (0, 1, 2, 130)
    defining = {path.relative_to(REPO_ROOT).as_posix() for path in PACKAGE.rglob("*.py")
                if any(name.startswith("EXIT_") for name in assigned_names(path))}
    assert defining == {"colorize/errors.py"}


# --- the layout ---------------------------------------------------------------------------

MAX_TOP_LEVEL_MODULES = 12
MAX_FUNCTION_LINES = 70


def test_at_most_a_dozen_modules_sit_directly_in_colorize():
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert "config.py" in modules and len(modules) <= MAX_TOP_LEVEL_MODULES, modules


def test_no_function_is_longer_than_70_lines_but_the_argparse_builders():
    too_long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            # An argparse builder is a declaration, one add_argument per flag: splitting it
            # by length would scatter the CLI's flags without making any step clearer.
            if node.name == "build_parser" or node.name.endswith("_parser"):
                continue
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                too_long.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert too_long == []


# loader.py builds tf.data pipelines and imports TensorFlow at module level; the
# modules that scan, sort and split photos must not, so `colorize scan` starts fast.
SCANNING_MODULES = ("scan", "classify", "archive", "split", "imagefile", "color")


def test_the_scanning_modules_of_the_dataset_stage_import_no_tensorflow():
    code = ("import sys\n"
            f"for name in {SCANNING_MODULES!r}: __import__('colorize.dataset.' + name)\n"
            "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "[]"
