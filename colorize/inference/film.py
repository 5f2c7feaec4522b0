"""Colour films: frames stream through the same Colorizer, the sound is copied (issue 28).

PyAV (FFmpeg in its wheels) decodes and encodes in process. A film is
coloured in parts of FILM_SEGMENT_FRAMES frames, each a finished H.264 file
in a hidden folder beside the output (`.NAME.parts/`) with the steady-colour
state after it: a killed run, pointed at the same output folder, keeps the
finished parts and goes on from the next frame. When every frame is done, the
parts' packets are joined without re-encoding, the input's sound packets are
copied in beside them (stream copy, nothing decoded), and the film is renamed
into place; the parts folder is then removed. Memory stays flat: one batch of
frames and one part's encoder at a time.

H.264 is written without B-frames, so every packet is one frame in display
order and joining parts is only renumbering; frames get even timestamps at the
input's average rate (a variable-rate film keeps its frame count and length).
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import itertools
import shutil
import zipfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import numpy as np

from colorize.constants import (FILM_CHROMA_QP_OFFSET, FILM_CRF, FILM_KEEP_SUFFIXES, FILM_MAX_PIXELS,
                                FILM_NEW_FRAME_WEIGHT, FILM_PRESET, FILM_SEGMENT_FRAMES, FILM_TUNE)
from colorize.errors import DatasetError, OutputError
from colorize.inference.fullres import full_lightness, merge_full_resolution, resize_plane
from colorize.inference.steady import SteadyChroma, SteadyState

if TYPE_CHECKING:
    from colorize.dataset import ScannedFile

Progress = Callable[[int], None]     # frames just finished
Notify = Callable[[str], None]
CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
PART_GLOB = "part-*.mp4"


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
                        bool(container.streams.audio), round(first.rotation or 0))


def _declared_frames(container, stream, rate: Fraction) -> int:
    """Return the frame count the container declares, or its duration times the rate (0: unknown)."""
    if stream.frames:
        return stream.frames
    if stream.duration:
        return round(float(stream.duration * stream.time_base * rate))
    return round(container.duration / 1_000_000 * float(rate)) if container.duration else 0


class FrameReader:
    """Iterate a film's frames as uint8 RGB; a decode failure ends the film and is kept in `stopped_by`."""

    def __init__(self, container, info: FilmInfo):
        self.container = container
        self.info = info
        self.read = 0
        self.stopped_by: str | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        import av

        stream = self.container.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        try:
            for frame in self.container.decode(stream):
                if (frame.width, frame.height) != (self.info.width, self.info.height):
                    frame = frame.reformat(width=self.info.width, height=self.info.height)
                self.read += 1
                yield frame.to_ndarray(format="rgb24")
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


