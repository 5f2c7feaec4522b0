"""Zip archives read in place, never extracted: member listing with safety rules.

Rules (issue 3, issue 8):
- A member whose path would escape the archive's folder (`../`, an absolute
  path, a drive letter) makes the whole archive refused with UnsafeArchiveError:
  such a name is never an accident, so nothing in that archive is trusted.
- A declared total uncompressed size above MAX_ZIP_TOTAL_BYTES refuses the
  whole archive too. Reads are bounded by the declared sizes (zipfile stops at
  a member's declared size and checks its CRC), so a lying header cannot
  inflate past the cap.
- A member compressed more than MAX_ZIP_RATIO : 1 (a zip bomb's signature) or
  an encrypted member is classified `unreadable` with that reason; the rest of
  the archive stays usable.
- A corrupt archive (bad central directory) is a DatasetError.
"""

from __future__ import annotations

import os
import re
import threading
import zipfile
import zlib
from pathlib import Path

from colorize.constants import MAX_ZIP_RATIO, MAX_ZIP_RATIO_MIN_BYTES, MAX_ZIP_TOTAL_BYTES
from colorize.errors import DatasetError, UnsafeArchiveError

DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
ENCRYPTED_FLAG = 0x1


def unsafe_member_reason(name: str) -> str | None:
    """Return why a member name would escape the archive's folder, or None if it stays inside."""
    posix_name = name.replace("\\", "/")
    if posix_name.startswith("/"):
        return "an absolute path"
    if DRIVE_LETTER.match(posix_name):
        return "a drive letter"
    if ".." in posix_name.split("/"):
        return "a '..' step"
    if "\x00" in posix_name:
        return "a NUL character"
    return None


def member_problem(info: zipfile.ZipInfo) -> str | None:
    """Return why one member must not be read (encrypted, zip bomb), or None."""
    if info.flag_bits & ENCRYPTED_FLAG:
        return "encrypted zip member"
    if info.file_size >= MAX_ZIP_RATIO_MIN_BYTES:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_ZIP_RATIO:
            return f"compressed {ratio:.0f}:1, above the {MAX_ZIP_RATIO}:1 limit (zip bomb?)"
    return None


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip for reading; DatasetError with one sentence if it is not a usable zip."""
    try:
        return zipfile.ZipFile(path)
    # NotImplementedError: a central directory asking for a newer zip version than
    # zipfile knows (a damaged header, found by the issue 8 fuzz, or a new format).
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as error:
        raise DatasetError(f"{path} is not a readable zip file ({error}).") from error


def list_zip_members(path: Path) -> list[zipfile.ZipInfo]:
    """Return the file members of a safe zip; UnsafeArchiveError for escaping names or oversize."""
    with open_zip(path) as archive:
        try:
            members = [info for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, ValueError) as error:
            raise DatasetError(f"{path} is not a readable zip file ({error}).") from error
    total_bytes = 0
    for info in members:
        reason = unsafe_member_reason(info.filename)
        if reason:
            raise UnsafeArchiveError(
                f"{path} is refused: its member {info.filename!r} has {reason} and would land "
                "outside the archive's folder.")
        total_bytes += info.file_size
    if total_bytes > MAX_ZIP_TOTAL_BYTES:
        raise UnsafeArchiveError(
            f"{path} is refused: it would unpack to {total_bytes / 1024**3:.1f} GiB, above the "
            f"{MAX_ZIP_TOTAL_BYTES / 1024**3:.0f} GiB limit; unpack it yourself and scan the folder.")
    return members


class _OpenZips(threading.local):
    """Zips kept open per thread (zipfile shares one file offset between readers),
    keyed by process id too, since a forked worker must not share its parent's offset."""

    def __init__(self) -> None:
        self.by_key: dict[tuple, zipfile.ZipFile] = {}


_OPEN_ZIPS = _OpenZips()
_MAX_OPEN_ZIPS = 4


def _cached_zip(path: str) -> zipfile.ZipFile:
    """Return an open ZipFile for `path`, reopened when the file changed on disk."""
    status = os.stat(path)
    key = (path, os.getpid(), status.st_mtime_ns, status.st_size)
    archive = _OPEN_ZIPS.by_key.get(key)
    if archive is None:
        if len(_OPEN_ZIPS.by_key) >= _MAX_OPEN_ZIPS:
            for old in _OPEN_ZIPS.by_key.values():
                old.close()
            _OPEN_ZIPS.by_key.clear()
        archive = open_zip(Path(path))
        _OPEN_ZIPS.by_key[key] = archive
    return archive


class MemberError(Exception):
    """A zip member that cannot be read; the message is the reason shown to users."""


def read_member(zip_path: str, name: str) -> bytes:
    """Return one member's bytes, checked against the safety rules; raise MemberError."""
    if unsafe_member_reason(name):
        raise MemberError(f"unsafe member path ({unsafe_member_reason(name)})")
    try:
        archive = _cached_zip(zip_path)
        info = archive.getinfo(name)
    except KeyError:
        raise MemberError("member missing from the zip") from None
    except (DatasetError, OSError) as error:
        raise MemberError(f"zip not readable ({error})") from error
    problem = member_problem(info)
    if problem:
        raise MemberError(problem)
    try:
        # read(n), not read(): zipfile inflates a read() in one call of unbounded
        # output and only then cuts it to the declared size, so a member whose
        # headers lie (2 KB declared, 256 MB of zeros deflated) took 540 MB of
        # memory; read(n) inflates at most n bytes per step, and the CRC still fails.
        with archive.open(info) as member:
            return member.read(info.file_size)
    except NotImplementedError as error:  # compression methods zipfile lacks (e.g. AES, PPMd)
        raise MemberError(f"unsupported zip compression ({error})") from error
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError) as error:
        raise MemberError(f"corrupt zip member ({error})") from error
