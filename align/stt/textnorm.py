"""Turn an end-to-end model's cased, punctuated output into lower-case words."""

from __future__ import annotations

import re

# Letters (any script), digits and in-word apostrophes survive; everything else separates words.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def plain_words(text: str) -> str:
    return " ".join(m.group(0).replace("’", "'") for m in _WORD.finditer(text.lower()))
