#!/usr/bin/env python3
"""Utterance edges with and without --words-refine-bounds, against planted sentence times.

Speech: the book of bench/unaligned_book.py (festival, sentence by sentence, 0.9 s pauses, an
unscripted intro). Truth: each spoken sentence's start/end in the audio (its voiced span). The
CLI aligns once (VAD + pocketsphinx + text alignment, --merge-sentences); the same .tlog is then
aligned with --output-words --words-refine-bounds at several end pads. For every utterance
whose words equal one sentence's (+-1 edge word), the start and end errors are reported.

    python3 bench/refine_bounds.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.speechgen import edge_equal, festival_missing_reason, words  # noqa: E402
from unaligned_book import write_book  # noqa: E402


def run(*args) -> None:
    proc = subprocess.run([sys.executable, "-m", "align.cli.align", "--no-progress", "--force", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"align failed:\n{proc.stderr[-2000:]}")


def errors(aligned: list[dict], sentences) -> tuple[np.ndarray, np.ndarray, int]:
    ds, de = [], []
    for s in sentences:
        for u in aligned:
            if edge_equal(words(u["aligned-raw"]), words(s.text)):
                ds.append(u["start"] - s.start_ms)
                de.append(u["end"] - s.end_ms)
                break
    return np.array(ds), np.array(de), len(ds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    reason = festival_missing_reason()
    if reason:
        sys.exit(reason)
    with tempfile.TemporaryDirectory(prefix="refine-bounds-") as tmp:
        work = args.keep or Path(tmp)
        _, speech, wav, _ = write_book(work)
        common = ["--audio", wav, "--tlog", work / "book.tlog", "--script", work / "book.txt", "--merge-sentences",
                  "--lm-cache-dir", work / "lm"]
        runs = [("VAD + text alignment", [])] + [
            (f"refined, end pad {pad} ms", ["--output-words", "--words-refine-bounds", "--words-end-pad-ms", str(pad)])
            for pad in (0, 50, 100)]
        print(f"{'utterance edges':28s} {'n':>3s}  {'start: median |err|':>20s} {'mean err':>9s}  "
              f"{'end: median |err|':>18s} {'mean err':>9s}  {'|err| > 100 ms':>14s}")
        for name, extra in runs:
            out = work / f"book-{len(extra)}-{extra[-1] if extra else 0}.aligned"
            run(*common, "--aligned", out, *extra)
            ds, de, n = errors(json.loads(out.read_text()), speech.sentences[1:])
            both = np.concatenate([np.abs(ds), np.abs(de)])
            print(f"{name:28s} {n:3d}  {np.median(np.abs(ds)):17.0f} ms {ds.mean():+6.0f} ms  "
                  f"{np.median(np.abs(de)):15.0f} ms {de.mean():+6.0f} ms  {100 * (both > 100).mean():12.1f} %")


if __name__ == "__main__":
    main()
