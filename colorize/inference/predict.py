"""Colourise an image file, a folder or a zip into an output folder (`predict`), with a Colorizer.

Outputs keep each input's name and size (colorizer.py, fullres.py); films go to
film.py; a hint file steers its photo (colorize/hints/); the grid and the
where-to-hint pictures are written beside the results.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np
from PIL import Image

from colorize.constants import (
    PREDICT_BATCH_PIXELS,
    PREDICT_GRID_IMAGES,
    PREDICT_GRID_ROWS,
    PREDICT_JPEG_QUALITY,
)
from colorize.dataset import color
from colorize.errors import ColorizeError, DatasetError, OutputError
from colorize.inference.colorizer import Colorizer
from colorize.inference.ensemble import EnsembleColorizer
from colorize.paths import is_safe_relative

if TYPE_CHECKING:
    from colorize.config import PredictConfig
    from colorize.dataset import ScanResult, ScannedFile
    from colorize.hints.advice import HintAdvisor
    from colorize.hints.files import HintFiles
    from colorize.hints.sources import Hints

JPEG_SUFFIXES = (".jpg", ".jpeg")
ADVICE_FOLDER = "where-to-hint"   # beside the results: uncertainty pictures and suggested points
GRID_COLUMNS = ("grayscale input", "colourised")
Progress = Callable[[int, int], None]
Notify = Callable[[str], None]


@dataclass
class PredictResult:
    """What one predict run wrote, skipped and could not use."""

    output_dir: Path
    written: list[Path] = field(default_factory=list)
    skipped_existing: list[str] = field(default_factory=list)    # input paths whose output was already there
    bad: list["ScannedFile"] = field(default_factory=list)        # not images, unreadable, unsafe names
    converted_from_colour: list[str] = field(default_factory=list)
    grids: list[Path] = field(default_factory=list)
    hinted: list[str] = field(default_factory=list)               # input paths steered by a hint file
    advice: list[Path] = field(default_factory=list)              # where-to-hint pictures written


def _output_names(entries: Sequence["ScannedFile"]) -> dict[str, PurePosixPath]:
    """Map each input path to its output path: JPEG stays JPEG, everything else becomes PNG.

    Two inputs that would share a name (a.png and a.bmp) keep their own suffix
    in the name (a.bmp.png); the mapping is the same on every run, so resuming works.
    """
    names: dict[str, PurePosixPath] = {}
    taken: set[str] = set()
    for entry in entries:
        source = PurePosixPath(entry.path)
        suffix = source.suffix.lower()
        target = source if suffix in JPEG_SUFFIXES else source.with_suffix(".png")
        if str(target).lower() in taken:
            target = source.with_name(source.name + (".jpg" if suffix in JPEG_SUFFIXES else ".png"))
        taken.add(str(target).lower())
        names[entry.path] = target
    return names


def encode_image(rgb: np.ndarray, as_jpeg: bool) -> bytes:
    """Return PNG bytes, or JPEG bytes at PREDICT_JPEG_QUALITY, of a uint8 RGB image."""
    buffer = io.BytesIO()
    if as_jpeg:
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=PREDICT_JPEG_QUALITY, subsampling=0)
    else:
        Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def _grid_row(colorized: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return a (gray input, colourised) thumbnail pair; the gray is the output's own L."""
    from colorize.evaluation.report import grid_thumbnail

    colour = grid_thumbnail(colorized, Image.Resampling.BILINEAR)
    return (color.gray_to_rgb(color.rgb_to_lab(colour)[..., 0]) * 255 + 0.5).astype(np.uint8), colour


@dataclass(frozen=True)
class _Job:
    entry: "ScannedFile"
    target: Path          # where its colourised file goes


def _open_output_dir(config: "PredictConfig", scan: "ScanResult") -> Path:
    """Return the checked output folder: --output (continued if it exists) or a new run folder."""
    from colorize.paths import expand_home, new_run_dir, refuse_output_mixing_with_input, results_root

    input_is_folder = scan.kind == "folder"
    if config.output:
        output_dir = expand_home(config.output, OutputError)
        refuse_output_mixing_with_input(output_dir, scan.root, input_is_folder)
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"Cannot use {output_dir} as the output folder: {error.strerror or error}") from error
        return output_dir
    results = results_root()
    # Checked on a stand-in child: the run folder is new, so only its place matters.
    refuse_output_mixing_with_input(results / "new-run", scan.root, input_is_folder)
    return new_run_dir(results)


