"""Praat TextGrid text (the "long" text format Praat itself writes), from plain interval lists.

A tier is a name and a list of (start_s, end_s, label) intervals in time order. Praat wants each
interval tier to tile [xmin, xmax] exactly, so the gaps between intervals become empty intervals
and an interval that overlaps the one before it starts where that one ends (one that would then
be empty is dropped). Times are written with at most 4 decimals (0.1 ms; the word timings have
10 ms frames), so the same records always give the same bytes.
"""

from __future__ import annotations

from typing import Iterable, Sequence

Interval = tuple[float, float, str]


def _num(t: float) -> str:
    s = f"{round(t, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""').replace("\n", " ") + '"'


def tile(intervals: Iterable[Interval], xmin: float, xmax: float) -> list[Interval]:
    """The intervals, clipped to [xmin, xmax], made contiguous with empty intervals in the gaps."""
    out: list[Interval] = []
    t = xmin
    for s, e, label in sorted(intervals, key=lambda iv: (iv[0], iv[1])):
        s, e = max(s, t, xmin), min(e, xmax)
        if round(e - s, 4) <= 0:
            continue
        if round(s - t, 4) > 0:
            out.append((t, s, ""))
        out.append((s, e, label))
        t = e
    if round(xmax - t, 4) > 0 or not out:
        out.append((t, xmax, ""))
    return out


def textgrid_text(tiers: Sequence[tuple[str, Sequence[Interval]]], xmin: float, xmax: float) -> str:
    """A complete TextGrid file with one IntervalTier per (name, intervals)."""
    xmax = max(xmax, xmin + 1e-4, *(e for _, ivs in tiers for _, e, _l in ivs)) if tiers else max(xmax, xmin)
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        f"xmin = {_num(xmin)} ",
        f"xmax = {_num(xmax)} ",
        "tiers? <exists> ",
        f"size = {len(tiers)} ",
        "item []: ",
    ]
    for i, (name, intervals) in enumerate(tiers, 1):
        ivs = tile(intervals, xmin, xmax)
        lines += [
            f"    item [{i}]:",
            '        class = "IntervalTier" ',
            f"        name = {_quote(name)} ",
            f"        xmin = {_num(xmin)} ",
            f"        xmax = {_num(xmax)} ",
            f"        intervals: size = {len(ivs)} ",
        ]
        for k, (s, e, label) in enumerate(ivs, 1):
            lines += [
                f"        intervals [{k}]:",
                f"            xmin = {_num(s)} ",
                f"            xmax = {_num(e)} ",
                f"            text = {_quote(label)} ",
            ]
    return "\n".join(lines) + "\n"


def utterance_tiers(utterances: Sequence[dict], phones: bool = True) -> list[tuple[str, list[Interval]]]:
    """Tiers "utterances", "words" (and "phones") from `.aligned`-style records.

    Each record: `start`/`end` in ms, `aligned` (its label), and optionally `words`: a list of
    {word, start, end, phones?: [{phone, start, end}]} with times in ms.
    """
    utt, words, ph = [], [], []
    for u in utterances:
        utt.append((u["start"] / 1000.0, u["end"] / 1000.0, u.get("aligned", "")))
        for w in u.get("words") or ():
            words.append((w["start"] / 1000.0, w["end"] / 1000.0, w["word"]))
            for p in w.get("phones") or ():
                ph.append((p["start"] / 1000.0, p["end"] / 1000.0, p["phone"]))
    tiers = [("utterances", utt), ("words", words)]
    if phones and ph:
        tiers.append(("phones", ph))
    return tiers
