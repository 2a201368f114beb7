#!/usr/bin/env python3
"""Real speech, read prompts: every real human recording that ships in Debian packages here,
read from a prompt script that also holds lines nobody read.

The recordings (several speakers, microphones and sample rates, all real):
- pocketsphinx-testdata: the playing-card prompts (`cards/`), "go forward ten meters",
  "go somewhere and do something", a TIDIGITS digit string and the five LibriVox clips;
- alsa-utils: the eight speaker-test channel names ("Front Left", ...; 48 kHz).

The script is what a prompt-recording session looks like: a title and a session header, one
prompt per line, numbers written as digits ("Go forward 10 meters."), and prompts that were
skipped in the session (not in the audio). The audio is the recordings in script order with
pauses of 0.5-1.6 s between them (fixed seed), resampled to 16 kHz.

Scores, per recorded prompt: one utterance whose words are exactly the prompt's (prompts of up
to four words) or the prompt's +-1 word at each edge (longer ones), and how many utterances
carry text of a line that was not read (unspoken). Median boundary errors of the right ones,
against the speech inside each recording (an estimate: its 300 Hz-7 kHz frames within 35 dB of
its loudest).

`--ids` starts every prompt line with an utterance id ("spk1_0003 Go somewhere and do
something.", a Kaldi `text` file), `--numbered` with its number ("3. Go somewhere ..."); a
prompt then also needs its id (number) in the utterance's meta.
`--degrade phone,reverb,noise:15` passes the recordings through make_speech_bench's
degradations (telephone band through 8 kHz, sox reverb, noise at an SNR over the speech) after
they are joined: real voices in the benchmark's hard conditions.

    python3 bench/real_prompts.py [--ids | --numbered] [--degrade STEPS] [--keep DIR] [-- EXTRA ALIGN OPTIONS]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align.audio.load import load_audio  # noqa: E402
from tests.speechgen import edge_equal, words  # noqa: E402

PS = Path("/usr/share/pocketsphinx/test/data")
ALSA = Path("/usr/share/sounds/alsa")
RATE = 16000


def _transcription(folder: Path, name: str) -> list[tuple[Path, str]]:
    """(recording, words) per line of a pocketsphinx test transcription in `folder`."""
    from librivox_align import read_transcription

    return [(folder / f"{cid}.wav", text) for cid, text in read_transcription(folder / name)]


def _cards() -> list[tuple[Path, str]]:
    return _transcription(PS / "cards", "cards.transcription")


def _librivox() -> list[tuple[Path, str]]:
    return _transcription(PS / "librivox", "transcription")


# (recording or None for a line skipped in the session, script line as written, words said)
def script_items() -> list[tuple[Path | None, str, str]]:
    cards = _cards()
    card_lines = {"001": "10 of clubs.", "002": "4, queen of clubs.", "003": "7 of clubs.", "004": "5, 5.",
                  "005": "8 of spades, 4 of clubs, 7 of hearts."}
    libri = _librivox()
    ch = ["Front Left", "Front Center", "Front Right", "Side Left", "Side Right", "Rear Left", "Rear Center",
          "Rear Right"]
    items: list[tuple[Path | None, str, str]] = [
        (PS / "goforward.raw", "Go forward 10 meters.", "go forward ten meters"),
        (None, "Go back 5 meters.", ""),
        (PS / "something.raw", "Go somewhere and do something.", "go somewhere and do something"),
        (PS / "tidigits" / "dhd.2934z.raw", "2 9 3 4 0", "two nine three four zero"),
    ]
    for path, text in cards:
        items.append((path, card_lines[path.stem], text))
        if path.stem == "003":
            items.append((None, "Jack of diamonds.", ""))
    for name in ch:
        items.append((ALSA / f"{name.replace(' ', '_')}.wav", name + ".", name.lower()))
        if name == "Side Right":
            items.append((None, "Rear Surround.", ""))
    items.append((None, "Read the next lines as one passage, at your own pace.", ""))
    for path, text in libri:
        items.append((path, _sentence_case(text), text))
    return items


def _sentence_case(text: str) -> str:
    t = text.strip()
    return t[:1].upper() + t[1:] + ("" if t.endswith((".", "?", "!")) else ".")


def require_data() -> None:
    for p, why in ((PS / "cards" / "cards.transcription", "pocketsphinx-testdata"),
                   (ALSA / "Front_Left.wav", "alsa-utils")):
        if not p.exists():
            sys.exit(f"{p} not found: apt-get install {why}")


def _read(path: Path) -> np.ndarray:
    if path.suffix == ".raw":      # pocketsphinx test data: headerless 16 kHz 16-bit mono
        return np.fromfile(path, dtype="<i2")
    return load_audio(path, RATE)


def speech_extent(x: np.ndarray, below_peak_db: float = 35.0) -> tuple[int, int]:
    """First and last sample of the speech in a recording: the 20 ms frames whose energy between
    300 Hz and 7 kHz is within `below_peak_db` of the loudest frame's. The files hold room tone,
    hum and microphone bumps before and after the speech; the band leaves most of those out."""
    n = RATE // 50
    frames = x[: len(x) // n * n].astype(np.float64).reshape(-1, n) * np.hanning(n)
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    f = np.fft.rfftfreq(n, 1.0 / RATE)
    db = 10 * np.log10(spec[:, (f >= 300) & (f <= 7000)].sum(axis=1) + 1e-9)
    loud = np.flatnonzero(db >= db.max() - below_peak_db)
    return int(loud[0]) * n, (int(loud[-1]) + 1) * n


def build(work: Path, items=None, seed: int = 7, name: str = "prompts", ids: bool | str = False) -> dict:
    """work/NAME.wav, work/NAME.txt from `items` (default: `script_items()`); returns the truth:
    per script line its text spans and, when recorded, the recording's span in the audio
    (`file_ms`) and the speech inside it (`start_ms`, `end_ms`). `ids`: every prompt line starts
    with an utterance id, as in a Kaldi `text` file ("spk1_0003 Go somewhere ..."; `id`);
    `ids="numbers"`: with its number on a numbered prompt sheet ("3. Go somewhere ...")."""
    rng = np.random.default_rng(seed)
    items = script_items() if items is None else items
    header = "Prompt script: device test session 3\nSpeaker: (see sheet)\n\n"
    doc = header
    pos = int(0.8 * RATE)
    parts = [np.zeros(pos, dtype=np.int16)]
    truth = []
    for k, (path, line, said) in enumerate(items):
        uid = str(k + 1) if ids == "numbers" else f"spk1_{k + 1:04d}"
        if ids:
            doc += uid + (". " if ids == "numbers" else " ")
        ta = len(doc)
        doc += line + "\n"
        rec = {"text": line, "said": said, "text_start": ta, "text_end": ta + len(line), "spoken": path is not None}
        if ids:
            rec["id"] = uid
        if path is not None:
            x = _read(path)
            a, b = speech_extent(x)
            rec["file_ms"] = (pos * 1000.0 / RATE, (pos + len(x)) * 1000.0 / RATE)
            rec["start_ms"], rec["end_ms"] = (pos + a) * 1000.0 / RATE, (pos + b) * 1000.0 / RATE
            rec["source"] = f"{path.parent.name}/{path.name}"
            parts.append(x)
            gap = int(rng.uniform(0.5, 1.6) * RATE)
            parts.append(np.zeros(gap, dtype=np.int16))
            pos += len(x) + gap
        truth.append(rec)
    audio = np.concatenate(parts)
    sf.write(work / f"{name}.wav", audio, RATE, subtype="PCM_16")
    (work / f"{name}.txt").write_text(doc, encoding="utf-8")
    return {"items": truth, "seconds": len(audio) / RATE}


def judge(want: list[str], got: list[str]) -> bool:
    if len(want) <= 4:
        return got == want
    return edge_equal(got, want)


def evaluate(truth: dict, aligned: list[dict]) -> dict:
    rows, start_err, end_err = [], [], []
    unspoken = []
    for it in truth["items"]:
        if not it["spoken"]:
            bad = [u for u in aligned if u["text-start"] < it["text_end"] and u["text-end"] > it["text_start"]]
            unspoken += bad
            continue
        want = words(it["said"])
        fa, fb = it["file_ms"]
        mine = [u for u in aligned if fa <= (u["start"] + u["end"]) / 2 < fb
                or (u["text-start"] < it["text_end"] and u["text-end"] > it["text_start"])]
        good = [u for u in mine if judge(want, words(u["aligned"]))
                and it["text_start"] - 1 <= u["text-start"] and u["text-end"] <= it["text_end"] + 1
                and ("id" not in it or u.get("meta", {}).get("id") == [it["id"]])]
        ok = len(mine) == 1 and bool(good)
        if ok:
            start_err.append(abs(good[0]["start"] - it["start_ms"]))
            end_err.append(abs(good[0]["end"] - it["end_ms"]))
        rows.append((ok, it, mine))
    return {"rows": rows, "unspoken": unspoken, "start_err": start_err, "end_err": end_err}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="keep the audio, script and outputs in this folder")
    ap.add_argument("--degrade", default="", help="comma-separated: phone, reverb, noise:SNR, tempo:F")
    ap.add_argument("--ids", action="store_true", help="start every prompt line with an utterance id (Kaldi text)")
    ap.add_argument("--numbered", action="store_true", help="start every prompt line with its number (\"3. ...\")")
    ap.add_argument("extra", nargs="*", help="more align options (after --)")
    args = ap.parse_args()
    require_data()
    with tempfile.TemporaryDirectory(prefix="real-prompts-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        truth = build(work, ids="numbers" if args.numbered else args.ids)
        if args.degrade:
            from make_speech_bench import apply_degradations

            spans = [(it["start_ms"], it["end_ms"]) for it in truth["items"] if it["spoken"]]
            apply_degradations(work / "prompts.wav", args.degrade.split(","), spans, seed=7)
        out = work / "prompts.aligned"
        cmd = [sys.executable, "-m", "align.cli.align", "--audio", str(work / "prompts.wav"), "--script",
               str(work / "prompts.txt"), "--aligned", str(out), "--lm-cache-dir", str(work / "lm"),
               "--no-progress", "--force", *args.extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        if proc.returncode not in (0, 3):
            sys.exit(f"align failed ({proc.returncode}):\n{proc.stderr}")
        aligned = json.loads(out.read_text(encoding="utf-8"))
        fragments = json.loads((work / "prompts.tlog").read_text(encoding="utf-8"))["fragments"]
    res = evaluate(truth, aligned)
    rows = res["rows"]
    n_ok = sum(ok for ok, _, _ in rows)
    print(f"{len(rows)} recorded prompts, {truth['seconds']:.1f} s, {len(fragments)} VAD fragments, "
          f"{len(aligned)} utterances, wall {wall:.1f} s; degraded: {args.degrade or 'no'}; "
          f"options: {' '.join(args.extra) or '(defaults)'}")
    for ok, it, mine in rows:
        print(f"{'ok  ' if ok else 'MISS'} {it['source']:<32} {it['text'][:50]!r}")
        if not ok:
            for u in mine:
                print(f"      utterance [{u['start'] / 1000:.2f}-{u['end'] / 1000:.2f}] {u['aligned']!r}")
            for f in fragments:
                if f["start"] < it["file_ms"][1] and f["end"] > it["file_ms"][0]:
                    print(f"      fragment  [{f['start'] / 1000:.2f}-{f['end'] / 1000:.2f}] stt: {f['transcript']!r}")
    for u in res["unspoken"]:
        print(f"UNSPOKEN  [{u['start'] / 1000:.2f}-{u['end'] / 1000:.2f}] {u['aligned']!r}")
    med = (lambda xs: f"{statistics.median(xs):.0f}" if xs else "-")
    print(f"prompts as one utterance with the right text: {n_ok}/{len(rows)} = {100.0 * n_ok / len(rows):.1f}%")
    print(f"utterances with text nobody read: {len(res['unspoken'])}")
    print(f"median boundary error of the right ones: start {med(res['start_err'])} ms, end {med(res['end_err'])} ms")


if __name__ == "__main__":
    main()
