"""Progress bars: tqdm on stderr; `enabled=False` (from --no-progress) switches them off."""

from __future__ import annotations

import sys
from typing import Iterable, Optional, TypeVar

T = TypeVar("T")


def progress(iterable: Optional[Iterable[T]] = None, *, enabled: bool = True, **kwargs):
    from tqdm import tqdm

    return tqdm(iterable, disable=not enabled, file=sys.stderr, dynamic_ncols=True, leave=False, **kwargs)


class DeferredProgress:
    """A count-only bar (no total) that appears only once the work has lasted `delay` seconds.

    For steps that are often much shorter than a second (aligning a transcript log against its
    text): a short run then never imports or draws tqdm, whose import costs more than the step.
    Use as a context manager; `update(n)` counts."""

    def __init__(self, *, enabled: bool = True, delay: float = 1.0, **kwargs):
        import time

        self._clock = time.monotonic
        self._t0 = self._clock()
        self._enabled = enabled
        self._delay = delay
        self._kwargs = kwargs
        self._bar = None
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._enabled and self._clock() - self._t0 >= self._delay:
            self._bar = progress(enabled=True, initial=self.n, **self._kwargs)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> "DeferredProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
