"""Utterance edges trimmed to the sound: the quiet audio at each end of an utterance is cut off.

An utterance's times come from its fragments (the VAD keeps `tail_ms` of silence after the last
voiced frame so that the recogniser hears the end of the last word), from the second pass (a
cut in the middle of the pause between two sentences, a few tens of ms kept around proven
words) or from merging (the first fragment's start, the last one's end). Each of these puts an
edge some way into the pause: ends 100-200 ms after the speech stops.

The trim moves each edge inwards over quiet 10 ms frames only. A frame is *sound* when its
energy is at least `margin_db` above the upper level of the background near the edge. Of the
frame energies within `FLOOR_WINDOW_MS` either side (local, so that a background that changes
over the recording is followed), the quietest level is a low percentile (`FLOOR_PERCENTILE`: the
~150 ms of pause an edge lies in suffice even where the speech around it is dense); the frames
within `spread_db` of it are the background, and its upper level is their `BACKGROUND_TOP`th
percentile (`spread_db` 0, the default: the quietest level itself). Real rooms and lossy codecs
give a background that fluctuates by 10 dB and more (LibriVox recordings: -55 to -40 dBFS between
sentences); measured from the quietest frames, its bumps count as sound and the end stays in the
pause. A spread of ~8 dB follows such a background, but it also takes the weakest speech (an
/f/ or /th/ 6 dB above a quiet floor, a vowel's last 10 dB of decay) for background and cuts
it; the default keeps it: a late end is the lesser harm. The end moves back to the end of the last sound frame (plus `end_pad_ms`), the
start on to the start of the first (less `start_pad_ms`), at most `max_trim_ms` each; a sound frame is never cut, so a
soft ending (a fricative, a decaying vowel) that stands above the background stays whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
import numpy as np

log = logging.getLogger(__name__)

FRAME_MS = 10.0
FLOOR_PERCENTILE = 3
BACKGROUND_TOP = 90
FLOOR_WINDOW_MS = 2000.0
# Forced alignment for the word cap at full frame rate: with every 2nd frame (40% less CPU) word
# ends in reverberant speech came out ~100 ms later.
FORCED_DOWNSAMPLE = 1
SILENCE_MS = 1.0          # one LSB squared: digital silence is clamped here (about -90 dBFS)


@dataclass(frozen=True)
class BoundsParams:
    """--no-trim-edges, --trim-margin-db, --trim-start-pad-ms, --trim-end-pad-ms, --trim-max-ms."""

    trim: bool = True               # with audio: trim utterance edges to the sound
    margin_db: float = 4.5          # a frame is sound this many dB above the background's upper level
    spread_db: float = 0.0          # the background: frames within this many dB of the quietest ones
    start_pad_ms: float = 20.0      # kept before the first sound frame
    end_pad_ms: float = 20.0        # kept after the last sound frame
    max_trim_ms: float = 500.0      # at most this much is cut off at each edge
    # An end more than this after the last word's end (forced alignment) is cut back to it (None: off).
    word_cap_ms: float | None = 100.0
    # Below this signal-to-background ratio (dB, the utterance's loud level over the background
    # near the edge) the VAD classifier's speech frames count as sound too (see `trim_span`).
    noisy_db: float = 30.0
    strong_db: float = 15.0         # ... checked only where the sound after the last frame within this
                                    # many dB of the utterance's loud level lasts longer than word_cap_ms

    def validate(self) -> None:
        from .common.errors import UsageError

        for name, v, lo, hi in (("--trim-margin-db", self.margin_db, 0.5, 60.0),
                                ("--trim-spread-db", self.spread_db, 0.0, 60.0),
                                ("--trim-start-pad-ms", self.start_pad_ms, 0.0, 1000.0),
                                ("--trim-end-pad-ms", self.end_pad_ms, 0.0, 1000.0),
                                ("--trim-max-ms", self.max_trim_ms, 0.0, 5000.0),
                                ("--trim-strong-db", self.strong_db, 1.0, 90.0),
                                ("--trim-noisy-db", self.noisy_db, 0.0, 120.0),
                                *((("--trim-word-cap-ms", self.word_cap_ms, 0.0, 5000.0),)
                                  if self.word_cap_ms is not None else ())):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (lo <= v <= hi):
                raise UsageError(f"{name} must be a number in [{lo:g}, {hi:g}], got {v!r}")


def frame_db(samples: np.ndarray, rate: int, frame_ms: float = FRAME_MS, block: int = 1 << 16) -> np.ndarray:
    """Energy (dB re full scale) of consecutive `frame_ms` frames of int16 `samples`; a final
    partial frame is dropped. Computed in blocks of frames, so hours of audio need no float copy."""
    flen = max(1, int(round(rate * frame_ms / 1000.0)))
    n = len(samples) // flen
    out = np.empty(n, dtype=np.float32)
    for a in range(0, n, block):
        b = min(n, a + block)
        x = samples[a * flen:b * flen].astype(np.float32).reshape(b - a, flen)
        out[a:b] = np.einsum("ij,ij->i", x, x) / flen
    return (10.0 * np.log10(np.maximum(out, SILENCE_MS) / 32768.0 ** 2)).astype(np.float32)


def background_db(db: np.ndarray, i: int, window: int, spread_db: float = 0.0) -> float:
    """Upper level of the background near frame i: of the frame energies within `window` frames
    either side, those within `spread_db` of the quietest (their `FLOOR_PERCENTILE`th percentile)
    are background, and their `BACKGROUND_TOP`th percentile is returned (spread 0: the quietest level)."""
    w = db[max(0, i - window):i + window + 1]
    lo = float(np.percentile(w, FLOOR_PERCENTILE))
    if spread_db <= 0:
        return lo
    return float(np.percentile(w[w <= lo + spread_db], BACKGROUND_TOP))


def trim_span(db: np.ndarray, start_ms: float, end_ms: float, params: BoundsParams,
              frame_ms: float = FRAME_MS, voiced=None) -> tuple[float, float]:
    """(start, end) of one utterance moved inwards over quiet frames (see the module doc).

    `voiced` (optional, one bool per frame of `db`, or a function returning them, called only
    when needed): frames the VAD's classifier calls speech.
    Where the utterance's loud level (95th percentile of its frames) stands less than `noisy_db`
    above the background near an edge, those frames are sound whatever their energy: in noise the
    last 100-200 ms of a sentence's decay sink under the background + margin while the classifier
    still hears them. In clean audio they are not used: the classifier's own hang-over (it keeps
    calling speech for some 60-100 ms after it stops) would hold every end late.
    Only frames wholly inside [start, end) can be cut; the span never inverts: an utterance with
    no sound frame near its edges (or none at all) keeps its times.
    """
    window = max(1, int(FLOOR_WINDOW_MS / frame_ms))
    reach = int(params.max_trim_ms / frame_ms)
    n = len(db)
    first = int(np.ceil(start_ms / frame_ms - 1e-9))     # first frame starting at or after start
    stop = min(n, int(np.floor(end_ms / frame_ms + 1e-9)))   # frames [first, stop) lie inside
    if stop - first < 2 or reach <= 0:
        return start_ms, end_ms
    new_start, new_end = start_ms, end_ms
    level = float(np.percentile(db[first:stop], 95))
    bg = background_db(db, stop - 1, window, params.spread_db)
    thr = bg + params.margin_db
    tail = db[max(first, stop - reach):stop]
    loud = tail >= thr
    if voiced is not None and level - bg < params.noisy_db:
        voiced = voiced() if callable(voiced) else voiced
        loud |= voiced[max(first, stop - reach):stop]
    loud = np.flatnonzero(loud)
    if loud.size:
        last = max(first, stop - reach) + int(loud[-1])          # last sound frame
        new_end = min(end_ms, (last + 1) * frame_ms + params.end_pad_ms)
    else:
        new_end = max(start_ms, end_ms - reach * frame_ms) if len(tail) == reach else end_ms
    bg = background_db(db, first, window, params.spread_db)
    thr = bg + params.margin_db
    head = db[first:min(stop, first + reach)]
    loud = head >= thr
    if voiced is not None and level - bg < params.noisy_db:
        voiced = voiced() if callable(voiced) else voiced
        loud |= voiced[first:min(stop, first + reach)]
    loud = np.flatnonzero(loud)
    if loud.size:
        new_start = max(start_ms, (first + int(loud[0])) * frame_ms - params.start_pad_ms)
    else:
        new_start = min(end_ms, start_ms + reach * frame_ms) if len(head) == reach else start_ms
    if new_end - new_start < 2 * frame_ms:       # nothing sounds near either edge: leave it
        return start_ms, end_ms
    return round(new_start, 3), round(new_end, 3)


def long_tail(db: np.ndarray, start_ms: float, end_ms: float, params: BoundsParams,
              frame_ms: float = FRAME_MS) -> bool:
    """True when the sound after the utterance's last *strong* frame (within `strong_db` of its
    loud level, the 95th percentile of its frames) lasts longer than `word_cap_ms`: a
    reverberation tail, a breath or a background bump may be holding the end, so the words are
    worth checking. A dry ending decays from strong to the background faster than that."""
    a, b = int(np.ceil(start_ms / frame_ms - 1e-9)), min(len(db), int(np.floor(end_ms / frame_ms + 1e-9)))
    if b - a < 2 or params.word_cap_ms is None:
        return False
    x = db[a:b]
    strong = np.flatnonzero(x >= np.percentile(x, 95) - params.strong_db)
    return (b - a - 1 - int(strong[-1])) * frame_ms > params.word_cap_ms


def cap_at_last_word(end_ms: float, last_word_end_ms: float | None, params: BoundsParams) -> float:
    """The end, at most `word_cap_ms` after the last word's forced-aligned end (None: unchanged)."""
    if last_word_end_ms is None or params.word_cap_ms is None:
        return end_ms
    return round(min(end_ms, last_word_end_ms + params.word_cap_ms), 3)


