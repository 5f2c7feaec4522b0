"""No import cycles anywhere in colorize (issue 14): `distributed` takes
training_steps_per_epoch from the loader, not from train; the training pieces
(strategy, runfolder, estimate, callbacks, evaluate, report) import each other
one way only.

The graph is read from the source with ast: every `import` and `from ... import`,
those inside functions too (a lazy import that closes a cycle is still a cycle
when it runs), except under `if TYPE_CHECKING:` (never run).
"""

from __future__ import annotations

import ast
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


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return every strongly connected group of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_graph_sees_lazy_imports_and_skips_type_checking_ones():
    graph = import_graph()
    assert "colorize.dataset.loader" in graph["colorize.training.distributed"]     # inside train_multiworker
    assert "colorize.training.train" not in graph["colorize.frontends.reporting"]      # only under TYPE_CHECKING
    assert {"colorize.dataset.archive", "colorize.dataset.imagefile"} <= graph["colorize.dataset.classify"]
    assert "colorize.dataset" not in graph["colorize.dataset.classify"]   # its own package, already running


def test_colorize_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_distributed_does_not_import_train():
    graph = import_graph()
    assert "colorize.training.train" not in graph["colorize.training.distributed"]
    assert "colorize.training.distributed" not in graph["colorize.dataset.loader"]
