"""Real recorded prompts (alsa-utils' speaker-test voice, pocketsphinx-testdata's card prompts):
short prompts read one per line, one skipped, numbers written as digits. Oracle: the script and
the recordings it was built from (bench/real_prompts.py builds both)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.audio.test_e2e_cli import run_align
from tests.speechgen import words

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("real_prompts_bench", ROOT / "bench" / "real_prompts.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _align_degraded(tmp_path: Path, items, steps: list[str], ids: bool = False):
    """Build the prompt audio and script from `items` (None: all), degrade it with
    make_speech_bench's `steps`, align with pocketsphinx: (truth, aligned, stderr)."""
    import shutil
    import sys

    rp = _bench()
    if not (rp.ALSA / "Front_Left.wav").exists() or not (rp.PS / "cards").is_dir() or not shutil.which("sox"):
        pytest.skip("needs alsa-utils, pocketsphinx-testdata and sox (bin/setup.sh installs them)")
    truth = rp.build(tmp_path, items, name="p", ids=ids)
    if steps:
        sys.path.insert(0, str(ROOT / "bench"))
        from make_speech_bench import apply_degradations

        spans = [(it["start_ms"], it["end_ms"]) for it in truth["items"] if it["spoken"]]
        apply_degradations(tmp_path / "p.wav", steps, spans, seed=7)
    out = tmp_path / "p.aligned"
    r = run_align("--audio", tmp_path / "p.wav", "--script", tmp_path / "p.txt", "--aligned", out,
                  "--stt-engine", "pocketsphinx", "--lm-cache-dir", tmp_path / "lm")
    assert r.returncode == 0, r.stderr
    return truth, json.loads(out.read_text(encoding="utf-8")), r.stderr


def test_two_word_prompts_and_a_skipped_line(tmp_path: Path):
    rp = _bench()
    chosen = [it for it in rp.script_items()
              if it[0] is None and it[1] in ("Jack of diamonds.", "Rear Surround.")
              or it[0] is not None and (it[0].parent.name in ("alsa", "cards"))]
    truth, aligned, stderr = _align_degraded(tmp_path, chosen, [])
    assert sum(1 for it in truth["items"] if not it["spoken"]) == 2
    assert "line by line" in stderr, stderr
    res = rp.evaluate(truth, aligned)
    missed = [it["text"] for ok, it, _ in res["rows"] if not ok]
    # all thirteen: eight two-word channel names ("Front Left."), five card prompts with digits
    assert not missed, (missed, [u["aligned"] for u in aligned])
    assert res["unspoken"] == []
    assert [words(u["aligned"]) for u in aligned][:2] == [["ten", "of", "clubs"], ["four", "queen", "of", "clubs"]]


def test_telephone_band_prompts_need_the_calibrated_proof(tmp_path: Path):
    """The same real voices through a telephone band (8 kHz round trip, 300-3400 Hz): their own
    certain words score about 2 nats/frame below free phones, under the fixed proof threshold.
    The calibrated proof keeps every prompt and still gives the skipped lines to nobody."""
    truth, aligned, stderr = _align_degraded(tmp_path, None, ["phone"])
    assert "proof calibration on" in stderr and "thresholds moved by -" in stderr, stderr
    res = _bench().evaluate(truth, aligned)
    missed = [it["text"] for ok, it, _ in res["rows"] if not ok]
    assert len(missed) <= 1, missed
    assert res["unspoken"] == []


def test_noisy_prompts_short_words_open_a_fragment(tmp_path: Path):
    """Noise at 15 dB over the card and channel prompts: the noise front end's longer VAD ring
    closes fragments, but opening keeps the normal ring, so "Front Left." (two short words with
    a breath between) still opens a fragment and is aligned."""
    rp = _bench()
    chosen = [it for it in rp.script_items() if it[0] is not None and it[0].parent.name in ("alsa", "cards")]
    truth, aligned, stderr = _align_degraded(tmp_path, chosen, ["noise:15"])
    assert "noisy audio: VAD ring" in stderr, stderr
    res = rp.evaluate(truth, aligned)
    by_text = {it["text"]: ok for ok, it, _ in res["rows"]}
    assert by_text["Front Left."] and by_text["Front Center."], res["rows"]
    assert sum(by_text.values()) >= len(by_text) - 1, by_text


@pytest.mark.parametrize("ids", [True, "numbers"])
def test_a_prompt_list_with_utterance_ids_or_numbers(tmp_path: Path, ids):
    """Every line starts with an utterance id ("spk1_0009 Front Left."), as a Kaldi `text` file
    does, or with its number on a numbered sheet ("9. Front Left."): the ids are not read (left
    out like page furniture), the list still reads line by line, and each utterance carries its
    prompt's id in its meta."""
    rp = _bench()
    chosen = [it for it in rp.script_items()
              if it[0] is None and it[1] == "Rear Surround." or it[0] is not None and it[0].parent.name == "alsa"]
    truth, aligned, stderr = _align_degraded(tmp_path, chosen, [], ids=ids)
    assert "line by line" in stderr, stderr
    res = rp.evaluate(truth, aligned)      # a prompt counts only with its own id in the meta
    assert [it["text"] for ok, it, _ in res["rows"] if not ok] == []
    assert res["unspoken"] == [] and not any("spk" in u["aligned"] for u in aligned)
