#!/usr/bin/env python3
"""Word timings through the whole `align` CLI against festival's word truth.

As bench/word_timing.py, but end to end: the sentences (both voices, alternating) are trimmed to
their voiced span and concatenated with 0.8 s pauses into one recording, the text is the
sentences as one paragraph each, and `align --output-words --merge-sentences` does VAD,
speech-to-text, text alignment and forced alignment inside the utterances it found. Each word
record is matched to its truth word through `text-start` (the original text offset); word
boundaries are compared, and the share of truth words that got a timing is reported.

    python3 bench/word_timing_e2e.py [--sentences 15] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import speechgen as sg  # noqa: E402

VOICES = ("cmu_us_slt_arctic_hts", "kal_diphone")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=15, help="sentences per voice")
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    reason = sg.festival_missing_reason()
    if reason:
        sys.exit(reason)
    pool = [s for s in sg.gpl3_sentences() if sg.speakable(s) and 6 <= len(s.split()) <= 40]
    texts = pool[: 2 * args.sentences]
    with tempfile.TemporaryDirectory(prefix="word-e2e-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rate, pause = 16000, np.zeros(int(0.8 * 16000), np.float32)
        parts, truth, doc, pos = [pause], [], "", len(pause)
        for i, text in enumerate(texts):
            voice = VOICES[i % 2]
            wav, words = sg.synthesise_timed([text], work / "cache", voice)[0]
            if [w.word for w in words] != sg.words(text):
                continue
            x = sg.read_mono(wav, rate)
            a, b = sg.voiced_span(x, rate)
            x = x[a:b]
            # each truth word: (original offset, start ms, end ms) in the recording
            off = len(doc)
            for w, m in zip(words, re.finditer(r"[A-Za-z']+", text)):
                t0 = pos + (w.start * rate - a)
                t1 = pos + (w.end * rate - a)
                truth.append((off + m.start(), w.word, max(t0, pos) * 1000 / rate, min(t1, pos + len(x)) * 1000 / rate))
            doc += text + "\n\n"
            parts += [x, pause]
            pos += len(x) + len(pause)
        y = np.concatenate(parts)
        y = y + np.random.default_rng(0).normal(0, 1e-3, len(y)).astype(np.float32)
        import soundfile as sf

        sf.write(str(work / "talk.wav"), np.clip(np.rint(y * 32768), -32768, 32767).astype(np.int16), rate)
        (work / "talk.txt").write_text(doc, encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "align.cli.align", "--no-progress", "--force",
                               "--audio", str(work / "talk.wav"), "--script", str(work / "talk.txt"),
                               "--aligned", str(work / "talk.aligned"), "--merge-sentences", "--output-words",
                               "--lm-cache-dir", str(work / "lm")], capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            sys.exit(f"align failed:\n{proc.stderr[-2000:]}")
        aligned = json.loads((work / "talk.aligned").read_text())
    by_offset = {o: (w, s, e) for o, w, s, e in truth}
    errs, timed, wrong, flagged = [], 0, 0, 0
    for u in aligned:
        for w in u["words"]:
            t = by_offset.get(w["text-start"])
            if t is None or t[0] != w["word"]:
                wrong += 1
                continue
            timed += 1
            flagged += not w["aligned"]
            errs += [abs(w["start"] - t[1]), abs(w["end"] - t[2])]
    errs = np.array(errs)
    print(f"sentences {len(texts)}  truth words {len(truth)}  timed {timed} ({100 * timed / len(truth):.1f}%)  "
          f"unmatched records {wrong}  flagged {flagged}")
    print(f"boundaries {len(errs)}  median {np.median(errs):.1f} ms  mean {errs.mean():.1f} ms  "
          f">100ms {100 * (errs > 100).mean():.1f}%  >50ms {100 * (errs > 50).mean():.1f}%")


if __name__ == "__main__":
    main()