def _plan_jobs(entries: Sequence["ScannedFile"], output_dir: Path, result: PredictResult) -> list[_Job]:
    """Return the images still to colourise; record existing outputs and unsafe names in `result`."""
    names = _output_names(entries)
    outputs = set(names.values())
    planned = []
    for entry in entries:
        relative = names[entry.path]
        if not is_safe_relative(relative):
            result.bad.append(dataclasses.replace(entry, status="unreadable", reason="unsafe file name"))
            continue
        if any(folder in outputs for folder in relative.parents):  # a zip may hold x.png and x.png/y.png
            result.bad.append(dataclasses.replace(entry, status="unreadable",
                                                  reason=f"its folder {relative.parent} is another photo's output"))
            continue
        target = output_dir.joinpath(*relative.parts)
        if target.exists() or target.is_symlink():
            result.skipped_existing.append(entry.path)
        else:
            planned.append(_Job(entry, target))
    return planned


def _batches(jobs: Sequence[_Job], batch_size: int) -> Iterator[list[_Job]]:
    """Yield groups of at most `batch_size` jobs and about PREDICT_BATCH_PIXELS input pixels."""
    batch: list[_Job] = []
    pixels = 0
    for job in jobs:
        size = job.entry.width * job.entry.height or PREDICT_BATCH_PIXELS // batch_size
        if batch and (len(batch) >= batch_size or pixels + size > PREDICT_BATCH_PIXELS):
            yield batch
            batch, pixels = [], 0
        batch.append(job)
        pixels += size
    if batch:
        yield batch


def _load_batch(batch: Sequence[_Job], result: PredictResult) -> tuple[list[_Job], list[np.ndarray]]:
    """Decode a batch; files that fail now (the scan only sampled them) go to `result.bad`."""
    from colorize import dataset
    from colorize.dataset.imagefile import ImageDecodeError

    loaded_jobs, images = [], []
    for job in batch:
        try:
            images.append(dataset.load_rgb(job.entry))
        except (ImageDecodeError, OSError, zipfile.BadZipFile, ColorizeError) as error:
            reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
            result.bad.append(dataclasses.replace(job.entry, status="unreadable", reason=reason))
            continue
        loaded_jobs.append(job)
    return loaded_jobs, images


def _write_output(job: _Job, colorized: np.ndarray, forbidden: set[Path]) -> Path:
    """Write one colourised image to its new file (temp name, then rename)."""
    from colorize.training.runfolder import write_new_file

    try:
        job.target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file already there where a folder is needed, a full disk, ...
        raise OutputError(f"Cannot create the folder {job.target.parent}: {error.strerror or error}") from error
    if job.target.resolve() in forbidden:  # a symlink in the output tree pointing at an input
        raise OutputError(f"Refusing to write {job.target}: it is one of the input files.")
    as_jpeg = job.target.suffix.lower() in JPEG_SUFFIXES
    return write_new_file(job.target, encode_image(colorized, as_jpeg))


def _save_grids(rows: list, labels: list[str], output_dir: Path) -> list[Path]:
    """Save the comparison grids under output_dir/comparison-grids with a prefix not used yet."""
    from colorize.evaluation.report import save_comparison_grids

    if not rows:
        return []
    grid_dir = output_dir / "comparison-grids"
    grid_dir.mkdir(exist_ok=True)
    prefix, run = "comparison", 1
    while (grid_dir / f"{prefix}-01.png").exists():  # a continued run keeps the earlier pages
        run += 1
        prefix = f"comparison-run{run}"
    return save_comparison_grids(rows, GRID_COLUMNS, grid_dir, prefix=prefix,
                                 rows_per_page=PREDICT_GRID_ROWS, row_labels=labels)


def _announce_colour_inputs(jobs: Sequence[_Job], result: PredictResult, notify: Notify | None) -> None:
    result.converted_from_colour = [job.entry.path for job in jobs if job.entry.status == "ok"]
    if result.converted_from_colour and notify:
        names = ", ".join(result.converted_from_colour[:3])
        count = len(result.converted_from_colour)
        more = count - 3
        notify(f"{count} colour {'photo' if count == 1 else 'photos'} will be turned gray first "
               f"(their own colours are replaced): {names}" + (f" and {more} more" if more > 0 else ""))


def _match_hints(config: "PredictConfig", scan: "ScanResult", entries: Sequence["ScannedFile"],
                 notify: Notify | None) -> "HintFiles":
    """Return the checked hint file of each photo that has one (none without --hints)."""
    from colorize.hints.files import HintFiles, match_hint_files

    if not config.hints:
        return HintFiles()
    hint_files = match_hint_files(config.hints, scan, entries)
    if notify and hint_files.unmatched:
        names = ", ".join(hint_files.unmatched[:3]) + (" and more" if len(hint_files.unmatched) > 3 else "")
        notify(f"{len(hint_files.unmatched)} hint files name no photo of {scan.root} and are not used: {names}")
    return hint_files


