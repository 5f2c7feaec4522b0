"""A coloured film's output: H.264 parts a killed run resumes from, joined with the input's sound.

While a film is coloured, each FILM_SEGMENT_FRAMES frames become a finished
H.264 file in a hidden folder beside the output (`.NAME.parts/`), with the
steady-colour state after it and a record of the film they were begun from. A
part is renamed into place only after its state is saved, so the finished
parts are always whole. When every frame is done, the parts' packets are
joined without re-encoding, every sound stream of the input is copied in
beside them (stream copy, nothing decoded; a codec the output container cannot
hold becomes AAC), and the film is renamed into place.

H.264 is written without B-frames, so every packet is one frame in display
order and joining parts keeps each frame's own time: a film of variable frame
rate keeps its frames' times and durations.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
import os
import shutil
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from colorize.constants import FILM_CHROMA_QP_OFFSET, FILM_CRF, FILM_PRESET, FILM_TUNE
from colorize.inference.steady import SteadyChroma, SteadyState

if TYPE_CHECKING:
    from colorize.inference.film import FilmInfo, FilmJob

Progress = Callable[[int], None]     # frames just finished
Notify = Callable[[str], None]
CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
PART_GLOB = "part-*.mp4"


class TimedFrame(NamedTuple):
    """A decoded frame and its time in the film's time base (pts from the first frame, duration)."""
    rgb: np.ndarray
    pts: int
    duration: int


def batched(frames: Iterable, size: int) -> Iterator[list]:
    iterator = iter(frames)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


# --- the parts folder (resume) ---------------------------------------------------------

def parts_folder(target: Path) -> Path:
    """Return the hidden folder holding a film's finished parts while it is coloured."""
    return target.with_name(f".{target.name}.parts")


def finished_parts(folder: Path) -> list[Path]:
    """Return the finished parts in order: an mp4 is renamed into place only after its state is saved."""
    return sorted(path for path in folder.glob(PART_GLOB) if path.with_suffix(".npz").is_file())


def save_state(path: Path, steady: SteadyChroma, frames: int) -> None:
    state = steady.state
    with open(path, "wb") as stream:
        np.savez(stream, lightness=state.lightness, ab=state.ab, histogram=state.histogram,
                 frames=np.int64(frames))


def load_parts(folder: Path) -> tuple[int, SteadyState | None]:
    """Return (frames already done, steady state after them) from the finished parts."""
    done, state = 0, None
    for part in finished_parts(folder):
        with np.load(part.with_suffix(".npz")) as saved:
            done += int(saved["frames"])
            state = SteadyState(saved["lightness"], saved["ab"], saved["histogram"])
    return done, state


def start_or_continue(folder: Path, job: "FilmJob") -> None:
    """Make the parts folder, or keep the one there when it was begun from this same film.

    The record names the input's size in bytes and its frames, size and rate: parts
    begun from another film of the same name (replaced since) are dropped, not joined.
    """
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


# --- writing a part ------------------------------------------------------------------

def _add_video_stream(container, info: "FilmInfo"):
    """Add the H.264 stream every part is written with (the same settings, so parts join)."""
    stream = container.add_stream("libx264", rate=info.rate)
    stream.width, stream.height = info.width, info.height
    # yuv420p is what ordinary players decode; x264 needs even sides for it.
    even = info.width % 2 == 0 and info.height % 2 == 0
    stream.pix_fmt = "yuv420p" if even else "yuv444p"
    stream.time_base = stream.codec_context.time_base = info.time_base   # the input's: its frames' own times
    stream.options = {"crf": str(FILM_CRF), "preset": FILM_PRESET, "tune": FILM_TUNE, "bf": "0",
                      "chromaoffset": str(FILM_CHROMA_QP_OFFSET)}
    return stream


def write_part(path: Path, frames: Iterable[TimedFrame], colour: Callable, info: "FilmInfo",
               batch_size: int, advance: Progress) -> int:
    """Encode the `frames` coloured by `colour` (RGB list -> RGB list) into the H.264 file `path`; return how many."""
    import av

    count, durations = 0, {}   # x264 times its packets by the rate: each gets its frame's own duration
    with av.open(str(path), "w", format="mp4") as container:
        stream = _add_video_stream(container, info)

        def mux(packets) -> None:
            for packet in packets:
                packet.duration = durations.pop(packet.pts, packet.duration)
                container.mux(packet)

        for batch in batched(frames, batch_size):
            for timed, rgb in zip(batch, colour([timed.rgb for timed in batch])):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts, frame.time_base = timed.pts, info.time_base
                durations[timed.pts] = timed.duration
                count += 1
                mux(stream.encode(frame))
            advance(len(batch))
        mux(stream.encode(None))
    return count


def even_frames(frames: Iterable[np.ndarray], info: "FilmInfo") -> Iterator[TimedFrame]:
    """Return frames timed one after another at the film's average rate (films made here, not read)."""
    step = max(1, round(1 / (info.rate * info.time_base)))
    return (TimedFrame(rgb, index * step, step) for index, rgb in enumerate(frames))


