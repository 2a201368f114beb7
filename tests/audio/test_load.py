"""load_audio: formats, channel mixing, resampling (checked by the FFT peak), errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from align.audio import load as load_mod
from align.audio.load import load_audio
from align.common.errors import UserError

TONE_HZ = 1000.0


def tone(rate: int, seconds: float = 1.0, hz: float = TONE_HZ, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def peak_hz(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.argmax(spec) * rate / len(x))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_stereo_wav_any_rate_is_resampled_to_mono_16k(tmp_path, rate):
    x = tone(rate, 1.0)
    path = tmp_path / "a.wav"
    sf.write(path, np.stack([x, 0.5 * x], axis=1), rate, subtype="PCM_16")
    y = load_audio(path, 16000)
    assert y.dtype == np.int16 and y.ndim == 1
    assert abs(len(y) - 16000) <= 2
    assert abs(peak_hz(y, 16000) - TONE_HZ) <= 2.0
    # mono = mean of the channels: amplitude 0.75 * 0.5 of full scale; a proper resampler keeps it.
    inner = y[800:-800]
    assert rms(inner) == pytest.approx(0.375 * 32768 / np.sqrt(2), rel=0.01)


def test_mono_wav_at_model_rate_is_read_exactly(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(-20000, 20000, 16000, dtype=np.int16)
    path = tmp_path / "m.wav"
    sf.write(path, x, 16000, subtype="PCM_16")
    assert np.array_equal(load_audio(path, 16000), x)


def test_other_model_rates(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, tone(44100), 44100)
    for rate in (8000, 32000):
        y = load_audio(path, rate)
        assert abs(len(y) - rate) <= 2 and abs(peak_hz(y, rate) - TONE_HZ) <= 2.0


def test_antialiasing_removes_tones_above_the_new_nyquist(tmp_path):
    # 6 kHz at 44.1 kHz cannot exist at 8 kHz (Nyquist 4 kHz): a proper resampler removes it,
    # naive decimation would alias it to 2 kHz.
    path = tmp_path / "hi.wav"
    sf.write(path, tone(44100, hz=6000.0), 44100)
    y = load_audio(path, 8000)
    assert rms(y[400:-400]) < 0.001 * 32768


def test_clipping_not_wrapping(tmp_path):
    path = tmp_path / "loud.wav"
    sf.write(path, np.array([1.5, -1.5, 0.25] * 100, dtype=np.float32), 16000, subtype="FLOAT")
    y = load_audio(path, 16000)
    assert y[0] == 32767 and y[1] == -32768 and y[2] == 8192


@pytest.mark.parametrize("fmt,ext", [("FLAC", "flac"), ("OGG", "ogg")])
def test_flac_and_ogg(tmp_path, fmt, ext):
    path = tmp_path / f"a.{ext}"
    sf.write(path, tone(44100, 1.0), 44100, format=fmt)
    y = load_audio(path, 16000)
    assert abs(len(y) - 16000) <= 2 and abs(peak_hz(y, 16000) - TONE_HZ) <= 2.0


needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed (apt-get install ffmpeg)")


def ffmpeg_encode(src: Path, dst: Path) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), str(dst)], check=True)
    return dst


@needs_ffmpeg
@pytest.mark.parametrize("ext", ["mp3", "m4a"])
def test_compressed_formats(tmp_path, ext):
    wav = tmp_path / "a.wav"
    sf.write(wav, np.stack([tone(44100, 2.0)] * 2, axis=1), 44100)
    y = load_audio(ffmpeg_encode(wav, tmp_path / f"a.{ext}"), 16000)
    # Encoders add priming/padding: length within 100 ms.
    assert abs(len(y) - 32000) <= 1600
    assert abs(peak_hz(y, 16000) - TONE_HZ) <= 2.0


@needs_ffmpeg
def test_ffmpeg_path_matches_soundfile_path(tmp_path):
    # The same PCM through both decoders must give the same samples (same mixing and resampler).
    rng = np.random.default_rng(1)
    x = rng.normal(0, 0.1, (22050, 2)).astype(np.float32)
    path = tmp_path / "n.wav"
    sf.write(path, x, 22050, subtype="PCM_16")
    rate, blocks = load_mod._open_ffmpeg(path)
    via_ffmpeg = load_mod._convert(blocks, rate, 16000, path)
    assert np.array_equal(via_ffmpeg, load_audio(path, 16000))


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found: .*nothere.wav"):
        load_audio(tmp_path / "nothere.wav")


def test_directory(tmp_path):
    with pytest.raises(UserError, match="directory"):
        load_audio(tmp_path)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(UserError, match="empty.*empty.wav"):
        load_audio(p)


def test_wav_without_samples(tmp_path):
    p = tmp_path / "zero.wav"
    sf.write(p, np.zeros(0, dtype=np.int16), 16000)
    with pytest.raises(UserError, match="no samples.*zero.wav"):
        load_audio(p)


def test_corrupt_file(tmp_path):
    p = tmp_path / "junk.wav"
    p.write_bytes(np.random.default_rng(2).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(UserError, match="junk.wav"):
        load_audio(p)


def test_truncated_flac(tmp_path):
    p = tmp_path / "t.flac"
    sf.write(p, np.random.default_rng(3).normal(0, 0.1, 48000).astype(np.float32), 16000, format="FLAC")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    # Either a clear error or the readable first part; never a crash or an empty result.
    try:
        y = load_audio(p, 16000)
    except UserError as e:
        assert "t.flac" in str(e)
    else:
        assert 0 < len(y) <= 48000


def test_missing_ffmpeg_is_named(tmp_path, monkeypatch):
    p = tmp_path / "a.m4a"
    p.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(64))  # not readable by libsndfile
    monkeypatch.setattr(load_mod.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="ffmpeg.*install"):
        load_audio(p)


def test_truncated_wav_is_read_and_said(tmp_path, caplog):
    """A WAV cut off after its header (an interrupted copy): the part that is there is read, and a
    warning names the file and how much of the announced data is missing. A complete file and
    one whose header holds a never-finished placeholder size say nothing."""
    x = (tone(16000, 2.0) * 32767).astype(np.int16)
    whole = tmp_path / "whole.wav"
    sf.write(whole, x, 16000, subtype="PCM_16")
    data = whole.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[:44 + 16000])          # 0.5 s of the 2 s announced
    with caplog.at_level("WARNING", logger="align.audio.load"):
        y = load_audio(cut, 16000)
    assert len(y) == 8000 and np.array_equal(y, x[:8000])
    msgs = [r.getMessage() for r in caplog.records]
    assert any("cut.wav is truncated" in m and "64000 bytes" in m and "16000" in m for m in msgs), msgs
    caplog.clear()
    streamed = tmp_path / "streamed.wav"
    hdr = bytearray(data[:44 + 16000])
    hdr[40:44] = (0xFFFFFFFF).to_bytes(4, "little")    # a recorder that never wrote the size
    streamed.write_bytes(bytes(hdr))
    with caplog.at_level("WARNING", logger="align.audio.load"):
        load_audio(whole, 16000)
        load_audio(streamed, 16000)
    assert not [r for r in caplog.records if "truncated" in r.getMessage()]
