"""Reading the original text: plain text, one phrase per line, or a `.script` JSON file.

A text is checked against a size limit before it is read: alignment holds several per-character
arrays of the text (the original, the clean text, the maps between them, the 3-gram index), about
40 bytes of memory per byte of text, so a 200 MB file would need 8 GB. Documents above the limit
are refused with a message; split them (one book per chapter) or raise the limit.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..common.errors import UserError
from ..common.fileio import check_finite, read_json, read_text, user_file_errors
from .normalise import Phrase

# 50 MB: about 2 GB of memory while aligning; a long book is 1-3 MB of text.
TEXT_MAX_BYTES = 50_000_000


def check_text_size(path: Path, max_bytes: int | None) -> None:
    """UserError if the file at `path` is larger than `max_bytes` (None: no limit)."""
    if max_bytes is None:
        return
    with user_file_errors(path, "text file"):
        size = path.stat().st_size
    if size > max_bytes:
        raise UserError(f"{path}: the text is {size / 1e6:.1f} MB, above the limit of {max_bytes / 1e6:g} MB "
                        f"(--text-max-bytes; aligning needs about 40 bytes of memory per byte of text): split "
                        f"it into smaller documents, or raise --text-max-bytes")


# Verse and lists of prompts start (nearly) every line with a capital or a number ("10 of clubs",
# "2 9 3 4 0", "3. Press the green button"); hard-wrapped prose starts a line with one only where
# a sentence or a name happens to fall (about one line in five).
LINE_CAPITAL_SHARE = 0.8
LINE_MIN_LINES = 4


def _starts_upper(line: str) -> bool:
    """Whether the first letter of `line` is upper case (False without a cased letter)."""
    for ch in line:
        if ch.isalpha():
            return ch.isupper()
    return False


def _starts_line(line: str) -> bool:
    """Whether `line` begins the way a line of verse or a prompt does: its first letter or digit
    (after spaces, quotes, brackets and dashes) is an upper-case letter or a digit."""
    for ch in line:
        if ch.isdigit():
            return True
        if ch.isalpha():
            return ch.isupper()
    return False


def lines_are_phrases(original: str) -> bool:
    """Whether a plain text reads line by line (verse, a list of prompts, one sentence per line):
    at least 4 non-empty lines, of which at least 80% begin with an upper-case letter or a digit
    (after leading spaces, quotes, brackets and dashes, and after an utterance id or list number
    when every line has one: "spk1_0001 Go forward.", "12. Go forward."), and at least half with
    an upper-case letter. Texts in scripts without case never qualify."""
    from .furniture import prompt_id_pattern

    return _reads_by_line(original, prompt_id_pattern(original))


def _reads_by_line(original: str, pat) -> bool:
    """`lines_are_phrases`, with `pat` the text's `prompt_id_pattern` (None: lines have no ids)."""
    lines = [ln for ln in original.split("\n") if ln.strip()]
    if len(lines) < LINE_MIN_LINES:
        return False
    if pat is not None:
        lines = [pat.sub("", ln, count=1) for ln in lines]
    return (sum(map(_starts_line, lines)) >= LINE_CAPITAL_SHARE * len(lines)
            and 2 * sum(map(_starts_upper, lines)) >= len(lines))


def read_script(path: str | os.PathLike, meaningful_newlines: bool | None = False,
                max_bytes: int | None = TEXT_MAX_BYTES) -> tuple[str, list[Phrase]]:
    """Return (original text, phrases).

    `.script` files are a JSON list of objects with a string `text` and any other keys (meta);
    their original text is the entries' texts joined by newlines. A plain-text file is its own
    original text: one phrase, or one per line with `meaningful_newlines` (None: when
    `lines_are_phrases` says the text reads line by line). A file larger than `max_bytes` is
    refused before it is read (None: no limit).
    """
    path = Path(path)
    check_text_size(path, max_bytes)
    if path.suffix == ".script":
        data = read_json(path, "script file")
        if not isinstance(data, list):
            raise UserError(f"{path}: a .script file must be a JSON list of {{\"text\": ...}} objects")
        texts: list[str] = []
        metas: list[dict] = []
        for i, entry in enumerate(data):
            if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
                raise UserError(f"{path}: entry {i} needs a string \"text\" key")
            texts.append(entry["text"])
            meta = {k: v for k, v in entry.items() if k != "text"}
            check_finite(meta, f"{path}: entry {i}")
            metas.append(meta)
        original = "\n".join(texts)
        phrases, pos = [], 0
        for text, meta in zip(texts, metas):
            phrases.append(Phrase(pos, pos + len(text), meta))
            pos += len(text) + 1
        return original, phrases
    original = read_text(path, "text file")
    auto = meaningful_newlines is None
    if auto:
        from .furniture import prompt_id_pattern

        pat = prompt_id_pattern(original)
        meaningful_newlines = _reads_by_line(original, pat)
    if not meaningful_newlines:
        return original, [Phrase(0, len(original))]
    lines, pos = [], 0
    for line in original.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    if not auto:
        return original, [Phrase(p, p + len(ln)) for p, ln in lines if ln.strip()]
    if pat is not None:
        # the ids (or list numbers) are not read: judge each line by its prompt, and give each
        # prompt its id as meta (`"meta": {"id": ["spk1_0001"]}` in its utterance), to join it
        # back to the corpus
        phrases = _line_phrases(lines, lambda ln: pat.sub("", ln, count=1))
        out = []
        for ph in phrases:
            m = pat.match(original, ph.start, ph.end)
            single = "\n" not in original[ph.start:ph.end]
            out.append(Phrase(ph.start, ph.end, {"id": m.group("id")}) if m and single else ph)
        return original, out
    return original, _line_phrases(lines)


def _line_phrases(lines: list[tuple[int, str]], prompt=lambda ln: ln) -> list[Phrase]:
    """A phrase per line of a text that reads line by line, except in its blocks (runs of lines
    between blank lines) of wrapped prose, such as a poetry book's preface: a block of 2 or more
    lines of which under half start with a capital or a digit is one phrase."""
    phrases: list[Phrase] = []
    block: list[tuple[int, str]] = []

    def flush():
        if len(block) >= 2 and 2 * sum(_starts_line(prompt(ln)) for _, ln in block) < len(block):
            phrases.append(Phrase(block[0][0], block[-1][0] + len(block[-1][1])))
        else:
            phrases.extend(Phrase(p, p + len(ln)) for p, ln in block)
        block.clear()

    for p, ln in lines:
        if ln.strip():
            block.append((p, ln))
        else:
            flush()
    flush()
    return phrases