def _hints_of(job: _Job, image: np.ndarray, hint_files: "HintFiles", result: PredictResult) -> "Hints | None":
    """Return the hints read from the photo's hint file, or None when it has none."""
    path = hint_files.by_photo.get(job.entry.path)
    if path is None:
        return None
    from colorize.hints.sources import read_hints

    result.hinted.append(job.entry.path)
    return read_hints(path, image)


def _hint_advisor(colorizer: "Colorizer | EnsembleColorizer") -> "HintAdvisor":
    from colorize.hints.advice import HintAdvisor

    return HintAdvisor(colorizer)


def _write_advice(advisor: "HintAdvisor", job: _Job, image: np.ndarray, output_dir: Path) -> list[Path]:
    """Write where-to-hint/NAME.png (the uncertainty picture) and NAME.json (suggested points, a hints file)."""
    import json

    from colorize.hints.advice import uncertainty_picture
    from colorize.training.runfolder import write_new_file

    stem = output_dir / ADVICE_FOLDER / job.target.relative_to(output_dir).with_suffix("")
    picture, points = stem.with_suffix(".png"), stem.with_suffix(".json")
    if picture.exists() and points.exists():   # a continued run
        return []
    advice = advisor.advise(image)
    picture.parent.mkdir(parents=True, exist_ok=True)
    written = []
    if not picture.exists():
        written.append(write_new_file(picture, encode_image(uncertainty_picture(image, advice), as_jpeg=False)))
    if not points.exists():
        text = json.dumps({"points": advice.points}, indent=2) + "\n"
        written.append(write_new_file(points, text.encode("utf-8")))
    return written


def colorize_path(config: "PredictConfig", progress: Progress | None = None,
                  notify: Notify | None = None, scan_progress: Progress | None = None) -> PredictResult:
    """Colourise the image, folder or zip `config.input` into an output folder; return what happened.

    `progress` follows the colourising, `scan_progress` the scan before it.
    """
    from colorize import dataset, defaults
    from colorize.inference import film

    colorizer = Colorizer.from_paths(config.models, config.ensemble_chroma)   # bad models fail before any scan or write
    advisor = _hint_advisor(colorizer) if config.where_to_hint else None
    scan = dataset.scan_dataset(config.input, progress=scan_progress)
    films = film.plan_films(scan.films)   # probed with FFmpeg before any write (issue 28)
    if not scan.predictable and not films.ready:
        raise DatasetError(film.nothing_to_colour(config.input, len(scan.files), films))
    entries = list(scan.predictable)[: config.limit]
    hint_files = _match_hints(config, scan, entries, notify)   # a bad hint file fails before any write
    result = PredictResult(output_dir=_open_output_dir(config, scan))
    result.bad = [entry for entry in scan.files if entry.status in ("not_image", "unreadable")] + films.bad
    jobs = _plan_jobs(entries, result.output_dir, result)
    film.place_films(films, result.output_dir, result)
    total = len(jobs) + films.frames   # photos and film frames share one progress bar
    _announce_colour_inputs(jobs, result, notify)
    forbidden = {Path(entry.source).resolve() for entry in scan.files}
    forbidden |= {path.resolve() for path in hint_files.by_photo.values()}
    grid_rows, grid_labels, done = [], [], 0
    if progress and total:
        progress(0, total)
    for batch in _batches(jobs, config.batch_size or defaults.default_predict_batch_size()):
        loaded, images = _load_batch(batch, result)
        batch_hints = [_hints_of(job, image, hint_files, result) for job, image in zip(loaded, images)]
        for job, colorized in zip(loaded, colorizer.colorize_batch(images, config.saturation, batch_hints)):
            result.written.append(_write_output(job, colorized, forbidden))
            if len(grid_rows) < PREDICT_GRID_IMAGES:
                grid_rows.append(_grid_row(colorized))
                grid_labels.append(job.entry.path)
        if advisor is not None:
            for job, image in zip(loaded, images):
                result.advice += _write_advice(advisor, job, image, result.output_dir)
        del images
        done += len(batch)
        if progress:
            progress(done, total)
    film.colorize_films(colorizer, films, config, result, forbidden, progress, notify, done, total)
    result.grids = _save_grids(grid_rows, grid_labels, result.output_dir)
    return result
