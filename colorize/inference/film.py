"""Colour films: frames stream through the same Colorizer, the sound is kept (issue 28).

PyAV (FFmpeg in its wheels) decodes and encodes in process. Here a film is
probed, read frame by frame (each with its own time), coloured with steady
colour in batches, and handed to film_parts, which writes it in finished parts
a killed run continues from and joins them with the input's sound. Memory
stays flat: one batch of frames and one part's encoder at a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import shutil
import zipfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np

from colorize.constants import FILM_KEEP_SUFFIXES, FILM_MAX_PIXELS, FILM_NEW_FRAME_WEIGHT, FILM_SEGMENT_FRAMES
from colorize.errors import DatasetError, OutputError
from colorize.inference import film_parts as parts_
from colorize.inference.film_parts import Notify, Progress, TimedFrame
from colorize.inference.fullres import full_lightness, merge_full_resolution, resize_plane
from colorize.inference.steady import SteadyChroma

if TYPE_CHECKING:
    from colorize.dataset import ScannedFile


class FilmError(DatasetError):
    """A film that cannot be coloured: unreadable, no video, no frames, an absurd size."""


@dataclass(frozen=True)
class FilmInfo:
    """What a probe found: enough to plan the output and its progress."""
    width: int
    height: int
    rate: Fraction          # frames per second (average)
    frames: int             # as the container declares (0 when it does not say)
    has_sound: bool
    rotation: int = 0       # degrees players turn the picture (a phone's display matrix); kept as it is
    time_base: Fraction = Fraction(0)   # the video stream's (0: one tick a frame at `rate`)
    start: int = 0          # the first frame's pts: frames are timed from it

    def __post_init__(self):
        if not self.time_base:
            object.__setattr__(self, "time_base", 1 / Fraction(self.rate))


@dataclass
class FilmJob:
    entry: "ScannedFile"
    info: FilmInfo
    target: Path = Path()


@dataclass
class FilmPlan:
    """The films a predict run can colour, and those it cannot (with reasons)."""
    ready: list[FilmJob] = field(default_factory=list)
    bad: list["ScannedFile"] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return sum(job.info.frames for job in self.ready)


# --- reading ---------------------------------------------------------------------

@contextlib.contextmanager
def open_film(entry: "ScannedFile"):
    """Yield an open PyAV input container of a film on disk or in a zip; FilmError if FFmpeg cannot read it."""
    import av

    with contextlib.ExitStack() as stack:
        try:
            if entry.member is None:
                source = entry.source
            else:
                from colorize.dataset.archive import member_problem, open_zip

                archive = stack.enter_context(open_zip(Path(entry.source)))
                problem = member_problem(archive.getinfo(entry.member))
                if problem:
                    raise FilmError(f"Cannot read the film {entry.path}: {problem}.")
                source = stack.enter_context(archive.open(entry.member))
            container = stack.enter_context(av.open(source, "r"))
        except (av.FFmpegError, OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
            raise FilmError(f"Cannot read the film {entry.path}: {_reason(error)}.") from error
        yield container


def _reason(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())[:120]


def probe(entry: "ScannedFile") -> FilmInfo:
    """Return what the film holds; FilmError (one sentence) when it cannot be coloured."""
    import av

    with open_film(entry) as container:
        if not container.streams.video:
            raise FilmError(f"{entry.path} holds no video stream.")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > FILM_MAX_PIXELS:
            raise FilmError(f"{entry.path} has frames of {width}x{height} pixels, above the "
                            f"{FILM_MAX_PIXELS // 1_000_000} megapixel limit.")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        try:
            first = next(iter(container.decode(stream)), None)
        except av.FFmpegError as error:
            raise FilmError(f"Cannot decode the film {entry.path}: {_reason(error)}.") from error
        if first is None:
            raise FilmError(f"{entry.path} holds no frames.")
        width, height = first.width, first.height
        if width < 2 or height < 2 or width * height > FILM_MAX_PIXELS:
            raise FilmError(f"{entry.path} has frames of {width}x{height} pixels: not a usable size.")
        if not rate or rate <= 0 or rate > 1000:
            raise FilmError(f"{entry.path} has no usable frame rate ({rate}).")
        return FilmInfo(width, height, Fraction(rate), _declared_frames(container, stream, rate),
                        bool(container.streams.audio), round(first.rotation or 0),
                        Fraction(first.time_base or stream.time_base or 1 / Fraction(rate)), first.pts or 0)


def _declared_frames(container, stream, rate: Fraction) -> int:
    """Return the frame count the container declares, or its duration times the rate (0: unknown)."""
    if stream.frames:
        return stream.frames
    if stream.duration:
        return round(float(stream.duration * stream.time_base * rate))
    return round(container.duration / 1_000_000 * float(rate)) if container.duration else 0


class FrameReader:
    """Iterate a film's frames as uint8 RGB (`timed()`: with their times); a decode failure ends the film.

    Why reading stopped early is kept in `stopped_by`.
    """

    def __init__(self, container, info: FilmInfo):
        self.container = container
        self.info = info
        self.read = 0
        self.stopped_by: str | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        return (timed.rgb for timed in self.timed())

    def timed(self) -> Iterator[TimedFrame]:
        """Yield each frame with its pts from the first frame and its duration (in info.time_base), rising."""
        import av

        stream = self.container.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        tick = max(1, round(1 / (self.info.rate * self.info.time_base)))   # a frame at the average rate
        last = -1
        try:
            for frame in self.container.decode(stream):
                if (frame.width, frame.height) != (self.info.width, self.info.height):
                    frame = frame.reformat(width=self.info.width, height=self.info.height)
                pts = last + tick if frame.pts is None else max(frame.pts - self.info.start, last + 1)
                last = pts
                self.read += 1
                yield TimedFrame(frame.to_ndarray(format="rgb24"), pts, frame.duration or tick)
        except (av.FFmpegError, OSError, zipfile.BadZipFile, EOFError) as error:
            self.stopped_by = _reason(error)


# --- colouring -------------------------------------------------------------------

def colorize_frames(colorizer, steady: SteadyChroma, frames: Sequence[np.ndarray],
                    saturation: float) -> list[np.ndarray]:
    """Return the frames coloured by `colorizer` (one model call), their ab steadied in order."""
    lightnesses = [full_lightness(frame) for frame in frames]
    chroma = colorizer.predict_chroma(lightnesses)
    coloured = []
    for lightness, ab in zip(lightnesses, chroma):
        working = resize_plane(lightness, *ab.shape[:2])
        coloured.append(merge_full_resolution(lightness, steady.step(working, ab), saturation))
    return coloured


def colour_parts(colorizer, job: FilmJob, saturation: float, batch_size: int, advance: Progress,
                 weight: float = FILM_NEW_FRAME_WEIGHT) -> tuple[Path, int, str | None]:
    """Colour the frames not done yet into parts; return (parts folder, frames done, why reading stopped early).

    `weight` is the new frame's share in the steady colour (1.0: frame by frame).
    """
    folder = parts_.parts_folder(job.target)
    parts_.start_or_continue(folder, job)
    done, state = parts_.load_parts(folder)
    steady = SteadyChroma(weight, state=state)
    advance(done)
    with open_film(job.entry) as container:
        reader = FrameReader(container, job.info)
        frames = reader.timed()
        for _ in itertools.islice(frames, done):   # decoded again, not coloured again
            pass
        index = len(parts_.finished_parts(folder))
        while True:
            part = folder / f"part-{index:06d}.mp4"
            partial = part.with_name(f"writing-{part.name}")
            chunk = itertools.islice(frames, FILM_SEGMENT_FRAMES)
            count = parts_.write_part(partial, chunk,
                                      lambda batch: colorize_frames(colorizer, steady, batch, saturation),
                                      job.info, batch_size, advance)
            if count == 0:
                partial.unlink(missing_ok=True)
                break
            parts_.save_state(part.with_suffix(".npz"), steady, count)
            partial.replace(part)
            done += count
            index += 1
    return folder, done, reader.stopped_by


# --- the whole film ----------------------------------------------------------------------

def output_name(path: str) -> PurePosixPath:
    """Return a film's output name: the same when its container holds H.264 (mp4, m4v, mov, mkv), else NAME.mp4."""
    source = PurePosixPath(path)
    return source if source.suffix.lower() in FILM_KEEP_SUFFIXES else source.with_suffix(".mp4")


