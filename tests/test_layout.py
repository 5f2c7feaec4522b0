"""The repository's layout rules: benchmarks/ measures, tools/ builds albums and handles models (issue 25).

Album builders fetch Debian packages (tools/albums/debian_packages.py is the one
place that runs apt and dpkg); a benchmark never does, so it can be rerun
offline on what the repository holds.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO_ROOT / "benchmarks"
# modules that reach the network; socket is left out: bench_workers.py asks it for a free local port
NETWORK_MODULES = {"urllib", "urllib3", "requests", "httpx", "http", "ftplib", "aiohttp", "debian_packages"}
# programs that fetch or unpack packages, named in a string (a subprocess argument, a command in a docstring)
FETCHING_PROGRAMS = re.compile(r"\b(apt-get|apt-cache|apt|dpkg-deb|dpkg|wget|curl|pip download)\b")
# a script run in a document: `python benchmarks/x.py`, `python tools/models/y.py`
SCRIPT_COMMAND = re.compile(r"python3? ((?:benchmarks|tools)/[\w/]+\.py)")
DOCUMENTS = ["README.md", "BENCHMARKS.md", "data/models/README.md"]


def package_fetching(source: str) -> list[str]:
    """Return what in a Python source fetches packages: network imports and fetching programs it names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] in NETWORK_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in NETWORK_MODULES:
            found.append(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [match[0] for match in FETCHING_PROGRAMS.finditer(node.value)]
    return found


def test_no_benchmark_fetches_packages():
    scripts = sorted(BENCHMARKS.rglob("*.py"))
    assert scripts
    fetching = {script.name: found for script in scripts if (found := package_fetching(script.read_text()))}
    assert fetching == {}, "benchmarks/ must not fetch packages; album builders belong in tools/albums/"


@pytest.mark.parametrize("source, expected", [
    ("import urllib.request\n", ["urllib.request"]),
    ("from requests import get\n", ["requests"]),
    ("from debian_packages import fetch_deb\n", ["debian_packages"]),
    ("import subprocess\nsubprocess.run(['apt-get', 'download', 'x'])\n", ["apt-get"]),
    ("import socket, time\nprint('apt tested', 'adapt')\n", ["apt"]),
    ("import socket, subprocess\nsubprocess.run(['git', 'describe'])\n", []),
])
def test_the_check_finds_what_fetches_packages(source, expected):
    assert package_fetching(source) == expected


def test_the_check_finds_the_album_builders_fetching():
    """What left benchmarks/ would have failed the rule: the Debian helper and an album that uses it."""
    albums = REPO_ROOT / "tools" / "albums"
    assert "apt-get" in package_fetching((albums / "debian_packages.py").read_text())
    assert "debian_packages" in package_fetching((albums / "outside_album.py").read_text())


def test_benchmarks_holds_only_measuring_scripts():
    """A script there is a bench_*.py (it measures) or _common.py, which they share; nothing else."""
    others = [path.name for path in BENCHMARKS.glob("*.py") if not path.name.startswith("bench_")]
    assert others == ["_common.py"]


def test_every_script_a_document_runs_exists():
    """Each `python benchmarks/...` or `python tools/...` command of the docs and the scripts' usage lines."""
    texts = {name: (REPO_ROOT / name).read_text() for name in DOCUMENTS}
    texts |= {str(path.relative_to(REPO_ROOT)): path.read_text()
              for folder in ("benchmarks", "tools") for path in (REPO_ROOT / folder).rglob("*.py")}
    named = {(name, script) for name, text in texts.items() for script in SCRIPT_COMMAND.findall(text)}
    assert len({script for _, script in named}) >= 20
    missing = sorted((name, script) for name, script in named if not (REPO_ROOT / script).is_file())
    assert missing == []
