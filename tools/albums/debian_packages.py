"""What the album scripts share about Debian packages: fetch a .deb, unpack it, read its copyright file.

The one place in the repository that runs apt or dpkg. `fetch_deb` uses the
system's apt; `PrivateApt` a signed apt configuration of its own (the Ubuntu
wallpaper album reads another distribution's archive without touching the
system's). Either way `apt-get download` needs no root and installs nothing.

Copyright files are parsed by python-debian (`pip install -e ".[albums]"`).
Its `Copyright.find_files_paragraph` is not used: a Files pattern is a path in
the source tree, while the photos are looked up by their installed path
(usr/share/...), so each album matches patterns its own way (`copyright_for`
here, by file name).
"""

from __future__ import annotations

import hashlib
import logging
import re
import subprocess
import sys
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

try:
    from debian.copyright import Copyright, FilesParagraph, NotMachineReadableError
except ImportError as error:     # an optional dependency: the product does not need it
    raise SystemExit('error: the album scripts need python-debian and imagehash: pip install -e ".[albums]"') from error

# python-debian logs each old Format URL it fixes ("Fixing Format URL"); that is no news to whoever makes an album
logging.getLogger("debian.copyright").setLevel(logging.ERROR)

UNKNOWN_LICENCE = "unknown (see the copyright file)"
# apt's own defaults, set again so that nothing in the system's apt.conf.d can weaken them
SECURE = {"Acquire::AllowInsecureRepositories": "false", "Acquire::AllowDowngradeToInsecureRepositories": "false",
          "APT::Get::AllowUnauthenticated": "false", "Acquire::Check-Valid-Until": "true",
          "Acquire::Check-Date": "true"}

# fetch(package, version, folder of .deb files) -> the .deb, or None
Fetch = Callable[[str, str, Path], "Path | None"]


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def deb_version(deb: Path) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True,
                          capture_output=True, text=True).stdout.strip()


def fetch_deb(package: str, version: str, debs: Path) -> Path | None:
    """Return the package's .deb in `debs`, fetched by the system's `apt-get download` (the chosen version if apt has it)."""
    cached = sorted(debs.glob(f"{package}_*.deb"))
    for deb in cached:
        if deb_version(deb) == version:
            return deb
    if cached:
        return cached[-1]
    for spec in (f"{package}={version}", package):
        result = subprocess.run(["apt-get", "download", spec], cwd=debs, capture_output=True, text=True)
        if result.returncode == 0:
            break
        if spec == package:
            warn(f"apt-get download {package} failed (run `apt-get update` first?): "
                 f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}")
            return None
    cached = sorted(debs.glob(f"{package}_*.deb"))
    return cached[-1] if cached else None


