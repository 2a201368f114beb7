"""Synthetic speech with known sentence times, for tests and benchmarks.

Sentences are read by festival's HTS voice `cmu_us_slt_arctic_hts` (one festival process for all of
them), resampled to the wanted rate with soxr, trimmed to their voiced span and concatenated with
planted pauses. The ground truth start/end (ms) of each sentence is therefore exact. A faint seeded
noise floor keeps the pauses from being digital silence, as in a real recording.

Synthesised sentences are cached as WAV files under a caller-given directory (pytest's
tmp_path_factory, or the benchmark's work dir), keyed by voice and text hash: never in the repo.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

VOICE = "cmu_us_slt_arctic_hts"
GPL3 = Path("/usr/share/common-licenses/GPL-3")


def gpl3_sentences() -> list[str]:
    """The GPL-3's sentences from its Preamble on, whitespace collapsed (real prose for tests)."""
    text = GPL3.read_text(encoding="utf-8")
    body = text[text.index("Preamble") + len("Preamble"):]
    out = []
    for para in re.split(r"\n\s*\n", body):
        para = " ".join(para.split())
        if not para or para.isupper():
            continue
        out.extend(s for s in re.split(r"(?<=[.!?;:])\s+(?=[A-Z(\"])", para) if s)
    return out


def speakable(sentence: str) -> bool:
    """Read by a TTS exactly as written: no digits (a TTS says "three" where the text has "3")."""
    return not re.search(r"\d", sentence) and len(sentence.split()) >= 3 and "<" not in sentence


def words(text: str) -> list[str]:
    """Lower-case words (letters and apostrophes), for comparing aligned text with sentences."""
    return re.findall(r"[a-z']+", text.lower().replace("--", " "))


def edge_equal(got: list[str], want: list[str], slack: int = 1) -> bool:
    """`got` equals `want` except for at most `slack` words added, dropped or changed at each edge."""
    for i in range(slack + 1):
        for j in range(slack + 1):
            for k in range(slack + 1):
                for m in range(slack + 1):
                    if got[i:len(got) - m] == want[k:len(want) - j] and len(got) - i - m > 0:
                        return True
    return False


@dataclass
class SpokenSentence:
    text: str
    start_ms: float
    end_ms: float


@dataclass
class Speech:
    samples: np.ndarray               # mono int16
    rate: int
    sentences: list[SpokenSentence]

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate

    def write_wav(self, path: str | Path) -> Path:
        import soundfile as sf

        sf.write(str(path), self.samples, self.rate, subtype="PCM_16")
        return Path(path)


def festival_missing_reason() -> str | None:
    """None when festival and the HTS voice are installed, else why not (a pytest skip reason)."""
    if shutil.which("festival") is None:
        return "festival is not installed (apt-get install festival festvox-us-slt-hts; bin/setup.sh does it)"
    if not any(Path("/usr/share/festival/voices/us").glob(f"{VOICE}*")):
        return f"festival voice {VOICE} is not installed (apt-get install festvox-us-slt-hts)"
    return None


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key(text: str, voice: str) -> str:
    return hashlib.sha256(f"{voice}\n{text}".encode("utf-8")).hexdigest()[:24]


