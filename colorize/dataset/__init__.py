"""The dataset scanner: walk a folder, a zip or one file, classify every file,
split the usable ones. No TensorFlow here, so `colorize scan` starts fast.

Zip rules are in `archive.py`, per-file decisions in `classify.py`.
"""

from colorize.dataset.archive import unsafe_member_reason
from colorize.dataset.scan import (PREDICTABLE_STATUSES, STATUSES, ScannedFile, ScanResult,
                                   UnreadableImageError, load_rgb, read_file_bytes,
                                   resolve_dataset_path, scan_dataset)
from colorize.dataset.split import DatasetSplit, split_dataset

__all__ = [
    "STATUSES", "PREDICTABLE_STATUSES", "ScannedFile", "ScanResult", "DatasetSplit",
    "UnreadableImageError", "load_rgb", "read_file_bytes", "resolve_dataset_path",
    "scan_dataset", "split_dataset", "unsafe_member_reason",
]
