#!/usr/bin/env python3
"""Word timings on real speech: the LibriVox clips of Debian's pocketsphinx-testdata.

Each clip is one utterance; its transcription is force-aligned. Nobody can listen here, so the
timings are checked against the signal instead:
- monotone: share of words whose start >= the previous word's end and which lie inside the clip;
- VAD: share of word frames webrtcvad (mode 3, 10 ms) calls speech, against the same share for
  the frames between words (a good alignment puts words on speech and gaps on non-speech);
- pauses: non-speech runs of >= 150 ms (by webrtcvad) between the first word's start and the
  last word's end, and how many of them fall between words (at most 30 ms inside any word);
- CPU seconds of forced alignment per audio second (best of --repeat runs).

    python3 bench/librivox_words.py [--phones] [--repeat 3] [--show]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from align.stt.forced import ForcedAligner, ForcedParams  # noqa: E402

DATA = Path("/usr/share/pocketsphinx/test/data/librivox")


def vad_frames(x: np.ndarray, rate: int) -> np.ndarray:
    import webrtcvad

    v = webrtcvad.Vad(3)
    flen = rate // 100
    n = len(x) // flen
    return np.array([v.is_speech(x[k * flen:(k + 1) * flen].tobytes(), rate) for k in range(n)])


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    out, k = [], 0
    while k < len(mask):
        if mask[k]:
            s = k
            while k < len(mask) and mask[k]:
                k += 1
            out.append((s, k))
        else:
            k += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phones", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--show", action="store_true", help="print every word's timing")
    args = ap.parse_args()
    if not (DATA / "transcription").exists():
        sys.exit(f"{DATA} not found: apt-get install pocketsphinx-testdata")
    aligner = ForcedAligner(ForcedParams(phones=args.phones))
    clips = []
    for line in (DATA / "transcription").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*<s>(.*)</s>\s*\((\S+)\)", line)
        if m:
            x, rate = sf.read(DATA / f"{m[2]}.wav", dtype="int16")
            clips.append((m[2], m[1].split(), x, rate))
    best_cpu = float("inf")
    for _ in range(max(1, args.repeat)):
        t0 = time.process_time()
        results = [aligner.align(x, words) for _, words, x, _ in clips]
        best_cpu = min(best_cpu, time.process_time() - t0)
    audio_s = sum(len(x) / rate for _, _, x, rate in clips)
    n_words = n_mono = 0
    in_word_speech, gap_speech = [], []
    pauses = pauses_between = 0
    for (cid, words, x, rate), got in zip(clips, results):
        dur = len(x) / rate
        t = 0.0
        for w in got:
            n_words += 1
            n_mono += t <= w.start < w.end <= dur + 1e-9
            t = w.end
        sp = vad_frames(x, rate)
        inside = np.zeros(len(sp), bool)
        for w in got:
            inside[int(round(w.start * 100)):int(round(w.end * 100))] = True
        a, b = int(round(got[0].start * 100)), int(round(got[-1].end * 100))
        in_word_speech.append(sp[inside])
        gap_speech.append(sp[a:b][~inside[a:b]])
        for s, e in runs(~sp[a:b]):
            if e - s >= 15:
                s, e = a + s, a + e
                pauses += 1
                worst = max(min(e, w.end * 100) - max(s, w.start * 100) for w in got)
                pauses_between += worst <= 3
                if args.show:
                    print(f"  pause {s / 100:.2f}-{e / 100:.2f}: at most {worst * 10:.0f} ms of it inside a word")
        if args.show:
            print(cid, " ".join(f"{w.word}[{w.start:.2f}-{w.end:.2f}]" for w in got))
    iw, gw = np.concatenate(in_word_speech), np.concatenate(gap_speech)
    print(f"clips {len(clips)}  words {n_words}  audio {audio_s:.1f} s")
    print(f"monotone and inside: {100 * n_mono / n_words:.1f}% of words; "
          f"flagged as not placed: {sum(not w.aligned for got in results for w in got)}")
    print(f"webrtcvad speech: {100 * iw.mean():.1f}% of frames inside words, "
          f"{100 * gw.mean() if len(gw) else float('nan'):.1f}% of the {len(gw)} frames between words")
    print(f"pauses >= 150 ms inside the speech: {pauses}, between words: {pauses_between}")
    print(f"forced alignment CPU: {best_cpu / audio_s:.4f} s per audio second (best of {args.repeat})")


if __name__ == "__main__":
    main()