def synthesise(texts: Sequence[str], cache_dir: str | Path, voice: str = VOICE) -> list[Path]:
    """WAV file (the synthesiser's native rate) for each text, synthesising only those not cached.

    `voice`: a festival voice (cmu_us_slt_arctic_hts, kal_diphone, ked_diphone) or
    `espeak:VOICE` for espeak-ng (e.g. espeak:en-us+m3)."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths = [cache_dir / f"{_key(t, voice)}.wav" for t in texts]
    todo = {p: t for p, t in zip(paths, texts) if not p.exists()}
    if todo and voice.startswith("espeak:"):
        for p, t in todo.items():
            tmp = p.with_suffix(".part.wav")
            subprocess.run(["espeak-ng", "-v", voice.split(":", 1)[1], "-s", "165", "-w", str(tmp), t],
                           check=True, capture_output=True)
            tmp.replace(p)
        return paths
    if todo:
        reason = festival_missing_reason()
        if reason:
            raise RuntimeError(reason)
        lines = [f"(voice_{voice})"]
        for p, t in todo.items():
            tmp = p.with_suffix(".part.wav")
            lines.append(f"(utt.save.wave (utt.synth (Utterance Text {_scheme_string(t)})) {_scheme_string(str(tmp))} 'riff)")
        script = cache_dir / f"synth-{_key(''.join(todo.values()), voice)}.scm"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        proc = subprocess.run(["festival", "-b", str(script)], capture_output=True, text=True)
        for p in todo:
            tmp = p.with_suffix(".part.wav")
            if not tmp.exists():
                raise RuntimeError(f"festival did not synthesise {todo[p]!r}: {proc.stderr[-500:]}")
            tmp.replace(p)
    return paths


def voiced_span(x: np.ndarray, rate: int, floor_db: float = -45.0) -> tuple[int, int]:
    """[start, end) of the part of `x` whose 10 ms frames are within `floor_db` of the loudest frame."""
    flen = max(1, rate // 100)
    n = len(x) // flen
    e = (x[: n * flen].astype(np.float64).reshape(n, flen) ** 2).mean(axis=1)
    loud = np.flatnonzero(e >= e.max() * 10 ** (floor_db / 10))
    return int(loud[0] * flen), int(min(len(x), (loud[-1] + 1) * flen))


def read_mono(path: Path, rate: int) -> np.ndarray:
    import soundfile as sf
    import soxr

    x, r = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if r != rate:
        x = soxr.resample(x, r, rate, quality="HQ")
    return x.astype(np.float32)


def build_speech(
    texts: Sequence[str],
    pauses_ms: Sequence[float],
    cache_dir: str | Path,
    rate: int = 16000,
    lead_ms: float = 500.0,
    tail_ms: float = 500.0,
    noise_db: float | None = -60.0,
    seed: int = 0,
    gains: Sequence[float] | None = None,
    voices: Sequence[str] | None = None,
) -> Speech:
    """Concatenate the sentences with `pauses_ms[i]` of pause after sentence i (len(texts) - 1 of
    them), `lead_ms` before the first and `tail_ms` after the last. `gains` scales sentences."""
    if len(pauses_ms) != max(0, len(texts) - 1):
        raise ValueError("need one pause between each two sentences")
    if voices is None:
        paths = synthesise(texts, cache_dir)
    else:   # one voice per sentence
        paths = [None] * len(texts)
        for v in sorted(set(voices)):
            idx = [i for i, vv in enumerate(voices) if vv == v]
            for i, p in zip(idx, synthesise([texts[i] for i in idx], cache_dir, v)):
                paths[i] = p
    parts: list[np.ndarray] = [np.zeros(int(round(lead_ms * rate / 1000)), np.float32)]
    sentences: list[SpokenSentence] = []
    pos = len(parts[0])
    for i, (t, p) in enumerate(zip(texts, paths)):
        x = read_mono(p, rate)
        a, b = voiced_span(x, rate)
        x = x[a:b] * (1.0 if gains is None else gains[i])
        sentences.append(SpokenSentence(t, pos * 1000.0 / rate, (pos + len(x)) * 1000.0 / rate))
        parts.append(x)
        pos += len(x)
        gap = pauses_ms[i] if i < len(pauses_ms) else tail_ms
        z = np.zeros(int(round(gap * rate / 1000)), np.float32)
        parts.append(z)
        pos += len(z)
    y = np.concatenate(parts)
    if noise_db is not None:
        y = y + np.random.default_rng(seed).normal(0.0, 10 ** (noise_db / 20), len(y)).astype(np.float32)
    samples = np.clip(np.rint(y * 32768.0), -32768, 32767).astype(np.int16)
    return Speech(samples, rate, sentences)


@dataclass
class TimedWord:
    word: str          # festival's word, lower-cased
    start: float       # seconds from the start of the sentence's WAV file
    end: float


def synthesise_timed(texts: Sequence[str], cache_dir: str | Path, voice: str = VOICE) -> list[tuple[Path, list[TimedWord]]]:
    """WAV file and festival's own word timings for each text (the truth for word alignment).

    festival's utterance structure holds, after synthesis, each word's start and end (from its
    segments' end times, i.e. the durations the voice actually rendered). Each sentence's words
    are cached as JSON beside its WAV, keyed like the WAV.
    """
    import json

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    base = [cache_dir / f"{_key(t, voice)}.timed" for t in texts]
    todo = {b: t for b, t in zip(base, texts)
            if not (b.with_suffix(".timed.wav").exists() and b.with_suffix(".timed.json").exists())}
    if todo:
        reason = festival_missing_reason() if voice == VOICE else (
            "festival is not installed" if shutil.which("festival") is None else None)
        if reason:
            raise RuntimeError(reason)
        lines = [f"(voice_{voice})"]
        for b, t in todo.items():
            wav, words_out = b.with_suffix(".part.wav"), b.with_suffix(".part.txt")
            lines.append(f"(set! u (utt.synth (Utterance Text {_scheme_string(t)})))")
            lines.append(f"(utt.save.wave u {_scheme_string(str(wav))} 'riff)")
            lines.append(f"(set! fd (fopen {_scheme_string(str(words_out))} \"w\"))")
            lines.append("(mapcar (lambda (w) (format fd \"%s\\t%s\\t%s\\n\" (item.name w) "
                         "(item.feat w \"word_start\") (item.feat w \"word_end\"))) (utt.relation.items u 'Word))")
            lines.append("(fclose fd)")
        script = cache_dir / f"timed-{_key(''.join(todo.values()), voice)}.scm"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        proc = subprocess.run(["festival", "-b", str(script)], capture_output=True, text=True)
        for b, t in todo.items():
            wav, words_out = b.with_suffix(".part.wav"), b.with_suffix(".part.txt")
            if not (wav.exists() and words_out.exists()):
                raise RuntimeError(f"festival did not synthesise {t!r}: {proc.stderr[-500:]}")
            rows = [ln.split("\t") for ln in words_out.read_text(encoding="utf-8").splitlines() if ln.strip()]
            b.with_suffix(".timed.json").write_text(json.dumps(
                [[w.lower(), float(s), float(e)] for w, s, e in rows]), encoding="utf-8")
            words_out.unlink()
            wav.replace(b.with_suffix(".timed.wav"))
    out = []
    for b in base:
        rows = json.loads(b.with_suffix(".timed.json").read_text(encoding="utf-8"))
        out.append((b.with_suffix(".timed.wav"), [TimedWord(w, s, e) for w, s, e in rows]))
    return out