def batched(frames: Iterable[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
    iterator = iter(frames)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _add_video_stream(container, info: FilmInfo):
    """Add the H.264 stream every part is written with (the same settings, so parts join)."""
    stream = container.add_stream("libx264", rate=info.rate)
    stream.width, stream.height = info.width, info.height
    # yuv420p is what ordinary players decode; x264 needs even sides for it.
    even = info.width % 2 == 0 and info.height % 2 == 0
    stream.pix_fmt = "yuv420p" if even else "yuv444p"
    stream.time_base = 1 / info.rate
    stream.options = {"crf": str(FILM_CRF), "preset": FILM_PRESET, "tune": FILM_TUNE, "bf": "0",
                      "chromaoffset": str(FILM_CHROMA_QP_OFFSET)}
    return stream


def _write_part(path: Path, frames: Iterable[np.ndarray], colour: Callable, info: FilmInfo,
                batch_size: int, advance: Progress) -> int:
    """Encode the coloured `frames` into the H.264 file `path`; return how many there were."""
    import av

    count = 0
    with av.open(str(path), "w", format="mp4") as container:
        stream = _add_video_stream(container, info)
        for batch in batched(frames, batch_size):
            for rgb in colour(batch):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = count
                count += 1
                container.mux(stream.encode(frame))
            advance(len(batch))
        container.mux(stream.encode(None))
    return count


# --- parts (resume) ----------------------------------------------------------------

def parts_folder(target: Path) -> Path:
    """Return the hidden folder holding a film's finished parts while it is coloured."""
    return target.with_name(f".{target.name}.parts")


def finished_parts(folder: Path) -> list[Path]:
    """Return the finished parts in order: an mp4 is renamed into place only after its state is saved."""
    return sorted(path for path in folder.glob(PART_GLOB) if path.with_suffix(".npz").is_file())


def _save_state(path: Path, steady: SteadyChroma, frames: int) -> None:
    state = steady.state
    with open(path, "wb") as stream:
        np.savez(stream, lightness=state.lightness, ab=state.ab, histogram=state.histogram,
                 frames=np.int64(frames))


def _load_parts(folder: Path) -> tuple[int, SteadyState | None]:
    """Return (frames already done, steady state after them) from the finished parts."""
    done, state = 0, None
    for part in finished_parts(folder):
        with np.load(part.with_suffix(".npz")) as saved:
            done += int(saved["frames"])
            state = SteadyState(saved["lightness"], saved["ab"], saved["histogram"])
    return done, state


def _start_or_continue(folder: Path, job: FilmJob) -> None:
    """Make the parts folder, or keep the one there when it was begun from this same film.

    The record names the input's size in bytes and its frames, size and rate: parts
    begun from another film of the same name (replaced since) are dropped, not joined.
    """
    import json
    import os

    record = folder / "source.json"
    source = {"bytes": os.path.getsize(job.entry.source), "member": job.entry.member,
              **{key: str(value) for key, value in dataclasses.asdict(job.info).items()}}
    if folder.is_dir():
        try:
            if json.loads(record.read_text()) == source:
                return
        except (OSError, ValueError):
            pass
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(source))


def colour_parts(colorizer, job: FilmJob, saturation: float, batch_size: int, advance: Progress,
                 weight: float = FILM_NEW_FRAME_WEIGHT) -> tuple[Path, int, str | None]:
    """Colour the frames not done yet into parts; return (parts folder, frames done, why reading stopped early).

    `weight` is the new frame's share in the steady colour (1.0: frame by frame).
    """
    folder = parts_folder(job.target)
    _start_or_continue(folder, job)
    done, state = _load_parts(folder)
    steady = SteadyChroma(weight, state=state)
    advance(done)
    with open_film(job.entry) as container:
        reader = FrameReader(container, job.info)
        frames = iter(reader)
        for _ in itertools.islice(frames, done):   # decoded again, not coloured again
            pass
        index = len(finished_parts(folder))
        while True:
            part = folder / f"part-{index:06d}.mp4"
            partial = part.with_name(f"writing-{part.name}")
            chunk = itertools.islice(frames, FILM_SEGMENT_FRAMES)
            count = _write_part(partial, chunk, lambda batch: colorize_frames(colorizer, steady, batch, saturation),
                                job.info, batch_size, advance)
            if count == 0:
                partial.unlink(missing_ok=True)
                break
            _save_state(part.with_suffix(".npz"), steady, count)
            partial.replace(part)
            done += count
            index += 1
    return folder, done, reader.stopped_by


# --- joining the parts and the sound ------------------------------------------------

def _video_packets(parts: Sequence[Path], stream, rate: Fraction) -> Iterator[tuple[float, object]]:
    """Yield (seconds, packet) of every part's frames, renumbered into one run."""
    import av

    index = 0
    for part in parts:
        with av.open(str(part)) as container:
            for packet in container.demux(container.streams.video[0]):
                if packet.size == 0:
                    continue
                packet.pts = packet.dts = index
                packet.duration = 1
                packet.time_base = 1 / rate
                packet.stream = stream
                yield index / rate, packet
                index += 1


def _sound_packets(container, stream, end_seconds: float | None) -> Iterator[tuple[float, object]]:
    """Yield (seconds, packet) of the input's first sound stream, timed from the first video frame."""
    source = container.streams.audio[0]
    video = container.streams.video[0]
    start = float(video.start_time * video.time_base) if video.start_time is not None else 0.0
    offset = round(start / source.time_base)
    for packet in container.demux(source):
        if packet.size == 0 or packet.pts is None:
            continue
        seconds = float(packet.pts * source.time_base) - start
        if end_seconds is not None and seconds >= end_seconds:
            break
        packet.pts -= offset
        packet.dts = packet.pts if packet.dts is None else packet.dts - offset
        packet.stream = stream
        yield seconds, packet


def _encoded_sound_packets(container, stream, end_seconds: float | None) -> Iterator[tuple[float, object]]:
    """Yield (seconds, packet) of the input's first sound stream re-encoded by `stream` (AAC)."""
    import av

    source = container.streams.audio[0]
    resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=stream.sample_rate)
    frames = itertools.chain(container.decode(source), [None])   # None: flush the resampler and encoder
    for frame in frames:
        if frame is not None and end_seconds is not None and frame.time is not None and frame.time >= end_seconds:
            frame = None
        for packet in stream.encode(None) if frame is None else \
                [packet for resampled in resampler.resample(frame) for packet in stream.encode(resampled)]:
            yield float(packet.pts * packet.time_base), packet
        if frame is None:
            return