class PrivateApt:
    """apt-get and apt-cache with their own sources.list, lists and cache under `root`, the system's apt untouched."""

    def __init__(self, root: Path, source: str, keyring: Path) -> None:
        self.root, self.source, self.keyring = root, source, keyring

    def options(self) -> list[str]:
        settings = {"Dir::Etc::sourcelist": str(self.root / "sources.list"), "Dir::Etc::sourceparts": "-",
                    "Dir::Etc::preferences": "/dev/null", "Dir::Etc::preferencesparts": "-",
                    "Dir::State::Lists": str(self.root / "lists"), "Dir::Cache": str(self.root / "cache"),
                    "Dir::State::status": "/dev/null", "Acquire::Languages": "none", **SECURE}
        return [argument for key, value in settings.items() for argument in ("-o", f"{key}={value}")]

    def run(self, command: str, *arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([command, *self.options(), *arguments], check=False, cwd=cwd,
                              capture_output=True, text=True)

    def ready(self) -> None:
        """Write the sources.list and fetch the signed index once; raise SystemExit when it cannot be verified."""
        if not self.keyring.exists():
            raise SystemExit(f"error: no keyring {self.keyring} to verify {self.source}")
        for folder in ("lists/partial", "cache/archives/partial"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        line = f"deb [signed-by={self.keyring}] {self.source}\n"
        sources = self.root / "sources.list"
        if not sources.exists() or sources.read_text() != line:
            sources.write_text(line)
            for old in (self.root / "lists").glob("*_*"):
                old.unlink()
        lists = self.root / "lists"
        if any(lists.glob("*_InRelease")) and any(lists.glob("*_Packages*")):
            return
        result = self.run("apt-get", "update")
        if result.returncode != 0 or not any(lists.glob("*_InRelease")):
            raise SystemExit(f"error: apt-get update of the private {self.source} failed; nothing is fetched "
                             f"unverified:\n{result.stdout}{result.stderr}")

    def sha256(self, package: str, version: str) -> str | None:
        """Return the SHA256 the signed index gives the package's version, or None without an index."""
        if not any((self.root / "lists").glob("*_Packages*")):
            return None
        result = self.run("apt-cache", "show", f"{package}={version}")
        found = re.search(r"^SHA256: (\w+)", result.stdout, re.MULTILINE)
        return found[1] if result.returncode == 0 and found else None

    def fetch(self, package: str, version: str, debs: Path) -> Path | None:
        """Return the package's .deb in `debs`: the cached one if the signed index agrees, else `apt-get download`ed.

        The chosen version is fetched if the archive still has it, else its current one (a warning).
        """
        debs.mkdir(parents=True, exist_ok=True)
        for deb in sorted(debs.glob(f"{package}_*.deb")):
            if deb_version(deb) == version:
                expected = self.sha256(package, version)
                if expected is None or hashlib.sha256(deb.read_bytes()).hexdigest() == expected:
                    return deb
                warn(f"{deb.name} is not what the signed index lists; fetching it again")
                deb.unlink()
        self.ready()
        for spec in (f"{package}={version}", package):
            result = self.run("apt-get", "download", spec, cwd=debs)
            if result.returncode == 0:
                break
        else:
            last = result.stderr.strip().splitlines()[-1:] or [str(result.returncode)]
            warn(f"apt-get download {package} failed: {last[0]}")
            return None
        cached = sorted(debs.glob(f"{package}_*.deb"), key=lambda deb: deb.stat().st_mtime)
        return cached[-1] if cached else None


def extract(deb: Path, root: Path) -> Path:
    """Unpack `deb` under root/<its file stem> (once) and return that folder."""
    folder = root / deb.stem
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(folder)], check=True)
        (folder / ".complete").touch()
    return folder


def files_paragraphs(copyright_file: Path) -> list[FilesParagraph]:
    """Return the Files paragraphs of a machine-readable (DEP-5) copyright file; [] (a warning) for any other."""
    if not copyright_file.exists():
        return []
    text = copyright_file.read_text(encoding="utf-8", errors="replace")
    try:
        return list(Copyright(text.splitlines(keepends=True), strict=False).all_files_paragraphs())
    except NotMachineReadableError:
        warn(f"{copyright_file} is not machine-readable; its photos' licence is {UNKNOWN_LICENCE}")
        return []


def licence_name(paragraph: FilesParagraph) -> str:
    """Return the paragraph's licence: the first line of its License field ('' without one)."""
    return paragraph.license.synopsis.strip() if paragraph.license else ""


def holders(paragraph: FilesParagraph) -> str:
    """Return the paragraph's Copyright field on one line."""
    return " ".join((paragraph.copyright or "").split())


def copyright_for(paragraphs: list[FilesParagraph], path: str) -> tuple[str, str]:
    """Return (licence, copyright) of `path` in a machine-readable copyright file.

    The source tree's paths differ from the installed ones, so a Files pattern
    names a photo when its last part (not a bare `*`) matches the photo's file
    name; otherwise the `Files: *` paragraph applies. The first paragraph that
    names the photo wins, else the last `Files: *`.
    """
    name = PurePosixPath(path).name
    found = (UNKNOWN_LICENCE, "")
    for paragraph in paragraphs:
        patterns = paragraph.files
        named = any(PurePosixPath(p).name != "*" and fnmatchcase(name, PurePosixPath(p).name) for p in patterns)
        if named or "*" in patterns:
            found = (licence_name(paragraph) if paragraph.license else found[0], holders(paragraph))
            if named:
                return found
    return found


def unpack_package(package: str, version: str, files: dict[str, str] | list[str], cache: Path,
                   fetch: Fetch = fetch_deb) -> tuple[Path, str, list[FilesParagraph]] | None:
    """Fetch (with `fetch`, the system's apt by default) and unpack one package into `cache`.

    A warning when it is missing or another version. Return (unpacked root,
    the version got, the Files paragraphs of its copyright file), or None.
    """
    deb = fetch(package, version, cache / "debs")
    if deb is None:
        warn(f"skipping {package}'s {len(files)} photos")
        return None
    got = deb_version(deb)
    if got != version:
        warn(f"{package} {got} is not {version}, the version the photos were chosen from")
    root = extract(deb, cache / "extract")
    return root, got, files_paragraphs(root / "usr/share/doc" / package / "copyright")
