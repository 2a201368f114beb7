#!/usr/bin/env python3
"""Reconciliation benchmark: a small "book" whose text has parts nobody reads, and whose audio
has speech that is not in the text.

Text: a title page and preface (front matter), a table of contents, chapter headings, running
heads and page numbers between paragraphs, and a passage of three sentences that the reader
skips. Audio (festival, sentence by sentence): a recording intro that is not in the text
("This is a recording ..."), then the book's spoken sentences. `align --output-unaligned` should
list each planted unspoken part with its kind and the intro as uncovered speech, and nothing
else longer than 3 words.

    python3 bench/unaligned_book.py [--keep DIR] [-- EXTRA ALIGN OPTIONS]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.speechgen import build_speech, festival_missing_reason, gpl3_sentences, speakable  # noqa: E402

INTRO = "This is a public domain recording, read for the test library by a volunteer."


def make_book():
    """(text, spoken sentences in reading order, planted unspoken parts [(start, end, kind)])."""
    sents = [s for s in gpl3_sentences() if speakable(s) and 8 <= len(s.split()) <= 30]
    ch1, skip, ch1b, ch2 = sents[0:5], sents[5:8], sents[8:12], sents[12:16]
    parts: list[tuple[str, str | None]] = [
        ("THE LICENSE BOOK\n\nEdited by Nobody\n\nPreface\n\nThis small book was typeset for a test. "
         "Its editor thanks the many people who read early drafts of it and found errors in them.\n\n",
         "front matter"),
        ("Contents\n\nChapter One ........ 1\nChapter Two ........ 9\n\n", "table of contents"),
        ("CHAPTER ONE\n\n", "heading"),
        (" ".join(ch1) + "\n\n", "say"),
        ("THE LICENSE BOOK      2\n\n", "page number or running head"),
        (" ".join(skip) + "\n\n", "long passage"),
        (" ".join(ch1b) + "\n\n", "say"),
        ("- 3 -\n\n", "page number or running head"),
        ("THE LICENSE BOOK      4\n\n", "page number or running head"),
        ("CHAPTER TWO\n\n", "heading"),
        (" ".join(ch2) + "\n", "say"),
        ("THE LICENSE BOOK      5\n", "page number or running head"),
    ]
    text, planted = "", []
    for piece, kind in parts:
        if kind != "say":
            planted.append((len(text), len(text) + len(piece.rstrip()), kind))
        text += piece
    return text, ch1 + ch1b + ch2, planted


def write_book(work: Path):
    """The book's text and its festival reading (the intro, then the spoken sentences, 0.9 s
    apart) in `work` (book.txt, book.wav; synthesis cached in work/cache). Returns (text, speech,
    wav path, planted spans)."""
    text, spoken, planted = make_book()
    work.mkdir(parents=True, exist_ok=True)
    said = [INTRO] + spoken
    speech = build_speech(said, [900.0] * (len(said) - 1), work / "cache")
    wav = speech.write_wav(work / "book.wav")
    (work / "book.txt").write_text(text, encoding="utf-8")
    return text, speech, wav, planted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="keep the work files here")
    ap.add_argument("extra", nargs="*", help="more align options (after --)")
    args = ap.parse_args()
    reason = festival_missing_reason()
    if reason:
        sys.exit(reason)
    with tempfile.TemporaryDirectory(prefix="unaligned-book-") as tmp:
        work = args.keep or Path(tmp)
        text, speech, wav, planted = write_book(work)
        out = work / "book.aligned"
        cmd = [sys.executable, "-m", "align.cli.align", "--audio", str(wav), "--script", str(work / "book.txt"),
               "--aligned", str(out), "--force", "--merge-sentences", "--output-unaligned",
               "--lm-cache-dir", str(work / "lm"), "--no-progress", *args.extra]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            sys.exit(f"align failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        summary = [ln for ln in proc.stderr.splitlines() if "unaligned:" in ln]
        report = json.loads(out.with_suffix(".unaligned.json").read_text(encoding="utf-8"))
    found = 0
    print("planted unspoken text:")
    for s, e, kind in planted:
        hits = [r for r in report["text"] if r["text-start"] < e and r["text-end"] > s]
        ok = bool(hits) and all(r["kind"] == kind for r in hits)
        found += ok
        print(f"  {'ok  ' if ok else 'MISS'} {kind:28s} {text[s:e][:50]!r:54s} -> "
              + (", ".join(f"{r['kind']} ({r['words']} words)" for r in hits) or "not listed"))
    extra = [r for r in report["text"]
             if not any(r["text-start"] < e and r["text-end"] > s for s, e, _ in planted)]
    long_extra = [r for r in extra if r["words"] > 3]
    print(f"listed {found}/{len(planted)} planted parts with their kind; "
          f"other ranges: {len(extra)} ({len(long_extra)} longer than 3 words)")
    for r in extra:
        print(f"  other: {r['kind']} {r['words']} words {r['text'][:70]!r}")
    t = speech.sentences[0]
    audio = report["audio"]
    intro = [a for a in audio if a["start"] < t.end_ms and a["end"] > t.start_ms]
    print(f"uncovered speech: {len(audio)} ranges, {sum(a['duration'] for a in audio) / 1000:.1f} s; "
          f"the unscripted intro ({(t.end_ms - t.start_ms) / 1000:.1f} s) "
          + (f"listed as {intro[0]['start'] / 1000:.2f}-{intro[0]['end'] / 1000:.2f} s" if intro else "NOT listed"))
    for a in audio:
        if a not in intro:
            print(f"  other speech: {a['start'] / 1000:.2f}-{a['end'] / 1000:.2f} s")
    for ln in summary:
        print("summary:", ln[ln.index("unaligned:"):])


if __name__ == "__main__":
    main()
