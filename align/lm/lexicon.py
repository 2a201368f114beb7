"""Pronunciation dictionaries in pocketsphinx's format (`word PH1 PH2 ...`, alternates `word(2)`)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from ..common.errors import UserError

_ALT = re.compile(r"\(\d+\)$")


def default_dict_path() -> Path:
    """cmudict-en-us.dict shipped inside the pocketsphinx wheel."""
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"


def load_lexicon(path: str | os.PathLike, only: Iterable[str] | None = None) -> dict[str, list[str]]:
    """word -> its pronunciations (first = main entry, then `(2)`, `(3)` ... in file order).

    `only`: keep just these words (a document's vocabulary), which keeps the result small.
    Comments after `#` (cmudict's tags) are dropped.
    """
    wanted = set(only) if only is not None else None
    out: dict[str, list[str]] = {}
    try:
        fh = open(path, encoding="utf-8", errors="replace")
    except OSError as e:
        raise UserError(f"pronunciation dictionary not readable: {path} ({e.strerror})") from None
    with fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) < 2:
                continue
            word = _ALT.sub("", parts[0])
            if wanted is not None and word not in wanted:
                continue
            out.setdefault(word, []).append(" ".join(parts[1:]))
    return out


def format_lexicon(entries: Mapping[str, list[str]]) -> str:
    """Deterministic dictionary text: words sorted, alternates numbered from (2)."""
    lines = []
    for word in sorted(entries):
        for k, phones in enumerate(entries[word]):
            lines.append(f"{word} {phones}" if k == 0 else f"{word}({k + 1}) {phones}")
    return "\n".join(lines) + ("\n" if lines else "")


def model_phones(hmm_dir: str | os.PathLike) -> set[str]:
    """The base (context-independent) phones of a pocketsphinx acoustic model, from its `mdef`.

    Reads both forms: sphinx's binary mdef ("BMDF": magic, version, description length and
    text, ten int32 counts, then the base-phone names NUL-separated) and the text form.
    """
    mdef = Path(hmm_dir) / "mdef"
    data = mdef.read_bytes()
    if data[:4] == b"BMDF":
        import struct

        order = "<" if struct.unpack("<i", data[4:8])[0] == 1 else ">"
        desc_len = struct.unpack(order + "i", data[8:12])[0]
        off = 12 + desc_len
        n_ciphone = struct.unpack(order + "i", data[off : off + 4])[0]
        names = data[off + 40 :].split(b"\0", n_ciphone)[:n_ciphone]
        return {n.decode("ascii", "replace") for n in names}
    phones: set[str] = set()
    for line in data.decode("utf-8", "replace").splitlines():
        parts = line.split()
        # Base-phone rows read "PH - - - filler|n/a ..."; triphone rows name their contexts.
        if len(parts) >= 6 and parts[1:4] == ["-", "-", "-"]:
            phones.add(parts[0])
    return phones