def voiced_frames(samples: np.ndarray, rate: int, vad, n: int, frame_ms: float = FRAME_MS) -> np.ndarray | None:
    """The webrtc VAD's speech labels (as the VAD stage made them: the same classifier run over
    the whole recording) on the grid of `n` frames of `frame_ms`; None for another VAD engine."""
    from .audio.vad import webrtc_frames

    if vad is None or vad.engine != "webrtc" or rate % 100:
        return None
    bounds, labels = webrtc_frames(samples, rate, vad)
    out = np.zeros(n, dtype=bool)
    step = rate * frame_ms / 1000.0
    for i in np.flatnonzero(labels):
        a, b = int(bounds[i] // step), int(-(-bounds[i + 1] // step))
        out[a:min(n, b)] = True
    return out


def trim_utterances(utterances, samples: np.ndarray, rate: int, params: BoundsParams,
                    last_word_ends=None, vad=None) -> int:
    """Trim every utterance's start/end in place; the number of edges moved.

    `last_word_ends([(utterance, start, end), ...]) -> [ms or None, ...]`: the last word's end of
    each utterance by forced alignment within [start, end), asked (in one call, so that it can
    run them in parallel) only for the utterances with a long tail (see `long_tail`). `vad`
    (VadParams): frames its webrtc classifier calls speech are never cut in noisy audio (see
    `trim_span`)."""
    if not params.trim or not utterances:
        return 0
    db = frame_db(samples, rate)
    labels: list = []

    def voiced():   # the classifier runs over the whole recording once, and only if an edge is noisy
        if not labels:
            v = voiced_frames(samples, rate, vad, len(db))
            labels.append(v if v is not None else np.zeros(len(db), dtype=bool))
        return labels[0]

    spans = [trim_span(db, u.start, u.end, params, voiced=voiced) for u in utterances]
    ask = [k for k, (s, e) in enumerate(spans) if last_word_ends is not None and long_tail(db, s, e, params)]
    if ask:
        ends = last_word_ends([(utterances[k], *spans[k]) for k in ask])
        for k, w in zip(ask, ends):
            s, e = spans[k]
            spans[k] = (s, max(s + FRAME_MS, cap_at_last_word(e, w, params)))
    moved = 0
    for u, (s, e) in zip(utterances, spans):
        moved += (s != u.start) + (e != u.end)
        u.start, u.end = s, e
    return moved


# -- forced alignment of the long tails (in worker processes when there is enough of it) --------
_ALIGNER: dict = {}
# Below this much audio to align (~0.75 s of CPU), starting worker processes (~0.35 s of CPU each)
# costs more than it saves.
POOL_MIN_S = 60.0


def _last_word_end(task) -> float | None:
    """ms from the start of the task's samples to its last word's end (None: not placed)."""
    samples, words, rate = task
    if "a" not in _ALIGNER:   # the packaged model, like word timings (align/words.py) without --stt-model-dir
        from .stt.forced import ForcedAligner, ForcedParams

        _ALIGNER["a"] = ForcedAligner(ForcedParams(rate=rate, downsample=FORCED_DOWNSAMPLE))
    timings = _ALIGNER["a"].align(samples, words)
    last = timings[-1] if timings else None
    return last.end * 1000.0 if last is not None and last.aligned else None


def last_word_ends(tasks, workers: int) -> list:
    """`_last_word_end` of each task, in order: in a spawn pool of `workers` processes when the
    tasks hold more than POOL_MIN_S seconds of audio, else in this process."""
    audio_s = sum(len(t[0]) / t[2] for t in tasks)
    if workers > 1 and len(tasks) > 1 and audio_s > POOL_MIN_S:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=multiprocessing.get_context("spawn")) as ex:
            return list(ex.map(_last_word_end, tasks))
    return [_last_word_end(t) for t in tasks]


