"""Walk a folder, a zip or one file and classify every file in it (no TensorFlow)."""

from __future__ import annotations

import io
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from colorize.constants import DEFAULT_DATASET_DIR, JUNK_DIRS, JUNK_NAMES, MIN_TRAIN_SIDE, SCAN_WORKERS
from colorize.dataset.archive import MemberError, list_zip_members, read_member
from colorize.dataset.classify import Verdict, classify_entry
from colorize.errors import DatasetError
from colorize.dataset.imagefile import ImageDecodeError, decode_rgb, decode_rgb_square, decode_small_rgb
from colorize.paths import existing_path

STATUSES = ("ok", "not_image", "unreadable", "grayscale", "too_small", "film")
PREDICTABLE_STATUSES = ("ok", "grayscale", "too_small")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)   # slots: ~150 bytes less per file in big scans
class ScannedFile:
    """One file of a dataset and its verdict."""
    path: str            # shown to users: posix path relative to the scanned root, or the zip member name
    source: str          # absolute filesystem path of the file, or of the zip that holds it
    member: str | None   # zip member name; None for a plain file
    status: str          # one of STATUSES
    reason: str = ""     # short human reason when not ok
    width: int = 0       # oriented size, 0 when unknown
    height: int = 0


@dataclass(frozen=True)
class ScanResult:
    """Everything a scan found: every file with its verdict, plus what was skipped."""
    root: str
    kind: str                         # "folder" | "zip" | "file"
    files: tuple[ScannedFile, ...]    # sorted by path
    skipped: tuple[str, ...]          # hidden files, OS junk, folder links (not followed)

    def counts(self) -> dict[str, int]:
        """Return total, one count per status, and skipped."""
        counts = {"total": len(self.files), **{status: 0 for status in STATUSES}}
        for entry in self.files:
            counts[entry.status] += 1
        counts["skipped"] = len(self.skipped)
        return counts

    @property
    def ok(self) -> tuple[ScannedFile, ...]:
        """Colour images big enough to train on."""
        return tuple(entry for entry in self.files if entry.status == "ok")

    @property
    def bad(self) -> tuple[ScannedFile, ...]:
        """Every file that is not ok, with its reason."""
        return tuple(entry for entry in self.files if entry.status != "ok")

    @property
    def predictable(self) -> tuple[ScannedFile, ...]:
        """Files prediction accepts: colour, grayscale and small images alike."""
        return tuple(entry for entry in self.files if entry.status in PREDICTABLE_STATUSES)

    @property
    def films(self) -> tuple[ScannedFile, ...]:
        """Video files (by name; predict probes them with FFmpeg)."""
        return tuple(entry for entry in self.files if entry.status == "film")

    def to_json(self) -> dict:
        """Return the `scan --json` object: root, kind, counts, and the bad files with reasons."""
        return {"root": self.root, "kind": self.kind, **self.counts(),
                "bad": [{"path": entry.path, "status": entry.status, "reason": entry.reason}
                        for entry in self.bad],
                "skipped_paths": list(self.skipped)}


class Candidate(NamedTuple):
    path: str
    source: str
    member: str | None


def resolve_dataset_path(path: str | Path) -> Path:
    """Return the absolute dataset path ('default' is the shipped set); DatasetError if missing."""
    if str(path) == "default":
        if not DEFAULT_DATASET_DIR.is_dir():
            raise DatasetError(f"The default dataset is missing ({DEFAULT_DATASET_DIR}); install the "
                               "project from its source folder (pip install -e .) to get data/.")
        return DEFAULT_DATASET_DIR
    found = existing_path(path, DatasetError)
    if found is None:
        raise DatasetError(f"{path} does not exist; give a folder, a .zip, an image, or 'default'.")
    return found.resolve()


def is_skipped_name(name: str) -> bool:
    """Return whether a file or folder name is hidden or operating-system junk."""
    lowered = name.lower()
    return name.startswith(".") or lowered in JUNK_NAMES or lowered in JUNK_DIRS


def walk_folder(root: Path) -> tuple[list[Candidate], list[str], list[ScannedFile]]:
    """Return (files, skipped, unlistable folders as verdicts) under `root`; folder links not followed."""
    files, skipped, unlistable = [], [], []
    pending = [""]
    while pending:
        relative = pending.pop()
        folder = os.path.join(root, relative)
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            unlistable.append(ScannedFile(relative + "/", folder, None, "unreadable",
                                          f"folder not readable ({error.strerror or error})"))
            continue
        for entry in entries:
            path = f"{relative}/{entry.name}" if relative else entry.name
            if is_skipped_name(entry.name):
                skipped.append(path + "/" if entry.is_dir(follow_symlinks=False) else path)
            elif entry.is_dir(follow_symlinks=False):
                pending.append(path)
            elif entry.is_symlink() and _is_folder_link(entry):
                skipped.append(path + "/")   # folder links can loop; not followed
            else:
                files.append(Candidate(path, entry.path, None))
    return files, skipped, unlistable


