"""Progress bars: tqdm on stderr; `enabled=False` (from --no-progress) switches them off."""

from __future__ import annotations

import sys
from typing import Iterable, Optional, TypeVar

T = TypeVar("T")


def progress(iterable: Optional[Iterable[T]] = None, *, enabled: bool = True, **kwargs):
    from tqdm import tqdm

    return tqdm(iterable, disable=not enabled, file=sys.stderr, dynamic_ncols=True, leave=False, **kwargs)
