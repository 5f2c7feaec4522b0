"""Films (issue 28): real films made here with PyAV, coloured by `python -m colorize predict` with a tiny model."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import mux_sound, run_colorize, save_image

import av  # noqa: E402  a dependency (pyproject.toml): missing, the tests must fail, not skip

WIDTH, HEIGHT, RATE = 64, 48, 12


def moving_frames(count: int, width: int = WIDTH, height: int = HEIGHT, cut_at: int | None = None) -> list[np.ndarray]:
    """Return `count` gray RGB frames of a panning pattern (a different pattern after `cut_at`)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = []
    for index in range(count):
        phase = 0.9 if cut_at is not None and index >= cut_at else 0.2
        gray = 127 + 100 * np.sin(phase * (x + index) / 3.0) * np.cos(phase * y / 4.0)
        frames.append(np.repeat(gray.astype(np.uint8)[..., None], 3, axis=2))
    return frames


def write_film(path: Path, frames: list[np.ndarray], rate: int = RATE, sound: bool = True,
               video_codec: str = "libx264", audio_codec: str = "aac") -> Path:
    """Write `frames` as a film (format from the suffix) with a 440 Hz tone as its sound."""
    with av.open(str(path), "w") as container:
        video = container.add_stream(video_codec, rate=rate)
        video.width, video.height, video.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        audio = container.add_stream(audio_codec, rate=8000) if sound else None
        if audio is not None:
            audio.layout = "mono"
        for frame in frames:
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode(None))
        if audio is not None:
            samples = int(8000 * len(frames) / rate)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 8000)).astype(np.float32)
            sample_format = "s16" if audio_codec.startswith("pcm") else "fltp"
            if sample_format == "s16":
                tone = (tone * 32767).astype(np.int16)
            mux_sound(container, audio, tone, 8000, sample_format)
    return path


def film_facts(path: Path) -> dict:
    """Return what must survive colouring: frames, rate, size, pixel format, and the sound's packets."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        facts = {"rate": video.average_rate, "size": (video.codec_context.width, video.codec_context.height),
                 "codec": video.codec_context.name, "pix_fmt": video.codec_context.pix_fmt}
        facts["frames"] = sum(1 for _ in container.decode(video))
    with av.open(str(path)) as container:
        sound = hashlib.sha1()
        if container.streams.audio:
            for packet in container.demux(container.streams.audio[0]):
                sound.update(bytes(packet))
        facts["sound"] = sound.hexdigest() if container.streams.audio else None
    return facts


def mean_chroma(path: Path) -> float:
    """Return the mean |a| + |b| of a film's frames (0 for gray)."""
    from colorize.dataset import color

    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return float(np.mean([np.abs(color.rgb_to_lab(frame)[..., 1:]).mean() for frame in frames]))