def _add_sound(output, source, end_seconds: float | None, notify: Notify | None, name: str):
    """Return the packets of the sound: copied when the output container holds its codec, else AAC."""
    template = source.streams.audio[0]
    if template.codec_context.codec.canonical_name in output.supported_codecs:
        return _sound_packets(source, output.add_stream_from_template(template), end_seconds)
    if notify:
        notify(f"The sound of {name} ({template.codec_context.codec.canonical_name}) cannot go into "
               f"{output.format.name}: it is re-encoded as AAC.")
    stream = output.add_stream("aac", rate=template.codec_context.sample_rate)
    stream.layout = "stereo" if template.codec_context.layout.nb_channels > 1 else "mono"
    return _encoded_sound_packets(source, stream, end_seconds)


def join_parts(job: FilmJob, parts: Sequence[Path], frames: int, broken: bool,
               notify: Notify | None = None) -> Path:
    """Write the finished film: the parts' frames and the input's sound, to a new file at job.target."""
    import av

    from colorize.training.runfolder import write_atomically

    def write(temporary: Path) -> None:
        with av.open(str(temporary), "w", format=CONTAINER_FORMATS[job.target.suffix.lower()]) as output, \
                av.open(str(parts[0])) as first, open_film(job.entry) as source:
            video = output.add_stream_from_template(first.streams.video[0])
            video.time_base = 1 / job.info.rate
            if job.info.rotation:
                video.set_display_rotation(job.info.rotation)
            streams = [_video_packets(parts, video, job.info.rate)]
            if source.streams.audio:
                end = frames / job.info.rate if broken else None
                streams.append(_add_sound(output, source, end, notify, job.entry.path))
            for _, packet in heapq.merge(*streams, key=lambda item: item[0]):
                output.mux(packet)

    return write_atomically(job.target, write, action="write the film")


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
    parts = finished_parts(folder)
    if not parts:
        raise FilmError(f"{job.entry.path}: no frame could be read ({stopped_by or 'empty'}).")
    broken = stopped_by is not None or (job.info.frames > 0 and frames < job.info.frames)
    if broken and notify:
        seconds = float(frames / job.info.rate)
        notify(f"{job.entry.path} stopped being readable after frame {frames} ({seconds:.1f} s"
               + (f" of {job.info.frames} frames" if job.info.frames else "")
               + (f": {stopped_by}" if stopped_by else "") + "); the frames before it are kept.")
    written = join_parts(job, parts, frames, broken, notify)
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
