"""Output formats: each is a small module that registers a writer under a name.

    from align.writers import register_writer

    @register_writer("srt", suffix=".srt")
    def write_srt(path, doc):          # doc: align.pipeline.DocumentOutput
        atomic_write_text(path, ...)   # writers write atomically (align.common.fileio)

`get_writer(name)` imports `align.writers.<name>` on first use, so a built-in format needs no
other edit than its own module; code outside the package calls `register_writer` itself.
The document's output path for a format is `job.output_path(writer)`: the `.aligned` path itself
for the `aligned` writer, else that path with the writer's suffix.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Callable

from ..common.errors import UsageError

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Writer:
    name: str
    suffix: str                      # file suffix, e.g. ".srt" (".aligned" for the main output)
    write: Callable                  # write(path: Path, doc: DocumentOutput) -> None, atomically
    description: str = ""


# The registry: filled by `register_writer` when a writer module is imported (a plugin registry is
# the one module-level table; it only ever gains entries, all of them pure functions).
_WRITERS: dict[str, Writer] = {}


def register_writer(name: str, *, suffix: str, description: str = ""):
    """Decorator: register `fn(path, doc)` as the writer of format `name`."""
    if not _NAME.match(name):
        raise ValueError(f"writer name {name!r}: use lower-case letters, digits and _")

    def deco(fn: Callable) -> Callable:
        old = _WRITERS.get(name)
        if old is not None and old.write is not fn:
            raise ValueError(f"writer {name!r} is registered twice ({old.write.__module__} and {fn.__module__})")
        _WRITERS[name] = Writer(name, suffix, fn, description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn

    return deco


def get_writer(name: str) -> Writer:
    if name not in _WRITERS and _NAME.match(name):
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    if name not in _WRITERS:
        raise UsageError(f"unknown output format {name!r}; known: {', '.join(available_writers())}")
    return _WRITERS[name]


def available_writers() -> list[str]:
    """Names of the registered writers and of the built-in writer modules."""
    import pkgutil

    names = set(_WRITERS)
    names.update(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return sorted(names)
