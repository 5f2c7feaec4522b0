"""Which hint file steers which photo of a predict run, checked before anything is written.

`predict --hints PATH` (issue 26): for one photo, PATH is its hint file (a
points `.json` or a painted image); for a folder or a `.zip`, PATH is a folder
holding `NAME.json` or `NAME.png` for each photo that has hints, where NAME is
the photo's path inside the input without its extension (`trip/beach.jpg` ->
`trip/beach.json`). Photos without a hint file stay automatic. Hint files are
only ever read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Sequence

from colorize.errors import HintError
from colorize.hints.sources import check_hint_file

if TYPE_CHECKING:
    from colorize.dataset import ScannedFile, ScanResult

HINT_SUFFIXES = (".json", ".png")   # looked for in this order beside each photo's NAME


@dataclass
class HintFiles:
    """The hint file of each photo that has one (by the photo's path in the scan), and the ones nothing used."""

    by_photo: dict[str, Path] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)   # files in the hint folder that name no photo


def _hint_file_in(folder: Path, photo_path: str) -> Path | None:
    """Return the hint file for `photo_path` (posix, relative to the input) in `folder`, if there is one."""
    stem = PurePosixPath(photo_path).with_suffix("")
    for suffix in HINT_SUFFIXES:
        candidate = folder.joinpath(*stem.parts).with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def _unmatched_files(folder: Path, used: set[Path]) -> list[str]:
    """Return the hint-like files in `folder` that no photo took, as paths relative to it."""
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                  if path.suffix.lower() in HINT_SUFFIXES and path.is_file() and path.resolve() not in used)


def match_hint_files(hints: str, scan: "ScanResult", entries: Sequence["ScannedFile"]) -> HintFiles:
    """Return the hint file of each of `entries`, each checked against its photo's size (HintError if one is bad)."""
    from colorize.paths import expand_home

    root = expand_home(hints, HintError)
    matched = HintFiles()
    if root.is_file():
        if scan.kind != "file" or len(entries) != 1:
            raise HintError(f"--hints {root} is a file, but {scan.root} holds several photos: "
                            "give a folder of NAME.json or NAME.png files, one per photo that has hints.")
        matched.by_photo[entries[0].path] = root
    elif root.is_dir():
        for entry in entries:
            found = _hint_file_in(root, entry.path)
            if found is not None:
                matched.by_photo[entry.path] = found
        matched.unmatched = _unmatched_files(root, {path.resolve() for path in matched.by_photo.values()})
    else:
        raise HintError(f"The hints {root} do not exist.")
    sizes = {entry.path: (entry.height, entry.width) for entry in entries}
    for photo, path in matched.by_photo.items():
        if min(sizes[photo]) > 0:   # a size the scan could not read is checked when the photo loads
            check_hint_file(path, *sizes[photo])
    return matched
