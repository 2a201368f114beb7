#!/usr/bin/env python3
"""Word-boundary accuracy of the forced aligner against festival's own word timings.

Real prose (GPL-3 sentences without digits) is synthesised sentence by sentence by festival
with two voices (the HTS voice cmu_us_slt_arctic_hts and the diphone voice kal_diphone);
festival reports each word's start and end as it rendered them. Each sentence's audio (with
festival's own leading/trailing pause, and a faint noise floor) is one utterance; its words
are force-aligned and every word start and end is compared with the truth.

Prints per voice and overall: boundaries, median / mean absolute error (ms), share of
boundaries off by more than 100 ms, and forced-alignment CPU seconds per audio second.

    python3 bench/word_timing.py [--sentences 60] [--phones] [--no-refine] [--downsample 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from align.stt.forced import ForcedAligner, ForcedParams  # noqa: E402
from tests import speechgen as sg  # noqa: E402

VOICES = ("cmu_us_slt_arctic_hts", "kal_diphone")


def measure(voice: str, sentences: list[str], cache: Path, aligner: ForcedAligner, seed: int = 0):
    """(errors in ms, audio seconds, cpu seconds, sentences used) for one voice."""
    rng = np.random.default_rng(seed)
    errs, audio_s, cpu_s, used = [], 0.0, 0.0, 0
    flagged = 0
    for text, (wav, truth) in zip(sentences, sg.synthesise_timed(sentences, cache, voice)):
        words = [w.word for w in truth]
        if words != sg.words(text):
            continue  # festival read something other than the text's words (an abbreviation)
        x = sg.read_mono(wav, 16000)
        x = x + rng.normal(0.0, 10 ** (-60 / 20), len(x)).astype(np.float32)
        samples = np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)
        t0 = time.process_time()
        got = aligner.align(samples, words)
        cpu_s += time.process_time() - t0
        audio_s += len(samples) / 16000
        used += 1
        flagged += sum(not g.aligned for g in got)
        for g, t in zip(got, truth):
            errs.append(abs(g.start - t.start) * 1000)
            errs.append(abs(g.end - t.end) * 1000)
    if flagged:
        print(f"  {voice}: {flagged} words flagged as not placed")
    return np.array(errs), audio_s, cpu_s, used


def report(name: str, errs: np.ndarray, audio_s: float, cpu_s: float, used: int) -> None:
    print(f"{name:24s} sentences {used:3d}  boundaries {len(errs):5d}  median {np.median(errs):5.1f} ms  "
          f"mean {errs.mean():5.1f} ms  >100ms {100 * (errs > 100).mean():4.1f}%  "
          f">50ms {100 * (errs > 50).mean():4.1f}%  cpu/audio-s {cpu_s / max(audio_s, 1e-9):.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=60, help="sentences per voice")
    ap.add_argument("--phones", action="store_true", help="also run the phone pass (timed with it)")
    ap.add_argument("--no-refine", action="store_true", help="no silence-edge refinement")
    ap.add_argument("--downsample", type=int, default=1, help="acoustic scores every Nth frame (--words-downsample)")
    ap.add_argument("--cache", help="keep synthesised sentences here (default: a temp dir)")
    args = ap.parse_args()
    reason = sg.festival_missing_reason()
    if reason:
        sys.exit(reason)
    sentences = [s for s in sg.gpl3_sentences() if sg.speakable(s)][: args.sentences]
    params = ForcedParams(phones=args.phones, edge_quiet_ms=0 if args.no_refine else ForcedParams.edge_quiet_ms,
                          downsample=args.downsample)
    aligner = ForcedAligner(params)
    with tempfile.TemporaryDirectory(prefix="word-timing-") as tmp:
        cache = Path(args.cache) if args.cache else Path(tmp)
        allerr, tot_a, tot_c, tot_u = [], 0.0, 0.0, 0
        for voice in VOICES:
            errs, a, c, used = measure(voice, sentences, cache, aligner)
            report(voice, errs, a, c, used)
            allerr.append(errs)
            tot_a, tot_c, tot_u = tot_a + a, tot_c + c, tot_u + used
        report("all", np.concatenate(allerr), tot_a, tot_c, tot_u)


if __name__ == "__main__":
    main()
