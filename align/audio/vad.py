"""Voice-activity splitting: cut the audio into voiced fragments to transcribe one by one.

1. A classifier labels consecutive frames voiced/unvoiced: webrtcvad (10/20/30 ms frames) or the
   Silero model (`align.audio.silero`, 32 ms windows).
2. A ring-buffer state machine turns labels into spans with hysteresis: a span opens when more than
   `threshold` x `padding` of the last `padding` frames are voiced (the span starts at the oldest of
   those frames, a pre-roll that also catches weak onsets the classifier missed), and closes when
   more than that many of the last `padding` frames are unvoiced.
3. Each span's edges are refined with frame energy (`refine_edges`): the start moves back over
   frames above the local noise floor (weak onsets that webrtc mode 3 calls unvoiced: "States",
   "This", "from"), the end moves on over such frames, and the unvoiced frames that were only
   needed to decide that speech ended are dropped but for `tail_ms`. Keeping them all (as the
   reference does) puts every end time ~0.2-0.3 s late and feeds silence to the recogniser.
   With `onset_ms=None` only the tail is trimmed, after the last voiced frame.
4. Spans longer than `max_duration_ms` are cut at their quietest points; spans shorter than
   `min_duration_ms` are not returned (they are counted).

Every boundary is a sample index, so a Fragment's `start_ms`/`end_ms` describe exactly the samples
it holds (`samples == audio[start:end]`), unlike the reference, whose timestamps were one frame early.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..common.errors import UsageError, UserError
from ..common.progress import progress
from .records import Fragment

log = logging.getLogger(__name__)

VAD_ENGINES = ("webrtc", "silero")
WEBRTC_RATES = (8000, 16000, 32000, 48000)
FRAME_LENGTHS_MS = (10, 20, 30)
# Window over which energy is averaged when looking for the quietest cut point: long enough that a
# stop closure inside a word is not mistaken for a pause, short enough to find short pauses.
CUT_WINDOW_MS = 150
# Edge refinement: a run of at least this much quiet audio ends the search for an onset/offset
# (longer than a stop closure inside a word, shorter than the pause the state machine needs to close).
EDGE_GAP_MS = 100
# The noise floor near an edge is this percentile of the frame energies within FLOOR_WINDOW_MS on
# either side: 4 s of speech hold more than 5 % of pauses, and a local estimate follows a
# background that changes over the recording (tested with noise modulated by +-6 dB).
FLOOR_PERCENTILE = 5
FLOOR_WINDOW_MS = 2000
# Mean square of one LSB: digital silence (log of 0) is clamped here, about -90 dBFS.
SILENCE_MS = 1.0


@dataclass(frozen=True)
class VadParams:
    # Defaults tuned on bench/make_speech_bench.py (see algo.md): a 300 ms ring (15 x 20 ms) that
    # must be >90% voiced to open and >90% unvoiced to close, i.e. a pause of ~300 ms ends a
    # fragment while shorter pauses inside a sentence do not.
    engine: str = "webrtc"                # webrtc | silero
    aggressiveness: int = 3               # webrtcvad mode 0..3 (3 filters non-speech hardest)
    padding: int = 15                     # ring buffer length in frames
    threshold: float = 0.9                # fraction of the ring that opens/closes a span
    frame_ms: int = 20                    # 10 | 20 | 30 (webrtc; silero uses its 32 ms window)
    min_duration_ms: float = 100          # shorter fragments are not transcribed (counted)
    max_duration_ms: float | None = None  # longer fragments are cut at their quietest points
    tail_ms: float | None = 100           # silence kept after the last voiced/active frame (None: all of it)
    # Energy refinement of each span's edges (see `refine_edges`); onset_ms None turns it off.
    onset_ms: float | None = 500          # how far a start may move back over active frames
    offset_ms: float = 300                # how far an end may move on over active frames
    energy_margin_db: float = 6.0         # a frame is active at local noise floor + this many dB
    # Noise suppression before the VAD and the recogniser (align.audio.denoise; the transcribe step
    # applies it, `vad_split` itself never does): auto = when the estimated SNR is under denoise_below_db.
    denoise: str = "auto"                 # auto | on | off
    denoise_below_db: float = 20.0
    # Ring length (frames) used instead of `padding` when the front end filtered the audio: in
    # noise the classifier calls weak speech frames unvoiced, and a 300 ms ring cuts sentences
    # into pieces (440 ms; sentences it joins are cut again at the sentence end by the second
    # pass). None: keep `padding`.
    noisy_padding: int | None = 22
    # The ring that opens a span, when shorter than `padding` (None: `padding`). The noisy ring
    # above only closes spans; opening keeps the normal ring, or a short word said alone ("Left.",
    # a digit), under 440 ms of voiced frames, would never open one in noise.
    open_padding: int | None = None
    # Fraction of the opening ring that must be voiced to open a span (None: `threshold`), and the
    # value used instead when the front end filtered the audio: in noise the classifier labels a
    # slow or reverberant voice's words in patches (5 frames voiced, 5 not), a ring that must be
    # 90% voiced opens only on a long vowel run, seconds into the sentence. The closing rule keeps
    # `threshold`, so fragments still end at real pauses.
    open_threshold: float | None = None
    noisy_open_threshold: float | None = 0.5
    # A fragment shorter than join_short_ms is joined to its nearer neighbour when the gap between
    # them is at most join_gap_ms: a two-word prompt said with a breath between its words ("Front
    # ... Center"; more so through a telephone band, which takes the fricatives that bridge the gap)
    # is one fragment, not two single words that no text search can place. None: never join.
    join_short_ms: float | None = 800
    join_gap_ms: float = 350

    def validate(self) -> None:
        if self.engine not in VAD_ENGINES:
            raise UsageError(f"unknown VAD engine {self.engine!r} (--vad-engine): choose one of {', '.join(VAD_ENGINES)}")
        if isinstance(self.aggressiveness, bool) or self.aggressiveness not in (0, 1, 2, 3):
            raise UsageError(f"--audio-vad-aggressiveness must be 0, 1, 2 or 3, got {self.aggressiveness!r}")
        if isinstance(self.padding, bool) or not isinstance(self.padding, int) or self.padding < 1:
            raise UsageError(f"--audio-vad-padding must be a whole number of frames >= 1, got {self.padding!r}")
        if not 0.0 <= self.threshold < 1.0:
            raise UsageError(f"--audio-vad-threshold must be in [0, 1), got {self.threshold!r}")
        if self.frame_ms not in FRAME_LENGTHS_MS:
            raise UsageError(f"--audio-vad-frame-length must be 10, 20 or 30 (ms), got {self.frame_ms!r}")
        if self.tail_ms is not None and self.tail_ms < 0:
            raise UsageError(f"--audio-vad-tail must be >= 0 ms, got {self.tail_ms!r}")
        if self.onset_ms is not None and not 0 <= self.onset_ms <= 5000:
            raise UsageError(f"--audio-vad-onset must be in [0, 5000] ms (or 'none'), got {self.onset_ms!r}")
        if not 0 <= self.offset_ms <= 5000:
            raise UsageError(f"--audio-vad-offset must be in [0, 5000] ms, got {self.offset_ms!r}")
        if not 0 < self.energy_margin_db <= 60:
            raise UsageError(f"--audio-vad-energy-margin must be in (0, 60] dB, got {self.energy_margin_db!r}")
        if self.open_padding is not None and (isinstance(self.open_padding, bool) or not isinstance(
                self.open_padding, int) or self.open_padding < 1):
            raise UsageError(f"VAD open padding must be a whole number of frames >= 1, got {self.open_padding!r}")
        for name, v in (("open threshold", self.open_threshold),
                        ("--audio-vad-noisy-open-threshold", self.noisy_open_threshold)):
            if v is not None and not 0.0 <= v < 1.0:
                raise UsageError(f"{name} must be in [0, 1) (or 'none'), got {v!r}")
        if self.noisy_padding is not None and (isinstance(self.noisy_padding, bool) or not isinstance(
                self.noisy_padding, int) or self.noisy_padding < 1):
            raise UsageError(f"--audio-vad-noisy-padding must be a whole number of frames >= 1 (or 'none'), "
                             f"got {self.noisy_padding!r}")
        if self.join_short_ms is not None and not 0 <= self.join_short_ms <= 10000:
            raise UsageError(f"--audio-vad-join-short must be in [0, 10000] ms (or 'none'), got {self.join_short_ms!r}")
        if not 0 <= self.join_gap_ms <= 5000:
            raise UsageError(f"--audio-vad-join-gap must be in [0, 5000] ms, got {self.join_gap_ms!r}")
        if self.denoise not in ("auto", "on", "off"):
            raise UsageError(f"--audio-denoise must be auto, on or off, got {self.denoise!r}")
        if not -20 <= self.denoise_below_db <= 80:
            raise UsageError(f"--audio-denoise-below must be in [-20, 80] dB, got {self.denoise_below_db!r}")
        if self.min_duration_ms < 0:
            raise UsageError(f"--stt-min-duration must be >= 0 ms, got {self.min_duration_ms!r}")
        if self.max_duration_ms is not None:
            if self.max_duration_ms < max(self.min_duration_ms, 2 * 32):
                raise UsageError(
                    f"--stt-max-duration ({self.max_duration_ms} ms) must be at least --stt-min-duration "
                    f"({self.min_duration_ms} ms) and at least 64 ms"
                )


@dataclass
class VadResult:
    fragments: list[Fragment]
    voiced_spans: int = 0       # spans the state machine found
    too_short: int = 0          # spans/pieces shorter than min_duration_ms, not returned
    cut: int = 0                # spans longer than max_duration_ms that were cut
    pieces: int = 0             # pieces those cuts produced
    frames: int = 0             # frames classified


def check_rate(rate: int, params: VadParams) -> None:
    if params.engine == "webrtc" and rate not in WEBRTC_RATES:
        raise UsageError(
            f"webrtcvad works at 8000, 16000, 32000 or 48000 Hz only, but the model rate "
            f"(--stt-model-rate) is {rate}: choose one of these rates or --vad-engine silero"
        )


def split_audio(samples: np.ndarray, rate: int, params: VadParams, *, show_progress: bool = False) -> list[Fragment]:
    """Voiced fragments of mono int16 `samples` at `rate` Hz, in audio order."""
    return vad_split(samples, rate, params, show_progress=show_progress).fragments


def vad_split(samples: np.ndarray, rate: int, params: VadParams, *, show_progress: bool = False) -> VadResult:
    """Like `split_audio`, with the counts (too short, cut) for the log."""
    params.validate()
    check_rate(rate, params)
    samples = np.ascontiguousarray(samples, dtype=np.int16)
    if samples.ndim != 1:
        raise UserError(f"VAD needs mono audio, got an array of shape {samples.shape}")
    if params.engine == "webrtc":
        bounds, voiced = webrtc_frames(samples, rate, params, show_progress=show_progress)
    else:
        from .silero import silero_frames

        bounds, voiced = silero_frames(samples, rate, show_progress=show_progress)

    spans = find_spans(voiced, params.padding, params.threshold, params.open_padding, params.open_threshold)
    result = VadResult(fragments=[], voiced_spans=len(spans), frames=len(voiced))
    energy = frame_energy(samples, bounds) if spans else None
    if spans:
        frame_len = float(np.median(np.diff(bounds)))

        def frames(ms: float) -> int:
            return round(ms * rate / 1000.0 / frame_len)

        if params.onset_ms is not None:
            spans = refine_edges(spans, voiced, energy_db(energy), margin_db=params.energy_margin_db,
                                 onset=frames(params.onset_ms), offset=frames(params.offset_ms),
                                 window=frames(FLOOR_WINDOW_MS),
                                 gap=max(1, frames(EDGE_GAP_MS)),
                                 tail=None if params.tail_ms is None else frames(params.tail_ms))
        elif params.tail_ms is not None:
            spans = trim_tails(spans, voiced, frames(params.tail_ms))
        if params.join_short_ms:
            limit = None if params.max_duration_ms is None else frames(params.max_duration_ms)
            spans = join_short(spans, frames(params.join_short_ms), frames(params.join_gap_ms), limit)
    min_len = params.min_duration_ms * rate / 1000.0
    max_len = None if params.max_duration_ms is None else params.max_duration_ms * rate / 1000.0
    for first, stop in spans:
        pieces = [(first, stop)]
        if max_len is not None and bounds[stop] - bounds[first] > max_len:
            pieces = cut_span(first, stop, bounds, energy, min_len, max_len, rate)
            result.cut += 1
            result.pieces += len(pieces)
        for a, b in pieces:
            start, end = int(bounds[a]), int(bounds[b])
            if end - start < min_len:
                result.too_short += 1
                continue
            result.fragments.append(Fragment(start * 1000.0 / rate, end * 1000.0 / rate, samples[start:end]))
    return result


def join_short(spans: list[tuple[int, int]], short: int, gap: int, limit: int | None = None) -> list[tuple[int, int]]:
    """Spans (frame indices, sorted) with each one shorter than `short` frames joined to its
    nearer neighbour (the left one on a tie) when the gap to it is at most `gap` frames and the
    joined span stays within `limit` frames; repeated until no span changes."""
    out = list(spans)
    changed = True
    while changed:
        changed = False
        k = 0
        while k < len(out):
            a, b = out[k]
            if b - a >= short:
                k += 1
                continue
            gl = a - out[k - 1][1] if k > 0 else None
            gr = out[k + 1][0] - b if k + 1 < len(out) else None
            choices = [(g, side) for g, side in ((gl, -1), (gr, 1)) if g is not None and g <= gap]
            choices = [(g, side) for g, side in choices
                       if limit is None or max(b, out[k + side][1]) - min(a, out[k + side][0]) <= limit]
            if not choices:
                k += 1
                continue
            _, side = min(choices)
            j = k + side
            lo, hi = min(k, j), max(k, j)
            out[lo:hi + 1] = [(out[lo][0], out[hi][1])]
            changed = True
            k = lo
    return out


def webrtc_frames(samples: np.ndarray, rate: int, params: VadParams, *, show_progress: bool = False):
    """(bounds, voiced): frame i covers samples[bounds[i]:bounds[i+1]].

    A final partial frame is classified zero-padded (webrtcvad wants whole frames) but its bound is
    the true end, so speech running to the end of the file is not lost.
    """
    import webrtcvad

    vad = webrtcvad.Vad(params.aggressiveness)
    flen = rate * params.frame_ms // 1000
    n = len(samples)
    n_frames = -(-n // flen)
    bounds = np.minimum(np.arange(n_frames + 1, dtype=np.int64) * flen, n)
    padded = samples if n == n_frames * flen else np.concatenate([samples, np.zeros(n_frames * flen - n, np.int16)])
    data = padded.tobytes()
    step = 2 * flen
    voiced = np.zeros(n_frames, dtype=bool)
    # One C call per frame; the Python loop costs ~1 us per frame (20 k frames per 10 min).
    for i in progress(range(n_frames), enabled=show_progress, desc="VAD", unit="frame", mininterval=0.5):
        voiced[i] = vad.is_speech(data[i * step:(i + 1) * step], rate)
    return bounds, voiced


def find_spans(voiced: np.ndarray, padding: int, threshold: float,
               open_padding: int | None = None, open_threshold: float | None = None) -> list[tuple[int, int]]:
    """Ring-buffer state machine over frame labels -> [(first_frame, stop_frame)) spans.
    `open_padding`: the ring that opens a span, when shorter than the one that closes it;
    `open_threshold`: the voiced fraction of that ring that opens it (None: `threshold`)."""
    limit = threshold * padding
    opening = padding if open_padding is None else min(open_padding, padding)
    open_limit = (threshold if open_threshold is None else open_threshold) * opening
    ring: deque[bool] = deque(maxlen=padding)
    spans: list[tuple[int, int]] = []
    open_at = -1
    for i, v in enumerate(voiced.tolist()):
        ring.append(v)
        if open_at < 0:
            recent = ring if opening == padding else list(ring)[-opening:]
            if sum(recent) > open_limit:
                open_at = i - len(recent) + 1   # pre-roll: the ring's frames belong to the span
                ring.clear()
        elif len(ring) - sum(ring) > limit:
            spans.append((open_at, i + 1))    # the tail of unvoiced frames stays in the span
            open_at = -1
            ring.clear()
    if open_at >= 0:
        spans.append((open_at, len(voiced)))
    return spans


def trim_tails(spans: list[tuple[int, int]], voiced: np.ndarray, keep: int) -> list[tuple[int, int]]:
    """End each span `keep` frames after its last voiced frame (never later than it ended)."""
    out = []
    for a, b in spans:
        hits = np.flatnonzero(voiced[a:b])
        last = a + int(hits[-1]) if hits.size else b - 1
        out.append((a, min(b, last + 1 + keep)))
    return out


def energy_db(energy: np.ndarray) -> np.ndarray:
    """Frame mean-square energies in dB relative to full scale (clamped at one LSB, about -90 dBFS)."""
    return 10.0 * np.log10(np.maximum(energy, SILENCE_MS) / 32768.0 ** 2)


def refine_edges(spans: list[tuple[int, int]], voiced: np.ndarray, db: np.ndarray, *, margin_db: float, onset: int,
                 offset: int, gap: int, tail: int | None, window: int) -> list[tuple[int, int]]:
    """Move span edges to where the sound rises above / falls back to the noise floor.

    The classifier (webrtc mode 3 above all) labels weak onsets unvoiced (fricatives, "th", a soft
    vowel), and the state machine only opens once the ring is nearly all voiced, so a span can
    start several hundred ms after the speech. A frame is *active* when it is voiced or its energy
    `db` is `margin_db` above the local noise floor (`noise_floor_db`, `window` frames either side
    of the edge). A span's start moves back from its first voiced frame over active frames,
    crossing inactive runs shorter than `gap` frames (stop closures), at most `onset` frames before
    the span's start and never into the previous span; leading inactive frames of the pre-roll are
    dropped. Its end is the last active frame reached the same way from its last voiced frame, at
    most `offset` frames on and never into the next span, plus `tail` frames (None: up to where the
    state machine closed it, if later). Frames the classifier called voiced are never dropped.
    Plain loops: each edge looks at no more than `onset` or `offset` frames.
    """
    out: list[tuple[int, int]] = []
    n = len(voiced)
    for k, (a, b) in enumerate(spans):
        hits = np.flatnonzero(voiced[a:b])
        v0, v1 = (a + int(hits[0]), a + int(hits[-1])) if hits.size else (a, b - 1)
        lo = max(out[-1][1] if out else 0, a - onset)
        hi = min(spans[k + 1][0] if k + 1 < len(spans) else n, b + offset)
        thr = noise_floor_db(db, v0, window) + margin_db
        start = v0
        run = 0
        for j in range(v0 - 1, lo - 1, -1):
            if voiced[j] or db[j] >= thr:
                start, run = j, 0
            else:
                run += 1
                if run >= gap:
                    break
        thr = noise_floor_db(db, v1, window) + margin_db
        last = v1
        run = 0
        for j in range(v1 + 1, hi):
            if voiced[j] or db[j] >= thr:
                last, run = j, 0
            else:
                run += 1
                if run >= gap:
                    break
        end = b if tail is None else min(hi, last + 1 + tail)
        out.append((start, max(end, last + 1)))
    return out


def noise_floor_db(db: np.ndarray, i: int, window: int) -> float:
    """Background level near frame i: a low percentile of the frame energies (dB) within `window`
    frames either side."""
    return float(np.percentile(db[max(0, i - window):i + window + 1], FLOOR_PERCENTILE))


def frame_energy(samples: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Mean square amplitude of each frame."""
    sq = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    lengths = np.maximum(np.diff(bounds), 1)
    return (sq[bounds[1:]] - sq[bounds[:-1]]) / lengths


