"""Read any audio file into mono 16-bit samples at the model's rate.

Formats libsndfile reads (WAV, FLAC, OGG/Vorbis, Opus, MP3 with libsndfile >= 1.1) are decoded with
soundfile; anything else (M4A/AAC, video containers, ...) by an `ffmpeg` subprocess that writes raw
float32 PCM to a pipe, so no temporary file is ever written. Both paths are streamed in blocks:
channels are averaged to mono, then resampled with soxr (a band-limited high-quality resampler), then
rounded to int16 with clipping. Streaming keeps memory at the size of the int16 result even for hours
of 44.1 kHz stereo.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import numpy as np

from ..common.errors import UserError

log = logging.getLogger(__name__)

BLOCK_FRAMES = 1 << 18  # input frames decoded per block (~6 s at 44.1 kHz)


def load_audio(path: str | Path, rate: int = 16000) -> np.ndarray:
    """Return the audio of `path` as mono int16 samples at `rate` Hz.

    Raises UserError (naming the file) when it is missing, unreadable, corrupt or holds no samples.
    """
    path = Path(path)
    if rate <= 0:
        raise UserError(f"invalid sample rate {rate} for {path}: it must be a positive number of Hz")
    if not path.exists():
        raise UserError(f"audio file not found: {path}")
    if path.is_dir():
        raise UserError(f"audio path is a directory, expected a file: {path}")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise UserError(f"audio file is not readable (permission denied): {path}") from None
    if path.stat().st_size == 0:
        raise UserError(f"audio file is empty (0 bytes): {path}")

    opened = _open_soundfile(path)
    short = _wav_shortfall(path) if opened is not None else None
    if short is not None:
        log.warning("audio file %s is truncated: its header announces %d bytes of samples, the file holds %d "
                    "(a copy or a recording cut off?); aligning the part that is there", path, *short)
    if opened is not None:
        source_rate, blocks = opened
        how = "soundfile"
    else:
        source_rate, blocks = _open_ffmpeg(path)
        how = "ffmpeg"
    samples = _convert(blocks, source_rate, rate, path)
    if samples.size == 0:
        raise UserError(f"audio file contains no samples: {path}")
    log.debug("read %s with %s: %d Hz -> %d samples at %d Hz", path, how, source_rate, samples.size, rate)
    return samples


def _open_soundfile(path: Path) -> tuple[int, Iterator[np.ndarray]] | None:
    """(rate, block iterator) if libsndfile can read the file, else None."""
    import soundfile as sf

    try:
        f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None

    def blocks() -> Iterator[np.ndarray]:
        with f:
            while True:
                block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
                if len(block) == 0:
                    return
                yield block

    return f.samplerate, blocks()


# Sizes that recorders write into a WAV header they never finish (streamed or crashed recordings):
# placeholders, not claims about the data.
_WAV_SIZE_PLACEHOLDERS = (0, 0x7FFFFFFF, 0xFFFFFFFF)


def _wav_shortfall(path: Path) -> tuple[int, int] | None:
    """(announced, present) bytes of a RIFF/WAVE file's sample data when the file ends before
    the size its `data` chunk announces, else None. libsndfile reads such a file up to where it
    ends without a word, so the caller says it."""
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
            size = f.seek(0, 2)
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        cid, n = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if cid == b"data":
            present = size - (pos + 8)
            if n not in _WAV_SIZE_PLACEHOLDERS and present < n:
                return n, present
            return None
        pos += 8 + n + (n & 1)
    return None


def _ffmpeg_missing(path: Path) -> UserError:
    return UserError(
        f"cannot read audio file {path}: its format needs ffmpeg, which is not installed "
        f"(install it, e.g. `apt-get install ffmpeg`, or convert the file to WAV/FLAC)"
    )


def _probe(path: Path) -> tuple[int, int]:
    """(sample rate, channels) of the first audio stream, via ffprobe."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise _ffmpeg_missing(path)
    proc = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels",
         "-of", "json", str(path)],
        stdin=subprocess.DEVNULL, capture_output=True,
    )
    streams = []
    if proc.returncode == 0:
        try:
            streams = json.loads(proc.stdout.decode("utf-8", "replace")).get("streams", [])
        except json.JSONDecodeError:
            streams = []
    if not streams:
        reason = _last_line(proc.stderr) or "no audio stream found"
        raise UserError(f"cannot read audio file {path}: not a recognised audio format ({reason})")
    try:
        return int(streams[0]["sample_rate"]), int(streams[0]["channels"])
    except (KeyError, TypeError, ValueError):
        raise UserError(f"cannot read audio file {path}: ffprobe reports no sample rate/channel count") from None


def _last_line(data: bytes) -> str:
    lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _open_ffmpeg(path: Path) -> tuple[int, Iterator[np.ndarray]]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise _ffmpeg_missing(path)
    source_rate, channels = _probe(path)
    # Native rate and channel layout: downmixing and resampling stay ours, identical for both paths.
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn",
           "-f", "f32le", "-acodec", "pcm_f32le", "-"]

    def blocks() -> Iterator[np.ndarray]:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        frame_bytes = 4 * channels
        pending = b""
        try:
            assert proc.stdout is not None
            while True:
                chunk = proc.stdout.read(BLOCK_FRAMES * frame_bytes)
                if not chunk:
                    break
                pending += chunk
                usable = len(pending) - len(pending) % frame_bytes
                if usable:
                    yield np.frombuffer(pending[:usable], dtype="<f4").reshape(-1, channels)
                    pending = pending[usable:]
        finally:
            if proc.poll() is None:
                proc.stdout.close()
            err = proc.stderr.read() if proc.stderr else b""
            rc = proc.wait()
        if rc != 0:
            raise UserError(f"cannot read audio file {path}: ffmpeg failed ({_last_line(err) or f'exit code {rc}'})")

    return source_rate, blocks()


def _convert(blocks: Iterator[np.ndarray], source_rate: int, rate: int, path: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    resampler = None if source_rate == rate else soxr.ResampleStream(source_rate, rate, 1, dtype="float32", quality="HQ")
    out: list[np.ndarray] = []
    try:
        for block in blocks:
            mono = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
            if resampler is not None:
                mono = resampler.resample_chunk(mono)
            out.append(_to_int16(mono))
        if resampler is not None:
            out.append(_to_int16(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)))
    except (sf.LibsndfileError, RuntimeError) as e:
        raise UserError(f"cannot read audio file {path}: it is damaged or truncated ({e})") from None
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)


def _to_int16(x: np.ndarray) -> np.ndarray:
    # Exact round trip for 16-bit input: soundfile scales int16 by 1/32768.
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)
