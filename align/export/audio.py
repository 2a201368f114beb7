"""Decode a source recording once, then cut utterances out of it sample-exactly.

When the source already has the export rate and is an exactly seekable container (WAV, FLAC,
AIFF, ...), each clip is read where it lies, as int16, unconverted (a cut equals the source slice,
sample for sample, and memory does not grow with the recording). Otherwise the source is decoded
once into int16 frames at the export format, resampled in a stream with soxr. Files libsndfile cannot read
(M4A, video containers, MP3 on old libsndfile) are decoded by an ffmpeg pipe.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.errors import MissingDependencyError, UserError

FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16")}
BLOCK = 1 << 18
# An utterance may end this far past the audio end (VAD frame rounding) and is then cut at the end.
END_SLACK_MS = 50.0
# Containers whose seek is sample-exact in libsndfile (compressed MP3/Vorbis/Opus are decoded whole).
SEEKABLE = frozenset({"WAV", "WAVEX", "FLAC", "AIFF", "W64", "RF64", "CAF", "AU"})


@dataclass(frozen=True)
class AudioFormat:
    rate: int = 16000
    channels: int = 1
    format: str = "wav"     # wav | flac

    @property
    def ext(self) -> str:
        return self.format


def _map_channels(block: np.ndarray, channels: int, path: Path) -> np.ndarray:
    have = block.shape[1]
    if have == channels:
        return block
    if channels == 1:
        if block.dtype == np.int16:
            return np.rint(block.astype(np.int32).mean(axis=1, keepdims=True)).astype(np.int16)
        if have == 2:   # the common case, without numpy's generic reduction
            return ((block[:, 0] + block[:, 1]) * np.float32(0.5))[:, None]
        return block.mean(axis=1, keepdims=True, dtype=np.float32)
    if have == 1:
        return np.repeat(block, channels, axis=1)
    raise UserError(f"{path}: cannot turn {have} channels into {channels}; use --channels 1 or --channels {have}")


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)


def decode(path: str | Path, fmt: AudioFormat) -> np.ndarray:
    """All frames of `path` as int16, shape (frames, fmt.channels), at fmt.rate."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise UserError(f"audio file not found: {path}")
    try:
        f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return _decode_ffmpeg(path, fmt)
    with f:
        if f.samplerate == fmt.rate:
            data = f.read(dtype="int16", always_2d=True)
            return np.ascontiguousarray(_map_channels(data, fmt.channels, path))
        import soxr

        rs = soxr.ResampleStream(f.samplerate, fmt.rate, fmt.channels, dtype="float32", quality="HQ")
        out: list[np.ndarray] = []
        while True:
            block = f.read(BLOCK, dtype="float32", always_2d=True)
            last = len(block) < BLOCK
            block = _map_channels(block, fmt.channels, path)
            out.append(_to_int16(rs.resample_chunk(np.ascontiguousarray(block), last=last).reshape(-1, fmt.channels)))
            if last:
                break
    return np.concatenate(out) if out else np.zeros((0, fmt.channels), np.int16)


def _decode_ffmpeg(path: Path, fmt: AudioFormat) -> np.ndarray:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise MissingDependencyError(f"decoding {path} (a format libsndfile cannot read)", "apt-get install ffmpeg")
    cmd = [exe, "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-acodec", "pcm_s16le",
           "-ac", str(fmt.channels), "-ar", str(fmt.rate), "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(f"{path}: cannot decode audio: {msg[-1] if msg else 'ffmpeg failed'}")
    data = np.frombuffer(proc.stdout, dtype="<i2")
    return data[: len(data) // fmt.channels * fmt.channels].reshape(-1, fmt.channels).copy()


def frame_range(start_ms: float, end_ms: float, rate: int) -> tuple[int, int]:
    """First and end (exclusive) frame of [start, end) ms: both rounded, so the length is within one sample."""
    return int(round(start_ms * rate / 1000.0)), int(round(end_ms * rate / 1000.0))


class Source:
    """Frames of a source at the export format: `len(source)` and `source[a:b]` (int16, (frames, channels))."""

    def __init__(self, path: str | Path, fmt: AudioFormat):
        import soundfile as sf

        self.path, self.fmt = Path(path), fmt
        self._file = None
        self._array: np.ndarray | None = None
        if not self.path.is_file():
            raise UserError(f"audio file not found: {self.path}")
        try:
            f = sf.SoundFile(str(self.path))
        except (sf.LibsndfileError, RuntimeError, TypeError):
            f = None
        if f is not None and f.samplerate == fmt.rate and f.seekable() and f.format in SEEKABLE:
            # Same rate, exactly seekable container: read each clip where it lies (no full decode,
            # memory independent of the recording's length).
            self._file = f
            self._n = f.frames
        else:
            if f is not None:
                f.close()
            self._array = decode(self.path, fmt)
            self._n = len(self._array)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, sl: slice) -> np.ndarray:
        a, b = sl.start, min(sl.stop, self._n)
        if self._array is not None:
            return self._array[a:b]
        assert self._file is not None
        self._file.seek(a)
        data = self._file.read(b - a, dtype="int16", always_2d=True)
        return np.ascontiguousarray(_map_channels(data, self.fmt.channels, self.path))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def cut(audio, start_ms: float, end_ms: float, rate: int) -> np.ndarray | None:
    """The frames of one utterance (from an array or a Source), or None when it lies outside the audio."""
    a, b = frame_range(start_ms, end_ms, rate)
    n = len(audio)
    if a < 0 or b <= a or a >= n or b > n + int(round(END_SLACK_MS * rate / 1000.0)):
        return None
    return audio[a:min(b, n)]


def encode(frames: np.ndarray, fmt: AudioFormat) -> bytes:
    """A complete WAV/FLAC file whose header states the rate and channels of `frames`."""
    import soundfile as sf

    container, subtype = FORMATS[fmt.format]
    buf = io.BytesIO()
    sf.write(buf, frames, fmt.rate, format=container, subtype=subtype)
    return buf.getvalue()