def cut_span(first: int, stop: int, bounds: np.ndarray, energy: np.ndarray, min_len: float, max_len: float,
             rate: int) -> list[tuple[int, int]]:
    """Cut frames [first, stop) into pieces no longer than `max_len` samples, each cut at the frame
    boundary whose surrounding window is quietest; pieces keep `min_len` where any cut allows it."""
    frame_ms = 1000.0 * float(np.median(np.diff(bounds[first:stop + 1]))) / rate
    half = max(1, round(CUT_WINDOW_MS / frame_ms / 2))
    out: list[tuple[int, int]] = []
    todo = [(first, stop)]
    while todo:
        a, b = todo.pop()
        if bounds[b] - bounds[a] <= max_len or b - a < 2:
            out.append((a, b))
            continue
        k = quietest_boundary(a, b, bounds, energy, min_len, half)
        todo.append((k, b))
        todo.append((a, k))
    out.sort()
    return out


def quietest_boundary(a: int, b: int, bounds: np.ndarray, energy: np.ndarray, min_len: float, half: int) -> int:
    """Interior frame boundary k (a < k < b) with the lowest mean energy over frames [k-half, k+half)
    (clipped to the span). Ties (every window holding the same quiet run) go to the quietest pair
    of frames around k, then to the boundary nearest the middle, so a silence is cut inside it and
    a long one in its centre. Boundaries leaving a piece shorter than `min_len` are avoided when
    possible."""
    ks = np.arange(a + 1, b)
    csum = np.concatenate([[0.0], np.cumsum(energy[a:b])])
    lo = np.maximum(ks - half, a) - a
    hi = np.minimum(ks + half, b) - a
    score = (csum[hi] - csum[lo]) / (hi - lo)
    local = energy[ks - 1] + energy[ks]
    ok = (bounds[ks] - bounds[a] >= min_len) & (bounds[b] - bounds[ks] >= min_len)
    if ok.any():
        ks, score, local = ks[ok], score[ok], local[ok]
    mid = (bounds[a] + bounds[b]) / 2.0
    order = np.lexsort((np.abs(bounds[ks] - mid), local, score))
    return int(ks[order[0]])