def trim_edges(ctx) -> None:
    """Post-processing stage (align.pipeline.POSTPROCESSORS): with audio, every utterance's edges
    trimmed to the sound (before word timings, which then align within the trimmed span)."""
    from .audio.document import DocumentAudio
    from .words import label_words

    p: BoundsParams = ctx.config.bounds
    if not p.trim or ctx.job.audio is None or not ctx.utterances:
        return
    rate = 16000
    # the front end the VAD and the recogniser had (noise suppression when the recording needs it):
    # the classifier's labels are then the VAD's own, and a turned-down background shows more of a decay
    vad = ctx.config.vad
    samples, _, _ = (ctx.audio or DocumentAudio(ctx.job.audio)).prepared(rate, vad.denoise, vad.denoise_below_db)
    checked = []

    def ends(items):
        tasks, where = [], []
        for k, (u, start_ms, end_ms) in enumerate(items):
            toks = label_words(ctx.clean.clean, u.clean_start, u.clean_end) \
                if u.clean_start is not None and u.clean_end is not None else []
            if toks:
                a, b = int(round(start_ms * rate / 1000.0)), int(round(end_ms * rate / 1000.0))
                tasks.append((samples[a:b], [w.lower() for w, _, _ in toks], rate))
                where.append((k, a * 1000.0 / rate))
        out = [None] * len(items)
        for (k, offset), w in zip(where, last_word_ends(tasks, ctx.config.stt.workers)):
            out[k] = None if w is None else offset + w
        checked.extend(where)
        return out

    moved = trim_utterances(ctx.utterances, samples, rate, p, ends if p.word_cap_ms is not None else None,
                            vad=ctx.config.vad)
    log.debug("edges trimmed to the sound: %d of %d moved; %d long tails checked against the last word",
              moved, 2 * len(ctx.utterances), len(checked))