def plan_films(entries: Sequence["ScannedFile"]) -> FilmPlan:
    """Probe every film; those FFmpeg cannot use go to `bad` with their reason."""
    plan = FilmPlan()
    for entry in entries:
        try:
            plan.ready.append(FilmJob(entry, probe(entry)))
        except FilmError as error:
            plan.bad.append(dataclasses.replace(entry, status="unreadable", reason=str(error)))
    return plan


def colorize_film(colorizer, job: FilmJob, saturation: float, batch_size: int, advance: Progress,
                  notify: Notify | None, weight: float = FILM_NEW_FRAME_WEIGHT) -> Path:
    """Colour one film into job.target (continuing its finished parts); return the path written."""
    folder, frames, stopped_by = colour_parts(colorizer, job, saturation, batch_size, advance, weight)
    parts = parts_.finished_parts(folder)
    if not parts:
        raise FilmError(f"{job.entry.path}: no frame could be read ({stopped_by or 'empty'}).")
    broken = stopped_by is not None or (job.info.frames > 0 and frames < job.info.frames)
    if broken and notify:
        seconds = float(frames / job.info.rate)
        notify(f"{job.entry.path} stopped being readable after frame {frames} ({seconds:.1f} s"
               + (f" of {job.info.frames} frames" if job.info.frames else "")
               + (f": {stopped_by}" if stopped_by else "") + "); the frames before it are kept.")
    with open_film(job.entry) as source:
        written = parts_.join_parts(job, parts, source, broken, notify)
    shutil.rmtree(folder, ignore_errors=True)
    return written


