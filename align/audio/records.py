"""Records passed from audio splitting to speech-to-text."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Fragment:
    """A voiced span of the audio: [start_ms, end_ms) and its mono int16 samples at the model rate."""

    start_ms: float
    end_ms: float
    samples: np.ndarray
