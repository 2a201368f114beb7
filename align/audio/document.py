"""One document's audio, decoded once and front-ended once for all the stages that read it.

Speech-to-text, the second pass, edge trimming and word timings each need the samples at the
model's rate, and the first three the same noise-suppressed signal. Decoding a long MP3 with
ffmpeg and filtering hours of noisy audio take seconds to minutes each, so they are done once per
document and kept for its stages.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class DocumentAudio:
    """Lazily decoded samples of one audio file, memoised per sample rate and front-end setting."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._samples: dict[int, np.ndarray] = {}
        self._prepared: dict[tuple[int, str, float], tuple[np.ndarray, bool, str]] = {}

    def samples(self, rate: int) -> np.ndarray:
        """int16 mono samples at `rate` (align.audio.load.load_audio)."""
        if rate not in self._samples:
            from .load import load_audio

            x = load_audio(self.path, rate)
            x.flags.writeable = False   # shared by every stage: none may change it for the others
            self._samples[rate] = x
        return self._samples[rate]

    def prepared(self, rate: int, mode: str, below_db: float) -> tuple[np.ndarray, bool, str]:
        """(samples, filtered, why) of align.audio.denoise.prepare_samples on `samples(rate)`."""
        key = (rate, mode, float(below_db))
        if key not in self._prepared:
            from .denoise import prepare_samples

            x, filtered, why = prepare_samples(self.samples(rate), rate, mode, below_db)
            x.flags.writeable = False
            self._prepared[key] = (x, filtered, why)
        return self._prepared[key]