def predict(model: Path, source: Path, output: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return run_colorize("predict", "--model", str(model), "--input", str(source), "--output", str(output),
                        timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and text in errors[0], result.stderr


# --- end to end ---------------------------------------------------------------------

def test_a_film_keeps_its_frames_rate_size_and_sound(tmp_path, tiny_model_file):
    film = write_film(tmp_path / "home movie.mp4", moving_frames(30))
    before = film.read_bytes()
    result = predict(tiny_model_file, film, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "Colourised 1 film into" in result.stdout
    assert "images/s" in result.stderr and "30/30" in result.stderr   # the progress bar counts frames
    coloured = tmp_path / "out" / "home movie.mp4"
    facts, original = film_facts(coloured), film_facts(film)
    assert facts == {**original, "codec": "h264", "pix_fmt": "yuv420p"}
    assert facts["sound"] is not None
    assert mean_chroma(coloured) > mean_chroma(film) + 0.2
    assert film.read_bytes() == before
    assert not list((tmp_path / "out").glob(".*"))   # the parts folder is gone
    again = predict(tiny_model_file, film, tmp_path / "out")
    assert again.returncode == 0 and "already had a result there" in again.stdout


def test_a_folder_and_a_zip_with_films_beside_photos(tmp_path, tiny_model_file):
    folder = tmp_path / "box"
    write_film(folder.mkdir() or folder / "reel.avi", moving_frames(12), video_codec="mpeg4",
               audio_codec="pcm_s16le")
    write_film(folder / "clip.mkv", moving_frames(12), sound=False)
    save_image(folder / "photo.png", moving_frames(1)[0])
    (folder / "notes.txt").write_text("hello")
    result = predict(tiny_model_file, folder, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "Colourised 1 photo and 2 films" in result.stdout
    written = {path.name for path in (tmp_path / "out").iterdir()}
    assert {"clip.mkv", "photo.png", "reel.mp4"} <= written   # avi is no place for H.264: .mp4
    assert not {"reel.avi", "notes.txt"} & written
    reel = film_facts(tmp_path / "out" / "reel.mp4")
    assert reel["frames"] == 12 and reel["sound"] == film_facts(folder / "reel.avi")["sound"]
    assert film_facts(tmp_path / "out" / "clip.mkv")["sound"] is None

    archive = tmp_path / "box.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name in ("reel.avi", "photo.png"):
            bundle.write(folder / name, f"inner/{name}")
    result = predict(tiny_model_file, archive, tmp_path / "zipped")
    assert result.returncode == 0, result.stderr
    assert film_facts(tmp_path / "zipped" / "inner" / "reel.mp4")["frames"] == 12


def test_scan_tells_films_by_name_without_opening_them(tmp_path):
    from colorize.dataset import scan_dataset

    (tmp_path / "reel.mp4").write_bytes(b"not opened by a scan")
    (tmp_path / "empty.mov").write_bytes(b"")
    found = {entry.path: entry for entry in scan_dataset(tmp_path).files}
    assert found["reel.mp4"].status == "film"
    assert found["empty.mov"].status == "not_image"


# --- bad films ------------------------------------------------------------------------

def _no_video(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        audio = container.add_stream("aac", rate=8000)
        audio.layout = "mono"
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        chunk.sample_rate, chunk.pts = 8000, 0
        container.mux(audio.encode(chunk))
        container.mux(audio.encode(None))
    return path


def _huge(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=1, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = 7700, 4400, "yuv420p"
        container.mux(video.encode(av.VideoFrame.from_ndarray(np.zeros((4400, 7700, 3), np.uint8), format="rgb24")))
        container.mux(video.encode(None))
    return path


def _no_frames(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=12)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        container.start_encoding()
        container.mux(video.encode(None))
    return path


def _truncated(path: Path) -> Path:
    whole = write_film(path.with_name("whole.mp4"), moving_frames(12)).read_bytes()
    path.write_bytes(whole[: len(whole) // 2])   # mp4 keeps its index at the end: nothing is readable
    whole_path = path.with_name("whole.mp4")
    whole_path.unlink()
    return path


@pytest.mark.parametrize("name, make, says", [
    ("junk.mp4", lambda path: path.write_bytes(b"hello world " * 100) and path, "Cannot read the film junk.mp4"),
    ("tone.mp4", _no_video, "tone.mp4 holds no video stream"),
    ("nothing.mp4", _no_frames, "nothing.mp4 holds no"),
    ("huge.mp4", _huge, "7700x4400 pixels"),
    ("cut.mp4", _truncated, "Cannot read the film cut.mp4"),
])
def test_a_bad_film_is_one_line_and_nothing_is_written(tmp_path, tiny_model_file, name, make, says):
    film = make(tmp_path / name) or tmp_path / name
    before = film.read_bytes()
    result = predict(tiny_model_file, film, tmp_path / "out")
    assert_one_line_error(result, says)
    assert film.read_bytes() == before
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_film_that_breaks_part_way_keeps_what_was_read(tmp_path, tiny_model_file):
    whole = write_film(tmp_path / "whole.mkv", moving_frames(60)).read_bytes()
    film = tmp_path / "broken.mkv"
    film.write_bytes(whole[: len(whole) * 2 // 3])   # Matroska streams: the start stays readable
    result = predict(tiny_model_file, film, tmp_path / "out")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "broken.mkv stopped being readable after frame" in result.stdout
    kept = film_facts(tmp_path / "out" / "broken.mkv")
    assert 10 < kept["frames"] < 60 and kept["sound"] is not None


# --- a killed run continues ------------------------------------------------------------

@pytest.mark.slow
def test_a_killed_film_continues_from_its_finished_parts(tmp_path, tiny_model_file):
    from colorize.constants import FILM_SEGMENT_FRAMES

    film = write_film(tmp_path / "long.mp4", moving_frames(FILM_SEGMENT_FRAMES * 2 + 30, cut_at=300))
    output = tmp_path / "out"
    command = [sys.executable, "-m", "colorize", "predict", "--model", str(tiny_model_file),
               "--input", str(film), "--output", str(output)]
    process = subprocess.Popen(command, env=dict(os.environ, NO_COLOR="1"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    parts = output / ".long.mp4.parts"
    deadline = time.monotonic() + 300
    while not (parts / "part-000000.mp4").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (parts / "part-000000.mp4").exists() and not (output / "long.mp4").exists()

    resumed = predict(tiny_model_file, film, output)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{FILM_SEGMENT_FRAMES}/{FILM_SEGMENT_FRAMES * 2 + 30}" in resumed.stderr   # started after part 1
    assert not parts.exists()
    straight = predict(tiny_model_file, film, tmp_path / "straight")
    assert straight.returncode == 0
    # The steady-colour state was saved with the part, so the frames equal an uninterrupted run's.
    assert film_facts(output / "long.mp4") == film_facts(tmp_path / "straight" / "long.mp4")
    with av.open(str(output / "long.mp4")) as one, av.open(str(tmp_path / "straight" / "long.mp4")) as two:
        for first, second in zip(one.decode(video=0), two.decode(video=0)):
            assert np.array_equal(first.to_ndarray(format="rgb24"), second.to_ndarray(format="rgb24"))


# --- steady colour (no model) ----------------------------------------------------------------

def test_steady_chroma_calms_flicker_follows_a_pan_and_restarts_at_a_cut():
    from colorize.inference.steady import SteadyChroma, global_shift, shifted

    from PIL import Image

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:48, 0:64].astype(np.float32)
    blobs = Image.fromarray((rng.random((12, 16)) * 100).astype(np.float32)).resize((64, 48))
    scene = np.asarray(blobs, dtype=np.float32)   # a textured L, as a photo's is
    assert global_shift(scene, shifted(scene, 2, -3)) == (2, -3)

    steady = SteadyChroma()
    truth = np.stack([x / 4.0, -y / 4.0], axis=-1).astype(np.float32)
    raw_changes, steady_changes, previous_raw, previous_steady = [], [], None, None
    for _ in range(20):   # a still shot: the model's ab jitters around the truth
        raw = truth + rng.normal(0, 3, truth.shape).astype(np.float32)
        smooth = steady.step(scene, raw)
        if previous_raw is not None:
            raw_changes.append(np.abs(raw - previous_raw).mean())
            steady_changes.append(np.abs(smooth - previous_steady).mean())
        previous_raw, previous_steady = raw, smooth
    assert np.mean(steady_changes) < 0.5 * np.mean(raw_changes)
    assert steady.cuts == 0

    other = np.full_like(scene, 90.0)   # a hard cut to a bright shot: its own colour at once
    new_ab = np.full_like(truth, 20.0)
    assert np.array_equal(steady.step(other, new_ab), new_ab) and steady.cuts == 1


def test_frame_rate_fractions_survive(tmp_path, tiny_model_file):
    film = tmp_path / "ntsc.mov"
    with av.open(str(film), "w") as container:
        video = container.add_stream("libx264", rate=Fraction(30000, 1001))
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for frame in moving_frames(15):
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode(None))
    result = predict(tiny_model_file, film, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    facts = film_facts(tmp_path / "out" / "ntsc.mov")
    assert facts["rate"] == Fraction(30000, 1001) and facts["frames"] == 15


def test_the_wizard_colours_a_film(tmp_path, tiny_model_file):
    film = write_film(tmp_path / "reel.mov", moving_frames(12))
    stdin = "".join(f"{line}\n" for line in ("2", str(tiny_model_file), str(film), "", str(tmp_path / "out"), "q"))
    result = run_colorize(stdin=stdin, env={"COLORIZE_OUTPUT": str(tmp_path / "OUTPUT")})
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert "an image, a film, a folder" in result.stdout
    assert "Colourised 1 film into" in result.stdout
    assert film_facts(tmp_path / "out" / "reel.mov")["frames"] == 12


def test_evaluate_scores_a_colour_film_and_its_flicker(tmp_path, tiny_model_file):
    import json

    from conftest import colorful_image

    frames = [np.roll(colorful_image(WIDTH, HEIGHT, seed=1), step, axis=1) for step in range(16)]
    frames += [colorful_image(WIDTH, HEIGHT, seed=5)] * 8   # a hard cut to a still shot
    film = write_film(tmp_path / "colour.mp4", frames)
    before = film.read_bytes()
    result = run_colorize("evaluate", "--model", str(tiny_model_file), "--data", str(film),
                          "--output", str(tmp_path / "runs"), "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["images"] == figures["frames"] == 24
    assert figures["psnr"] > 0 and figures["gray_baseline"]["colorfulness"] == 0.0
    assert 0.0 <= figures["flicker"] < figures["flicker_truth"]   # the pan moves the truth's colours
    assert film.read_bytes() == before
    shown = run_colorize("evaluate", "--model", str(tiny_model_file), "--data", str(film),
                         "--output", str(tmp_path / "runs"))
    assert "On 24 frames the model scored" in shown.stdout and "Flicker:" in shown.stdout


def test_a_sound_the_new_container_cannot_hold_is_re_encoded_and_said(tmp_path, tiny_model_file):
    film = write_film(tmp_path / "old.avi", moving_frames(12), video_codec="mpeg4", audio_codec="pcm_mulaw")
    result = predict(tiny_model_file, film, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "The sound of old.avi (pcm_mulaw) cannot go into mp4: it is re-encoded as AAC." in result.stdout
    with av.open(str(tmp_path / "out" / "old.mp4")) as coloured:
        assert coloured.streams.audio[0].codec_context.name == "aac"
        assert abs(float(coloured.streams.audio[0].duration * coloured.streams.audio[0].time_base) - 1.0) < 0.2


def test_parts_begun_from_another_film_of_the_same_name_are_not_joined(tmp_path, tiny_model_file):
    from colorize.dataset import ScannedFile
    from colorize.inference import film as films, film_parts
    from colorize.inference.colorizer import Colorizer

    (tmp_path / "a").mkdir()
    first = write_film(tmp_path / "a" / "reel.mp4", moving_frames(12))
    job = films.plan_films([ScannedFile("reel.mp4", str(first), None, "film")]).ready[0]
    job.target = tmp_path / "out" / "reel.mp4"
    colorizer = Colorizer.from_path(tiny_model_file)
    films.colour_parts(colorizer, job, 1.0, 4, lambda frames: None)   # as if killed before the join
    assert len(film_parts.finished_parts(film_parts.parts_folder(job.target))) == 1

    second = write_film(tmp_path / "reel.mp4", moving_frames(8))      # the film was replaced since
    result = predict(tiny_model_file, second, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert film_facts(tmp_path / "out" / "reel.mp4")["frames"] == 8   # not the first film's 12


def test_a_phone_films_rotation_is_kept(tmp_path, tiny_model_file):
    film = tmp_path / "phone.mp4"
    with av.open(str(film), "w") as container:
        video = container.add_stream("libx264", rate=RATE)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.set_display_rotation(90)   # players show it upright, turned a quarter
        for frame in moving_frames(6):
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode(None))
    result = predict(tiny_model_file, film, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    with av.open(str(tmp_path / "out" / "phone.mp4")) as coloured:
        first = next(coloured.decode(video=0))
        assert (first.rotation, first.width, first.height) == (90, WIDTH, HEIGHT)
