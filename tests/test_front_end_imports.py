"""The front ends' import graph (issue 14): exit codes live with the errors, and
neither the wizard nor the CLI sits on an import cycle.

The graph is read from the source (every `import` and `from ... import`, also
those inside functions), so a cycle that only a lazy import closes counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "colorize"
FRONT_END_MODULES = ("colorize.frontends.cli", "colorize.frontends.wizard", "colorize.frontends.wizard_questions", "colorize.frontends.wizard_selftrain",
                     "colorize.frontends.console", "colorize.frontends.reporting", "colorize.errors", "colorize.defaults")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Return the colorize modules `path` imports anywhere in its text."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from colorize import console` imports colorize.frontends.console; `from colorize.x import y` imports x
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        found.update(name for name in names if name in known)
    return found - {module_name(path)}


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(files)
    return {name: imported_modules(path, known) - {"colorize"} for name, path in files.items()}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for target in graph.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def test_no_front_end_module_is_on_an_import_cycle():
    graph = import_graph()
    assert "colorize.frontends.wizard" in graph and "colorize.frontends.cli" in graph
    for module in FRONT_END_MODULES:
        if module in graph:
            assert module not in reachable(graph, module), f"{module} imports itself through a cycle"


def test_the_wizard_does_not_import_the_cli():
    assert "colorize.frontends.cli" not in reachable(import_graph(), "colorize.frontends.wizard")


def test_exit_codes_come_from_the_errors_module():
    from colorize.frontends import cli, wizard
    from colorize import errors

    assert (errors.EXIT_OK, errors.EXIT_USER_ERROR, errors.EXIT_USAGE, errors.EXIT_INTERRUPTED) == (0, 1, 2, 130)
    assert cli.EXIT_INTERRUPTED is errors.EXIT_INTERRUPTED and wizard.EXIT_OK is errors.EXIT_OK
