"""Films (issue 28): a film's own frame times (variable frame rate) and every sound stream survive colouring."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import mux_sound
from test_film import HEIGHT, WIDTH, moving_frames, predict

import av  # noqa: E402  a dependency (pyproject.toml): missing, the tests must fail, not skip

# Frame times in ms: irregular, as a phone's or a screen recording's are.
TIMES_MS = (0, 40, 120, 130, 250, 300, 500, 520, 600, 700, 1000, 1033)


def write_variable_rate_film(path: Path, tones: tuple[int, ...] = (440, 660)) -> Path:
    """Write TIMES_MS frames (time base 1/1000, the last lasting 40 ms) with one sound stream per tone."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=12, options={"bf": "0"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.codec_context.time_base = Fraction(1, 1000)
        sounds = [container.add_stream("aac", rate=8000) for _ in tones]
        for sound in sounds:
            sound.layout = "mono"
        lasting = dict(zip(TIMES_MS, np.diff(TIMES_MS + (TIMES_MS[-1] + 40,)).tolist()))

        def mux(packets) -> None:   # x264 would time every packet at the rate: give each its own duration
            for packet in packets:
                packet.duration = lasting[packet.pts]
                container.mux(packet)

        for time, frame in zip(TIMES_MS, moving_frames(len(TIMES_MS))):
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts, picture.time_base = time, Fraction(1, 1000)
            mux(video.encode(picture))
        mux(video.encode(None))
        samples = 8000 * (TIMES_MS[-1] + 40) // 1000
        for sound, tone in zip(sounds, tones):
            mux_sound(container, sound, (0.3 * np.sin(2 * np.pi * tone * np.arange(samples) / 8000)).astype(np.float32),
                      8000)
    return path


def timing(path: Path) -> dict:
    """Return each frame's start and duration in seconds, the frame count, rate and size, and each sound's hash."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        packets = [packet for packet in container.demux(video) if packet.size]
        facts = {"times": [packet.pts * packet.time_base for packet in packets],
                 "durations": [packet.duration * packet.time_base for packet in packets],
                 "rate": video.average_rate, "size": (video.codec_context.width, video.codec_context.height)}
    with av.open(str(path)) as container:
        facts["frames"] = sum(1 for _ in container.decode(video=0))
    with av.open(str(path)) as container:
        hashes = {stream.index: hashlib.sha1() for stream in container.streams.audio}
        for packet in container.demux(*container.streams.audio):
            hashes[packet.stream.index].update(bytes(packet))
        facts["sounds"] = [digest.hexdigest() for digest in hashes.values()]
    return facts


@pytest.mark.parametrize("name", ["vfr.mp4", "vfr.mkv"])
def test_a_variable_rate_film_keeps_its_frame_times_and_every_sound_stream(tmp_path, tiny_model_file, name):
    film = write_variable_rate_film(tmp_path / name)
    before = timing(film)
    assert len(set(before["durations"])) > 3 and before["durations"][-1] == Fraction(40, 1000)   # really variable
    assert len(before["sounds"]) == 2 and before["sounds"][0] != before["sounds"][1]
    result = predict(tiny_model_file, film, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    after = timing(tmp_path / "out" / name)
    assert after["frames"] == before["frames"] == len(TIMES_MS)
    assert after["times"] == before["times"]
    assert after["durations"] == before["durations"]
    assert after["rate"] == before["rate"] and after["size"] == before["size"] == (WIDTH, HEIGHT)
    assert after["sounds"] == before["sounds"]   # both streams, packet for packet