def check_target(job: FilmJob, forbidden: set[Path]) -> None:
    """Refuse a target that is an input (a symlink in the output tree), or whose folder cannot be made."""
    try:
        job.target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"Cannot create the folder {job.target.parent}: {error.strerror or error}") from error
    if job.target.resolve() in forbidden:
        raise OutputError(f"Refusing to write {job.target}: it is one of the input files.")


# --- a predict run's films -----------------------------------------------------------------

def nothing_to_colour(path: str, files: int, plan: FilmPlan) -> str:
    """Return the one line for an input with no usable photo or film (a lone film's own reason)."""
    if files == 1 and plan.bad:
        return plan.bad[0].reason
    return f"No photos or films to colourise in {path}: {files} files, none a readable image or film."


def place_films(plan: FilmPlan, output_dir: Path, result) -> None:
    """Give each film its output path; one already there is skipped (result.skipped_existing), an unsafe name is bad."""
    from colorize.paths import is_safe_relative

    ready = []
    for job in plan.ready:
        relative = output_name(job.entry.path)
        if not is_safe_relative(relative):
            result.bad.append(dataclasses.replace(job.entry, status="unreadable", reason="unsafe file name"))
            continue
        job.target = output_dir.joinpath(*relative.parts)
        if job.target.exists() or job.target.is_symlink():
            result.skipped_existing.append(job.entry.path)
        else:
            ready.append(job)
    plan.ready = ready


def colorize_films(colorizer, plan: FilmPlan, config, result, forbidden: set[Path],
                   progress: Callable[[int, int], None] | None, notify: Notify | None,
                   done: int, total: int) -> None:
    """Colour every placed film into result.output_dir; the progress counts frames after the photos."""
    from colorize import defaults

    batch_size = config.batch_size or defaults.default_predict_batch_size()
    count = [done, total]

    def advance(frames: int) -> None:
        count[0] += frames
        count[1] = max(count)   # a film may hold more frames than its container said
        if progress:
            progress(*count)

    for job in plan.ready:
        check_target(job, forbidden)
        try:
            result.written.append(colorize_film(colorizer, job, config.saturation, batch_size, advance, notify))
        except FilmError as error:
            result.bad.append(dataclasses.replace(job.entry, status="unreadable", reason=str(error)))
