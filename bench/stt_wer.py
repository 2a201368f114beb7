#!/usr/bin/env python3
"""Speech-to-text accuracy and speed: pocketsphinx with and without the per-document LM.

GPL-3 sentences (those a TTS reads as written: no digits) are synthesised by festival's
cmu_us_slt_arctic_hts voice, one fragment per sentence at 16 kHz. The document LM is built from
the whole GPL-3 (as the aligner does). Prints, per configuration: WER against the sentences
(jiwer), RTF = decoding CPU seconds per audio second (workers=1, in-process), and the wall time
per audio second with --workers processes. Optionally the whisper engine (--whisper DIR).

    python3 bench/stt_wer.py [--sentences 20] [--workers 2] [--whisper MODEL_DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jiwer  # noqa: E402
import numpy as np  # noqa: E402

from align.audio.records import Fragment  # noqa: E402
from align.stt.base import SttParams  # noqa: E402
from align.stt.pool import transcribe_fragments  # noqa: E402
from align.stt.registry import load_engine, make_engine_spec  # noqa: E402
from tests.speechgen import GPL3, gpl3_sentences, read_mono, speakable, synthesise, words  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sentences", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--whisper", help="CTranslate2 Whisper model dir (optional)")
    ap.add_argument("--work", help="directory for the synthesised sentences (default: a temp dir)")
    args = ap.parse_args()

    work = Path(args.work or tempfile.mkdtemp(prefix="stt-bench-"))
    picked = [s for s in gpl3_sentences() if speakable(s)][: args.sentences]
    t0 = time.perf_counter()
    paths = synthesise(picked, work / "speech")
    print(f"festival: {len(picked)} sentences in {time.perf_counter() - t0:.1f} s")
    frags, refs = [], []
    for s, p in zip(picked, paths):
        pcm = np.clip(np.rint(read_mono(p, 16000) * 32768.0), -32768, 32767).astype(np.int16)
        frags.append(Fragment(0.0, len(pcm) / 16.0, pcm))
        refs.append(" ".join(words(s)))
    audio_s = sum(len(f.samples) for f in frags) / 16000
    clean = " ".join(words(GPL3.read_text(encoding="utf-8")))
    print(f"audio: {audio_s:.1f} s; document LM text: {len(clean.split())} words")

    configs = [("pocketsphinx, general LM", SttParams(own_lm=False)),
               ("pocketsphinx, document LM", SttParams())]
    if args.whisper:
        configs.append(("whisper", SttParams(engine="whisper", model_dir=args.whisper)))
    print(f"{'engine':28} {'WER':>7} {'RTF(cpu,1 proc)':>16} {'wall/audio s, ' + str(args.workers) + ' workers':>26}")
    for name, params in configs:
        t0 = time.perf_counter()
        spec = make_engine_spec(params, clean, lm_cache_dir=work / "lm")
        t_spec = time.perf_counter() - t0
        engine = load_engine(spec)
        c0 = time.process_time()
        hyp = [engine.transcribe(f.samples) for f in frags]
        cpu = time.process_time() - c0
        w0 = time.perf_counter()
        hyp2 = transcribe_fragments(frags, spec, workers=args.workers, show_progress=False)
        wall = time.perf_counter() - w0
        same = "" if hyp2 == hyp else "  (worker transcripts differ!)"
        print(f"{name:28} {jiwer.wer(refs, hyp):7.4f} {cpu / audio_s:16.3f} {wall / audio_s:26.3f}"
              f"   (spec/LM {t_spec:.2f} s){same}")


if __name__ == "__main__":
    main()
