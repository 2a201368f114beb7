#!/usr/bin/env python3
"""Build the end-to-end alignment benchmarks: GPL-3 prose read by synthetic voices, degraded.

Sentences of the GPL-3 (from its Preamble on) are read one by one with seeded random pauses of
0.3-1.5 s. The text given to the aligner is the document with unspoken material: a title block,
running page headers and page numbers, and a few sentences deliberately left out of the audio.
Sentences holding digits are unspoken too, except in the `numbers` variants, where the voice
reads them aloud ("section 7" -> "section seven") and the aligner must verbalise the text.

Variants (`--suite` builds them all under OUT/<name>; `--variant NAME` one of them):
voices festival `cmu_us_slt_arctic_hts` (HTS), `kal_diphone`, `ked_diphone` and espeak-ng, one
voice or several alternating by sentence; telephone band (300-3400 Hz) with an 8 kHz round trip;
reverberation (sox reverb); noise mixed at a given SNR over the speech; faster or slower speech
(sox tempo, truth times scaled).

Writes to OUT (default bench/out/speech): speech.wav (16 kHz mono), text.txt, truth.json
({"items": [{"text", "start", "end" (offsets into text.txt), "kind", "spoken", "start_ms",
"end_ms"}], ...}). Synthesised sentences are cached in OUT/../cache.

    python3 bench/make_speech_bench.py [--out DIR] [--minutes 10] [--seed 1] [--variant slt]
    python3 bench/make_speech_bench.py --suite --out bench/out/suite --minutes 3
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.speechgen import build_speech, festival_missing_reason, gpl3_sentences, speakable  # noqa: E402

WORDS_PER_MINUTE = 165   # the HTS voice's pace, to choose how many sentences to read
SENTENCES_PER_PAGE = 12


SLT = "cmu_us_slt_arctic_hts"
ESPEAK = "espeak:en-us+m3"
# name -> (voices, degradations, numbers read aloud)
VARIANTS = {
    "slt": ([SLT], [], False),
    "kal": (["kal_diphone"], [], False),
    "ked": (["ked_diphone"], [], False),
    "espeak": ([ESPEAK], [], False),
    "slt-numbers": ([SLT], [], True),
    "kal-phone": (["kal_diphone"], ["phone"], False),
    "slt-noise10": ([SLT], ["noise:10"], False),
    "ked-reverb": (["ked_diphone"], ["reverb"], False),
    "slt-fast": ([SLT], ["tempo:1.25"], False),
    "kal-slow": (["kal_diphone"], ["tempo:0.85"], False),
    # the hardest set: four voices by turns, reverberation, telephone band, 15 dB noise, numbers
    "mixed-hard": ([SLT, "kal_diphone", "ked_diphone", ESPEAK], ["reverb", "phone", "noise:15"], True),
}


def spoken_ok(sentence: str, numbers: bool) -> bool:
    if numbers:
        return len(sentence.split()) >= 3 and "<" not in sentence and not re.search(r"\d[.)]|\(\w\)", sentence)
    return speakable(sentence)


def build(out: Path, minutes: float, seed: int, left_out: int = 3, variant: str = "slt") -> dict:
    voices, degrade, numbers = VARIANTS[variant]
    rng = random.Random(seed)
    sentences = gpl3_sentences()
    chosen: list[str] = []
    words = 0
    for s in sentences:
        chosen.append(s)
        if spoken_ok(s, numbers):
            words += len(s.split())
        if words >= minutes * WORDS_PER_MINUTE:
            break
    speak_idx = [i for i, s in enumerate(chosen) if spoken_ok(s, numbers)]
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
    per_sentence = [voices[k % len(voices)] for k in range(len(spoken_items))]
    speech = build_speech([it["text"] for it in spoken_items], pauses, out.parent / "cache", rate=16000, seed=seed,
                          voices=per_sentence)
    synth_s = time.time() - t0
    scale = 1.0
    for d in degrade:
        if d.startswith("tempo:"):
            scale /= float(d.split(":")[1])
    for it, ss in zip(spoken_items, speech.sentences):
        it["start_ms"], it["end_ms"] = ss.start_ms * scale, ss.end_ms * scale

    out.mkdir(parents=True, exist_ok=True)
    speech.write_wav(out / "speech.wav")
    if degrade:
        spans = [(it["start_ms"], it["end_ms"]) for it in spoken_items]
        apply_degradations(out / "speech.wav", degrade, spans, seed)
    (out / "text.txt").write_text(doc, encoding="utf-8")
    import soundfile as sf

    duration_s = sf.info(str(out / "speech.wav")).duration
    truth = {"audio": "speech.wav", "text": "text.txt", "rate": speech.rate, "duration_s": duration_s,
             "seed": seed, "variant": variant, "voices": voices, "degradations": degrade, "numbers": numbers,
             "items": items}
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    kinds = {}
    for it in items:
        kinds[it["kind"]] = kinds.get(it["kind"], 0) + 1
    print(f"wrote {out} ({variant}): {duration_s:.1f} s of speech, {len(spoken_items)} spoken sentences, "
          f"text items by kind {kinds} (synthesis {synth_s:.1f} s)")
    return truth


def apply_degradations(wav: Path, degrade: list[str], spans: list[tuple[float, float]], seed: int) -> None:
    """Degrade the file in place, in the order given (sox for filters, numpy for noise).

    `spans`: the spoken sentences' (start_ms, end_ms) in the degraded file's time, over which the
    noise's SNR is measured. Checked with an audit of each step (peak, clipped samples, levels over
    speech and pauses, SNR against the step's input): the reverb used to clip inside sox (its
    gain came after it) and the SNR was measured over "loud frames", 1 dB off the SNR over speech."""
    import numpy as np
    import soundfile as sf

    for d in degrade:
        tmp = wav.with_suffix(".tmp.wav")
        if d == "phone":   # telephone band, through 8 kHz and back
            subprocess.run(["sox", "-D", str(wav), "-r", "8000", str(tmp), "sinc", "300-3400"], check=True)
            subprocess.run(["sox", "-D", str(tmp), "-r", "16000", str(wav)], check=True)
            tmp.unlink()
        elif d == "reverb":
            n = sf.info(str(wav)).frames
            # headroom first: reverberation adds energy, and sox clips inside the effect
            subprocess.run(["sox", "-D", str(wav), str(tmp), "gain", "-6", "reverb", "40", "50", "70"], check=True)
            x, r = sf.read(str(tmp), dtype="int16")
            sf.write(str(wav), x[:n] if x.ndim == 1 else x[:n, 0], r, subtype="PCM_16")
            tmp.unlink()
        elif d.startswith("tempo:"):
            subprocess.run(["sox", "-D", str(wav), str(tmp), "tempo", "-s", d.split(":")[1]], check=True)
            tmp.replace(wav)
        elif d.startswith("noise:"):
            snr = float(d.split(":")[1])
            x, r = sf.read(str(wav), dtype="float64")
            # speech power over the spoken sentences (pauses would dilute it)
            spoken = np.zeros(len(x), bool)
            for a, b in spans:
                spoken[int(a * r / 1000):int(b * r / 1000)] = True
            p_speech = float((x[spoken] ** 2).mean())
            rng = np.random.default_rng(seed)
            w = rng.normal(size=len(x))
            noise = np.convolve(w, np.ones(4) / 4, mode="same")   # a little low-passed: less hiss, more rumble
            noise *= np.sqrt(p_speech / 10 ** (snr / 10) / float((noise ** 2).mean()))
            y = np.clip(x + noise, -1.0, 32767 / 32768)
            sf.write(str(wav), y, r, subtype="PCM_16")
        else:
            raise ValueError(f"unknown degradation {d!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "speech")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="slt")
    ap.add_argument("--suite", action="store_true", help="build every variant under OUT/<variant>")
    ap.add_argument("--only", default=None, help="--suite: comma-separated variants")
    args = ap.parse_args()
    reason = festival_missing_reason()
    if reason:
        sys.exit(f"make_speech_bench: {reason}")
    if args.suite:
        names = args.only.split(",") if args.only else list(VARIANTS)
        for k, name in enumerate(names):
            build(args.out / name, args.minutes, args.seed + k, variant=name)
    else:
        build(args.out, args.minutes, args.seed, variant=args.variant)


if __name__ == "__main__":
    main()