# --- joining the parts and the sound ------------------------------------------------

def _video_packets(parts: Sequence[Path], stream) -> Iterator[tuple[Fraction, object]]:
    """Yield (seconds, packet) of every part's frames, each at its own time."""
    import av

    for part in parts:
        with av.open(str(part)) as container:
            for packet in container.demux(container.streams.video[0]):
                if packet.size == 0 or packet.pts is None:
                    continue
                packet.dts = packet.pts   # no B-frames: decode order is display order
                packet.stream = stream
                yield packet.pts * packet.time_base, packet


def parts_end(parts: Sequence[Path]) -> Fraction:
    """Return when the last part's last frame ends, in seconds from the film's first frame."""
    import av

    with av.open(str(parts[-1])) as container:
        ends = [(packet.pts + (packet.duration or 0)) * packet.time_base
                for packet in container.demux(container.streams.video[0]) if packet.pts is not None]
    return max(ends, default=Fraction(0))


class _Sound(NamedTuple):
    stream: object               # the output's stream
    resampler: object | None     # None: packets copied; else decoded, resampled and encoded (AAC)


def _add_sounds(output, source, notify: Notify | None, name: str) -> dict[int, _Sound]:
    """Add an output stream for each sound stream of `source`: a copy when the container holds its codec, else AAC."""
    import av

    sounds = {}
    for template in source.streams.audio:
        codec = template.codec_context.codec.canonical_name
        if codec in output.supported_codecs:
            sounds[template.index] = _Sound(output.add_stream_from_template(template), None)
            continue
        if notify:
            notify(f"The sound of {name} ({codec}) cannot go into {output.format.name}: it is re-encoded as AAC.")
        stream = output.add_stream("aac", rate=template.codec_context.sample_rate)
        stream.layout = "stereo" if template.codec_context.layout.nb_channels > 1 else "mono"
        sounds[template.index] = _Sound(stream, av.AudioResampler(format="fltp", layout=stream.layout,
                                                                 rate=stream.sample_rate))
    return sounds


def _sound_packets(source, sounds: dict[int, _Sound], end: Fraction | None) -> Iterator[tuple[Fraction, object]]:
    """Yield (seconds, packet) of every sound stream, timed from the first video frame, up to `end` seconds."""
    video = source.streams.video[0]
    start = video.start_time * video.time_base if video.start_time is not None else Fraction(0)
    ended: set[int] = set()   # streams past `end`
    for packet in source.demux(*source.streams.audio):
        index, time_base = packet.stream.index, packet.stream.time_base
        sound = sounds[index]
        if index in ended:
            pass
        elif sound.resampler is not None:
            if (yield from _encoded(sound, packet.decode(), end, start)):
                ended.add(index)
        elif packet.size and packet.pts is not None:
            seconds = packet.pts * time_base - start
            if end is not None and seconds >= end:
                ended.add(index)
                continue
            offset = round(start / time_base)
            packet.pts -= offset
            packet.dts = packet.pts if packet.dts is None else packet.dts - offset
            packet.stream = sound.stream
            yield seconds, packet
        if len(ended) == len(sounds):
            break
    for sound in sounds.values():   # flush the encoders
        if sound.resampler is not None:
            yield from ((packet.pts * packet.time_base, packet) for packet in sound.stream.encode(None))


def _encoded(sound: _Sound, frames, end: Fraction | None, start: Fraction):
    """Yield (seconds, packet) of decoded sound `frames` encoded as AAC; return True once past `end`."""
    for frame in frames:
        if end is not None and frame.time is not None and frame.time - start >= end:
            return True
        for resampled in sound.resampler.resample(frame):
            for packet in sound.stream.encode(resampled):
                yield packet.pts * packet.time_base, packet
    return False


def join_parts(job: "FilmJob", parts: Sequence[Path], source, broken: bool, notify: Notify | None = None) -> Path:
    """Write the finished film: the parts' frames and the sound of `source` (the open input), to job.target."""
    import av

    from colorize.training.runfolder import write_atomically

    def write(temporary: Path) -> None:
        with av.open(str(temporary), "w", format=CONTAINER_FORMATS[job.target.suffix.lower()]) as output, \
                av.open(str(parts[0])) as first:
            video = output.add_stream_from_template(first.streams.video[0])
            video.time_base = job.info.time_base
            video.codec_context.framerate = job.info.rate   # what Matroska declares (MP4 counts it)
            if job.info.rotation:
                video.set_display_rotation(job.info.rotation)
            streams = [_video_packets(parts, video)]
            if source.streams.audio:
                sounds = _add_sounds(output, source, notify, job.entry.path)
                streams.append(_sound_packets(source, sounds, parts_end(parts) if broken else None))
            for _, packet in heapq.merge(*streams, key=lambda item: item[0]):
                output.mux(packet)

    return write_atomically(job.target, write, action="write the film")
