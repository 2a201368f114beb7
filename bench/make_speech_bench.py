#!/usr/bin/env python3
"""Build the end-to-end alignment benchmark: ~10 minutes of GPL-3 prose read by festival.

Sentences of the GPL-3 (from its Preamble on) are read one by one by the HTS voice
`cmu_us_slt_arctic_hts` with seeded random pauses of 0.3-1.5 s. The text given to the aligner is
the document with unspoken material: a title block, running page headers and page numbers, the
sentences holding digits (section numbers, "(1)" lists: a TTS reads digits, the text has digits,
so they are treated as unspoken), and a few sentences deliberately left out of the audio.

Writes to OUT (default bench/out/speech): speech.wav (16 kHz mono), text.txt, truth.json
({"items": [{"text", "start", "end" (offsets into text.txt), "kind", "spoken", "start_ms",
"end_ms"}], ...}). Synthesised sentences are cached in OUT/cache.

    python3 bench/make_speech_bench.py [--out DIR] [--minutes 10] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.speechgen import build_speech, festival_missing_reason, gpl3_sentences, speakable  # noqa: E402

WORDS_PER_MINUTE = 165   # the HTS voice's pace, to choose how many sentences to read
SENTENCES_PER_PAGE = 12


def build(out: Path, minutes: float, seed: int, left_out: int = 3) -> dict:
    rng = random.Random(seed)
    sentences = gpl3_sentences()
    chosen: list[str] = []
    words = 0
    for s in sentences:
        chosen.append(s)
        if speakable(s):
            words += len(s.split())
        if words >= minutes * WORDS_PER_MINUTE:
            break
    speak_idx = [i for i, s in enumerate(chosen) if speakable(s)]
    omitted = set(rng.sample(speak_idx[5:-5], min(left_out, max(0, len(speak_idx) - 10))))

    # The document: title block, then sentences (one paragraph per sentence), page breaks with a
    # running header and a page number every SENTENCES_PER_PAGE sentences.
    items: list[dict] = []
    doc = ""

    def add(text: str, kind: str, spoken: bool) -> None:
        nonlocal doc
        start = len(doc)
        doc += text
        items.append({"text": text, "start": start, "end": len(doc), "kind": kind, "spoken": spoken})
        doc += "\n\n"

    add("GNU GENERAL PUBLIC LICENSE", "header", False)
    add("Version 3, 29 June 2007", "header", False)
    page = 1
    for i, s in enumerate(chosen):
        if i and i % SENTENCES_PER_PAGE == 0:
            add(f"- {page} -", "page-number", False)
            page += 1
            add(f"GNU GPL version 3 page {page}", "header", False)
        spoken = i in speak_idx and i not in omitted
        add(s, "sentence" if spoken else ("left-out" if i in omitted else "unspeakable"), spoken)
    add(f"- {page} -", "page-number", False)

    spoken_items = [it for it in items if it["spoken"]]
    pauses = [rng.uniform(300.0, 1500.0) for _ in spoken_items[1:]]
    t0 = time.time()
    speech = build_speech([it["text"] for it in spoken_items], pauses, out / "cache", rate=16000, seed=seed)
    synth_s = time.time() - t0
    for it, ss in zip(spoken_items, speech.sentences):
        it["start_ms"], it["end_ms"] = ss.start_ms, ss.end_ms

    out.mkdir(parents=True, exist_ok=True)
    speech.write_wav(out / "speech.wav")
    (out / "text.txt").write_text(doc, encoding="utf-8")
    truth = {"audio": "speech.wav", "text": "text.txt", "rate": speech.rate, "duration_s": speech.duration_s,
             "seed": seed, "items": items}
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    kinds = {}
    for it in items:
        kinds[it["kind"]] = kinds.get(it["kind"], 0) + 1
    print(f"wrote {out}: {speech.duration_s:.1f} s of speech, {len(spoken_items)} spoken sentences, "
          f"text items by kind {kinds} (synthesis {synth_s:.1f} s)")
    return truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "speech")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    reason = festival_missing_reason()
    if reason:
        sys.exit(f"make_speech_bench: {reason}")
    build(args.out, args.minutes, args.seed)


if __name__ == "__main__":
    main()