def _is_folder_link(entry: os.DirEntry) -> bool:
    """Return whether a symbolic link points at a folder (False for broken links and loops)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def list_zip(root: Path) -> tuple[list[Candidate], list[str]]:
    """Return (members to classify, skipped members) of a safe zip."""
    candidates, skipped = [], []
    seen: set[str] = set()
    for info in list_zip_members(root):
        name = info.filename
        if any(is_skipped_name(part) for part in name.split("/") if part):
            skipped.append(name)
        elif name not in seen:   # a repeated name would read the last copy; count it once
            seen.add(name)
            candidates.append(Candidate(name, str(root), name))
        else:
            skipped.append(name)
    return candidates, skipped


def collect_candidates(root: Path) -> tuple[str, list[Candidate], list[str], list[ScannedFile]]:
    """Return (kind, candidates, skipped, pre-classified) for a folder, zip or single file."""
    if root.is_dir():
        return ("folder", *walk_folder(root))
    if root.suffix.lower() == ".zip":
        members, skipped = list_zip(root)
        return "zip", members, skipped, []
    return "file", [Candidate(root.name, str(root), None)], [], []


def scan_dataset(path: str | Path, min_side: int = MIN_TRAIN_SIDE,
                 progress: Progress | None = None) -> ScanResult:
    """Classify every file under `path` (folder, .zip or one file); DatasetError if none."""
    root = resolve_dataset_path(path)
    kind, candidates, skipped, preclassified = collect_candidates(root)
    if not candidates and not preclassified:
        extra = f" ({len(skipped)} hidden or system files skipped)" if skipped else ""
        raise DatasetError(f"{path} holds no files to scan{extra}.")
    candidates.sort()
    verdicts = _classify_all(candidates, min_side, progress)
    files = [ScannedFile(item.path, item.source, item.member, *verdict)
             for item, verdict in zip(candidates, verdicts)]
    files = sorted(files + preclassified, key=lambda entry: entry.path)
    return ScanResult(str(root), kind, tuple(files), tuple(sorted(skipped)))


def _classify_all(candidates: list[Candidate], min_side: int, progress: Progress | None) -> list[Verdict]:
    """Classify candidates on a thread pool, in order, reporting progress after each."""
    total = len(candidates)
    if progress:
        progress(0, total)
    verdicts: list[Verdict] = []
    pending: deque[Future] = deque()

    def collect_oldest() -> None:
        verdicts.append(pending.popleft().result())
        if progress:
            progress(len(verdicts), total)

    # Threads, not processes: Pillow and numpy release the GIL while decoding, and
    # a 2-process pool was no faster than 2 threads (benchmarks/bench_scan.py).
    with ThreadPoolExecutor(max_workers=SCAN_WORKERS) as pool:
        for item in candidates:
            pending.append(pool.submit(classify_entry, item.source, item.member, min_side))
            if len(pending) > SCAN_WORKERS * 8:   # bounded: a future per file of 100k is ~100 MB
                collect_oldest()
        while pending:
            collect_oldest()
    return verdicts


class UnreadableImageError(DatasetError, ImageDecodeError):
    """A dataset file that cannot be read or decoded now (both a DatasetError and an ImageDecodeError)."""


def read_file_bytes(entry: ScannedFile) -> bytes:
    """Return the bytes of a plain file or a zip member (zip safety rules applied)."""
    try:
        if entry.member is None:
            return Path(entry.source).read_bytes()
        return read_member(entry.source, entry.member)
    except (OSError, MemberError) as error:
        raise UnreadableImageError(f"Cannot read {entry.path}: {error}") from error


def load_small_rgb(entry: ScannedFile, side: int) -> np.ndarray:
    """Return a scanned file's RGB pixels shrunk to about `side` px on the shorter side (imagefile.decode_small_rgb)."""
    try:
        return decode_small_rgb(read_file_bytes(entry), side)
    except ImageDecodeError as error:
        raise UnreadableImageError(f"Cannot decode {entry.path}: {error}") from error


def load_rgb_square(entry: ScannedFile, place, side: int) -> np.ndarray:
    """Return a square of a scanned file's RGB pixels resized to `side` px (imagefile.decode_rgb_square)."""
    try:
        return decode_rgb_square(read_file_bytes(entry), place, side)
    except ImageDecodeError as error:
        raise UnreadableImageError(f"Cannot decode {entry.path}: {error}") from error


def load_rgb(entry: ScannedFile) -> np.ndarray:
    """Return the (H, W, 3) uint8 RGB pixels of a scanned file under the format rules."""
    try:
        return decode_rgb(io.BytesIO(read_file_bytes(entry)))
    except ImageDecodeError as error:
        if isinstance(error, UnreadableImageError):
            raise
        raise UnreadableImageError(f"Cannot decode {entry.path}: {error}") from error
