"""Second pass, "islands of confidence": re-decode what the first alignment left out.

After the first alignment, the placed fragments are anchors. A fragment between two anchors
that was not placed, and a placed fragment whose text does not reach its neighbours' (words
left over at an edge), can only hold text between the neighbouring anchors. Each such fragment
is decoded again by `ConstrainedDecoder` against exactly that text; a run of words the decoder
proves (see align/stt/constrained.py) replaces the fragment's transcript, and the document is
aligned again. New anchors narrow the windows of the fragments still unplaced, so this repeats
while any transcript changes (at most `max_rounds` times).

Nothing here invents text: a new transcript is a run of the window's own words that scored
close to a free phone decode of the same audio; unproven fragments keep their first-pass
transcript (and are dropped by the aligner as before).
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .proofcal import CalibrationParams, best_subrun, run_mean
from .stt.constrained import Acceptance, ConstrainedDecoder, ConstrainedParams, prove, unscored
from .tlog import TranscriptEntry
from .words import label_words

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SecondPassParams:
    """--second-pass / --no-second-pass and its decoder settings."""

    enabled: bool = True
    max_rounds: int = 3                 # re-decode and re-align at most this often
    max_edge_words: int = 3             # a placed fragment is re-decoded for at most this many words left at an edge
    sentence_edge_words: int = 7        # ... or up to its sentence's start/end this near (no placed neighbour, or a far one)
    sentence_edge_floor: float = 3.0    # decoded words the proof trimmed that reach the run's own sentence start (end),
                                        # at most max_edge_words, join it with a mean this far below the mean threshold
    budget: float = 1.0                 # re-decode at most this share of the audio's duration (all rounds)
    min_anchored: float = 0.3           # re-decode between anchors only when the first pass placed this share of the fragments (and of the voiced audio)
    seed: bool = True                   # ... else first seed anchors: each fragment decoded where its transcript lies
    seed_window_words: int = 200        # ... (a located stretch of text at most this long)
    seed_similarity: float = 0.5        # ... calibrated on seeds whose proven words the first-pass transcript says this closely
    seed_separation: float = 0.5        # ... and used only when their own level is this far above the impostor level
    slow_ms_per_word: float = 700.0     # a placed fragment this much longer per word than its text is re-decoded
    slow_extra_words: int = 40          # ... against its text and up to this many words on each side
    split_sentences: bool = True        # cut a fragment that crosses a sentence end at the pause there
    verify_words: int = 4               # first-pass placements of transcripts this short must be proven too
    phrase_min_score: float = -2.6      # ... but one that says exactly a whole phrase (a prompt) of 2+ words: mean over its words
    phrase_whole_words: int = 8         # a placed fragment inside a phrase of at most this many words is decoded whole
                                        # (for that proof); in a longer one only its edges are
    calibrate: CalibrationParams = CalibrationParams()   # the proof's thresholds measured on the recording itself
    local_words: int = 5                # a whole decode that fails the proof but keeps this many words above
                                        # calibrate.lowest is compared with chance on its own audio:
    local_margin: float = 0.8           # ... kept when it scores this far above the best run in far text
    trim_ms: float = 250.0              # audio before/after the proven words longer than this is cut off
    pad_ms: float = 50.0                # ... keeping this much around the words
    edge_region_ms: float = 1500.0      # a placed fragment re-decoded for edge words only: the audio this near the edge
    edge_word_ms: float = 600.0         # ... plus this much per edge word sought
    edge_reach_ms: float = 1000.0       # ... reaching this far outside the fragment (not into a neighbour's audio)
    edge_guard_ms: float = 100.0        # ... stopping this short of the neighbouring fragment
    locate_words: int = 0               # > 0: an unplaced fragment's window longer than this is narrowed to where its
    locate_margin: int = 15             # ... first-pass transcript matches, this many words more on each side
    decode: ConstrainedParams = ConstrainedParams()


@dataclass
class SecondPassStats:
    rounds: int = 0
    tried: int = 0                      # constrained decodes run
    recovered: int = 0                  # unplaced fragments given a proven transcript
    seeded: int = 0                     # ... of them by the seeding step (few first-pass anchors)
    extended: int = 0                   # placed fragments whose proven run reaches further
    rejected: int = 0                   # decodes that proved nothing (or less than the first pass)
    split: int = 0                      # fragments cut at sentence ends
    unproven: int = 0                   # short first-pass placements the audio did not prove (dropped)
    seconds: float = 0.0
    calibration: str = ""               # proofcal's summary line

    def line(self) -> str:
        return (f"second pass: {self.rounds} round(s), {self.tried} constrained decodes, {self.recovered} unplaced "
                f"fragments recovered" + (f" ({self.seeded} seeded)" if self.seeded else "") + f", {self.extended} extended, {self.split} cut at sentence ends, {self.unproven} short placements unproven and dropped, "
                f"{self.rejected} not proven "
                f"({self.seconds:.2f} s)" + (f"; {self.calibration}" if self.calibration else ""))


# -- worker side ---------------------------------------------------------------------------------
_DECODER: dict = {}


def _init(spec, params: ConstrainedParams) -> None:
    _DECODER["d"] = ConstrainedDecoder(spec, params)


def _decode(task):
    return _safe_decode(_DECODER["d"], *task)


def _safe_decode(d, samples, words, need: int = 0, reach=None, open_end: bool = False, accept=None):
    """(proven hits, all hits); a decoder failure on one fragment proves nothing, and is logged.
    `need`, `reach`, `open_end`, `accept`: see ConstrainedDecoder.decode."""
    try:
        return d.decode(samples, words, need=need, reach=reach, open_end=open_end, accept=accept), d.last
    except Exception as e:  # the first-pass transcript stays; one fragment must not stop the document
        log.warning("second pass: constrained decode failed (%s: %s); fragment left as it was", type(e).__name__, e)
        return [], []


def _cost(task) -> float:
    """A decode's relative cost: audio frames times (the phone decode plus a grammar search that
    grows with the window's words)."""
    samples, words = task[0], task[1]
    return len(samples) * (85.0 + len(words))


# -- candidates ----------------------------------------------------------------------------------
def _words_in(clean: str, lo: int, hi: int) -> tuple[list[str], list[int]]:
    """Words of clean[lo:hi] and their clean-text start offsets."""
    toks = label_words(clean, lo, hi)
    return [w for w, _, _ in toks], [s for _, s, _ in toks]


def _word_index(starts: Sequence[int], off: int) -> int:
    """Index of the word (by its clean start offsets `starts`) holding clean offset `off`."""
    return max(0, bisect.bisect_right(starts, off) - 1)


def _sentence_edge(clean: str, lo: int, hi: int, ends: frozenset, left: bool, limit: int,
                   starts_sentence: bool = False) -> list[str]:
    """Words of clean[lo:hi] from the last sentence start in it up to hi (left) or from lo up to the
    first sentence end in it (right), when there is one and they are at most `limit` words.
    `starts_sentence` (left): a sentence starts at lo (the text before it, placed, ends one)."""
    if not ends:
        return []
    words, starts = _words_in(clean, lo, hi)
    ending = [k for k in range(len(words)) if starts[k] + len(words[k]) in ends]
    if left:
        k = (ending[-1] + 1) if ending else (0 if starts_sentence else None)
        piece = words[k:] if k is not None and k < len(words) else []
    else:
        piece = words[:ending[0] + 1] if ending else []
    return piece if 0 < len(piece) <= limit else []


def _locate_transcript(transcript: Sequence[str], window: Sequence[str], dur_ms: float,
                       margin: int) -> tuple[int, int] | None:
    """Word range [a, b) of `window` where a garbled first-pass `transcript` most likely lies, or None
    when it does not say.

    Each transcript word k found at window position j votes for the text starting at j - k,
    weighted by 1 / (its count in the window): a rare word matched is strong evidence, "the" hardly
    any. A start's support is the summed weight of the distinct words voting within
    `tol` words of it (the first pass inserts and drops words). The best start needs 3 distinct
    words and a support of 1 (one word found nowhere else, or the like); every start with at least 0.6 of its support is kept too (a phrase said twice, or a
    transcript half right in two places). The range covers those starts, the words such a fragment
    can hold after them (its transcript's, or 4.5 words a second, whichever is more) and `margin`
    words on each side."""
    n = len(transcript)
    if n < 3:
        return None
    count: dict[str, int] = {}
    for w in window:
        count[w] = count.get(w, 0) + 1
    at: dict[str, list[int]] = {}
    for j, w in enumerate(window):
        at.setdefault(w, []).append(j)
    votes = [(j - k, w, 1.0 / count[w]) for k, w in enumerate(transcript) for j in at.get(w, ())]
    if not votes:
        return None
    tol = max(3, n // 4)

    def support(o: int) -> tuple[float, int]:
        best: dict[str, float] = {}      # per distinct word: its vote in the band, once
        for off, w, wt in votes:
            if abs(off - o) <= tol:
                best[w] = wt
        return sum(best.values()), len(best)

    scored = [(support(o), o) for o in sorted({off for off, _, _ in votes})]
    w1, d1 = max(sc for sc, _ in scored)
    if d1 < 3 or w1 < 1.0:
        return None
    strong = [o for (w, _d), o in scored if w >= 0.6 * w1]
    span = max(n, int(dur_ms * 4.5 / 1000.0) + 1)
    return max(0, min(strong) - margin), min(len(window), max(strong) + span + margin)


def _candidates(entries, placed: dict[int, tuple[int, int]], clean: str, max_words: int, max_edge: int = 3,
                slow_ms: float = 700.0, slow_extra: int = 40, sentence_ends: frozenset = frozenset(),
                sentence_edge: int = 0):
    """(fragment, lo, hi, current word count) for fragments worth decoding again."""
    order = sorted(placed)
    out = []
    n = len(entries)
    prev = None   # last placed fragment index before i
    nxt_idx = 0
    for i in range(n):
        while nxt_idx < len(order) and order[nxt_idx] <= i:
            nxt_idx += 1
        nxt = order[nxt_idx] if nxt_idx < len(order) else None
        lo = placed[prev][1] if prev is not None else 0
        hi = placed[nxt][0] if nxt is not None else len(clean)
        if i in placed:
            cs, ce = placed[i]
            # Short edges only: a few words between a placed fragment and its placed neighbour are
            # typically first or last words the first pass garbled; a longer gap is unspoken text
            # (a header, a left-out passage) or belongs to an unplaced fragment in between.
            left = _words_in(clean, lo, cs)[0] if prev == i - 1 else []
            right = _words_in(clean, ce, hi)[0] if nxt == i + 1 else []
            # No placed neighbour on a side (its fragment was garbled, or there is none): the words
            # up to the start (end) of this fragment's own sentence, when that is near; never
            # across a sentence end, so a left-out sentence or a header cannot be reached.
            # The same when the placed neighbour is further than `max_edge` words: the decoder
            # dropped the end of a long sentence ("... these rights [or asking you to surrender the
            # rights.]").
            if (prev != i - 1 or len(left) > max_edge) and sentence_edge:
                # (a placed neighbour just before whose text ends a sentence: its start is here)
                left = _sentence_edge(clean, lo, cs, sentence_ends, True, sentence_edge,
                                      prev == i - 1 and lo in sentence_ends)
            if (nxt != i + 1 or len(right) > max_edge) and sentence_edge:
                right = _sentence_edge(clean, ce, hi, sentence_ends, False, sentence_edge)
            n_words = len(_words_in(clean, cs, ce)[0])
            left = left if len(left) <= max(max_edge, sentence_edge) else []
            right = right if len(right) <= max(max_edge, sentence_edge) else []
            # the edge words that would complete the fragment's sentence(s) are audio it may hold:
            # a fragment missing its first three words is not "slow"
            if _is_slow(entries[i], n_words + len(left) + len(right), slow_ms) and lo <= cs and ce <= hi:
                # far more audio than text (the VAD joined sentences the decoder half missed): the
                # window reaches `slow_extra` words to each side (up to the neighbours' text)
                wl, wr = _words_in(clean, lo, cs)[1], _words_in(clean, ce, hi)[1]
                lo2 = wl[-slow_extra] if len(wl) >= slow_extra else lo
                hi2 = wr[slow_extra] if len(wr) > slow_extra else hi
                out.append((i, lo2, hi2, n_words))
                prev = i
                continue
            if (left or right) and lo <= cs and ce <= hi:
                wl, wr = _words_in(clean, lo, cs)[1], _words_in(clean, ce, hi)[1]
                lo2 = wl[-len(left)] if left else cs
                hi2 = (wr[len(right)] if len(right) < len(wr) else hi) if right else ce
                out.append((i, lo2, hi2, len(_words_in(clean, cs, ce)[0])))
            prev = i
            continue
        if lo < hi and (entries[i].end - entries[i].start) >= 300:
            out.append((i, lo, hi, 0))
    # Bound the windows: the words nearest the anchored side(s).
    bounded = []
    for i, lo, hi, cur in out:
        words, starts = _words_in(clean, lo, hi)
        if len(words) > max_words:
            if lo == 0 and hi < len(clean):
                starts = starts[-max_words:]
                lo = starts[0]
            else:
                hi = starts[max_words] if max_words < len(starts) else hi
        bounded.append((i, lo, hi, cur))
    return bounded


@dataclass(frozen=True)
class _Part:
    """One constrained decode of a candidate: the whole fragment, or the audio at one edge."""

    side: str               # "whole", "left" or "right"
    a_ms: float             # the decoded audio, relative to the fragment start
    b_ms: float
    words: tuple            # the grammar's window
    n_edge: int = 0         # left: the window's first n_edge words are the edge words sought; right: its last
    narrowed: bool = False  # whole: the window is the stretch of the candidate's where the transcript matches
    offsets: tuple = ()     # clean start offset of each window word


def _is_slow(e: TranscriptEntry, n_words: int, slow_ms: float) -> bool:
    """Far more audio than `n_words` words: over 3 s and over `slow_ms` a word."""
    return (e.end - e.start) > max(3000.0, slow_ms * max(n_words, 1))


def _edge_parts(e: TranscriptEntry, clean: str, lo: int, hi: int, span, params: SecondPassParams,
                phrase_spans: frozenset = frozenset(), free: tuple[float, float] = (0.0, 0.0)) -> list[_Part]:
    """How to decode a candidate: a placed fragment wanted only for a few words at its edge(s) is
    decoded near those edges (the edge words and the placed words that fit there), unless that is
    hardly less audio than the whole fragment or a whole phrase around it could be proven
    (`_phrase_run` needs the whole decode); an unplaced fragment with a long window against the
    stretch of it where its first-pass transcript matches (`_locate_transcript`); anything else
    whole."""
    dur = e.end - e.start
    words, starts = _words_in(clean, lo, hi)
    if span is None:
        if params.locate_words and len(words) > params.locate_words:
            # a long window costs the grammar search in proportion to its words (ten times a short
            # one's at 300 words): where the garbled transcript shows where the fragment lies, only
            # that stretch is searched
            at = _locate_transcript(e.transcript.lower().split(), words, dur, params.locate_margin)
            if at is not None and at[1] - at[0] < len(words):
                return [_Part("whole", 0.0, dur, tuple(words[at[0]:at[1]]), narrowed=True,
                              offsets=tuple(starts[at[0]:at[1]]))]
        return [_Part("whole", 0.0, dur, tuple(words), offsets=tuple(starts))]
    cs, ce = span
    # The VAD may have heard the edge words too late to open (or too weak to keep) the fragment:
    # in noise a fragment starts up to 2 s after its sentence. A decode for edge words reaches into
    # the quiet before (after) the fragment, `free` ms of it: never into a neighbouring fragment.
    reach = (free[0] if lo < cs else 0.0, free[1] if ce < hi else 0.0)
    whole = [_Part("whole", -reach[0], dur + reach[1], tuple(words), offsets=tuple(starts))]
    placed, placed_at = _words_in(clean, cs, ce)
    if not (lo <= cs and ce <= hi) or not placed:
        return whole
    (left, left_at), (right, right_at) = _words_in(clean, lo, cs), _words_in(clean, ce, hi)
    # as in `_candidates`: short edges are words the fragment may hold (a long side is the window
    # of a slow fragment)
    limit = max(params.max_edge_words, params.sentence_edge_words)
    edges = sum(len(w) for w in (left, right) if len(w) <= limit)
    if _is_slow(e, len(placed) + edges, params.slow_ms_per_word):
        return whole
    if any(lo <= a and a <= cs and ce <= b and b <= hi and len(_words_in(clean, a, b)[0]) <= params.phrase_whole_words
           for a, b in phrase_spans):
        return whole
    parts = []
    for side, edge, edge_at in (("left", left, left_at), ("right", right, right_at)):
        if not edge:
            continue
        region = params.edge_region_ms + params.edge_word_ms * len(edge)
        # the placed words such a stretch can hold, at 6 words a second
        m = int(region * 6 / 1000) + 1
        if side == "left":
            parts.append(_Part(side, -reach[0], region, tuple(edge + placed[:m]), len(edge),
                               offsets=tuple(edge_at + placed_at[:m])))
        else:
            parts.append(_Part(side, dur - region, dur + reach[1], tuple(placed[-m:] + edge), len(edge),
                               offsets=tuple(placed_at[-m:] + edge_at)))
    if sum(min(p.b_ms, dur) - max(p.a_ms, 0.0) for p in parts) > 0.7 * dur:
        return whole
    return parts


def _stretched(h) -> bool:
    """A decoded word far longer than anyone says it (over 250 ms plus 100 ms a letter): the
    forced alignment stretched it over other speech or noise."""
    return h.end_ms - h.start_ms > 250.0 + 100.0 * len(h.word)


def _sentence_positions(clean: str, sentence_ends: frozenset) -> dict[int, tuple[int, int]]:
    """Clean start offset of each word -> (words before it in its sentence, words after it)."""
    words, starts = _words_in(clean, 0, len(clean))
    out: dict[int, tuple[int, int]] = {}
    first = 0
    for k in range(len(words)):
        if k == len(words) - 1 or starts[k] + len(words[k]) in sentence_ends:
            for j in range(first, k + 1):
                out[starts[j]] = (j - first, k - j)
            first = k + 1
    return out


def _to_sentence_edges(offsets, hits, raw, positions: dict, limit: int, floor: float, slack: int = 1) -> list:
    """`hits` (the run `prove` kept of `raw`, a decode against a window whose words start at
    clean `offsets`) grown over the decoded words the proof trimmed off an edge, when those
    reach the start (end) of the kept run's own sentence, or `slack` words short of it: at most
    `limit` words, with a frame-weighted mean of at least `floor`. `positions`:
    `_sentence_positions`.

    In noise a sentence's first words ("For the | developers' and authors' protection") score
    under the edge threshold though the decoder placed them in the audio before the proven
    words, and the sentence came out two or three words short. The decode forcing them there
    (the grammar offered garbage instead) and the text's own structure (they complete the proven
    sentence) together are the evidence. Unspoken text is never a part of a proven sentence: a
    header, a page line or a left-out passage is a sentence (or a phrase) of its own."""
    if not hits or not raw or not offsets or not positions or unscored(raw):
        return hits

    def plausible(ext):
        # a word stretched over other speech (a whole sentence the VAD joined on, absorbed into
        # "when") is no evidence
        return run_mean(ext) >= floor and not any(_stretched(h) for h in ext)

    a = hits[0].index - raw[0].index
    b = raw[-1].index - hits[-1].index
    out = list(hits)
    if 0 < a <= limit:
        ext = list(raw[:a])
        before = positions.get(offsets[ext[0].index])
        kept = positions.get(offsets[hits[0].index])
        if before and kept and before[0] <= slack and kept[0] == before[0] + a and plausible(ext):
            out = ext + out
    if 0 < b <= limit:
        ext = list(raw[len(raw) - b:])
        after = positions.get(offsets[ext[-1].index])
        kept = positions.get(offsets[hits[-1].index])
        if after and kept and after[1] <= slack and kept[1] == after[1] + b and plausible(ext):
            out = out + ext
    return out


def _quiet_cut(samples: np.ndarray, at: int, lo: int, hi: int, rate: int, reach_ms: float = 250.0) -> int:
    """The sample index within `reach_ms` of `at` (and inside lo..hi) in the middle of the quietest
    20 ms: where to cut speech with the least chance of splitting a word."""
    step = rate // 100
    r = int(reach_ms * rate / 1000)
    a, b = max(lo + step, at - r), min(hi - step, at + r)
    if b - a < 2 * step:
        return at
    x = samples[a - step:b + step].astype(np.float64)
    e = np.add.reduceat(x * x, np.arange(0, len(x) - step + 1, step))
    win = e[:-1] + e[1:]           # 20 ms windows, one per 10 ms
    k = int(np.argmin(win))
    return a - step + (k + 1) * step


def _edge_words(part: _Part, hits, joined: int = 2) -> list[str]:
    """The edge words a proven run of an edge decode adds: those it holds, when it also holds
    `joined` placed words (so they join the placed text in the audio, where the placement is
    confirmed too); none otherwise."""
    n, k = part.n_edge, len(part.words)
    idx = [h.index for h in hits]
    if part.side == "left" and idx and idx[0] < n and idx[-1] >= n + joined - 1:
        return list(part.words[idx[0]:n])
    if part.side == "right" and idx and idx[0] <= k - n - joined and idx[-1] >= k - n:
        return list(part.words[k - n:idx[-1] + 1])
    return []


def second_pass(entries: Sequence[TranscriptEntry], align_fn, clean: str, samples: np.ndarray, rate: int, spec,
                params: SecondPassParams = SecondPassParams(), workers: int = 1,
                show_progress: bool = False, sentence_ends: frozenset = frozenset(),
                final_align_fn=None, phrase_spans: frozenset = frozenset()) -> tuple[list[TranscriptEntry], SecondPassStats]:
    """Entries with proven transcripts for fragments the first alignment left out.

    `align_fn(entries) -> {fragment index: (clean_start, clean_end)}` aligns without sentence
    merging (and without guessing who gets the words between neighbours); `final_align_fn` the
    same as the final alignment will place them (default: `align_fn`), for the sentence cuts; `spec` is a pocketsphinx EngineSpec with the document dictionary; `samples` the
    audio at `rate` (int16); `phrase_spans` the clean (start, end) of each phrase of a text read
    phrase by phrase (prompts, verse lines, .script entries), for `_verify_short`.
    """
    from .common.progress import progress

    stats = SecondPassStats()
    t0 = time.perf_counter()
    entries = list(entries)
    if not params.enabled or not entries:
        return entries, stats
    tried: set[tuple[int, int, int]] = set()
    spent_ms = 0.0
    few_anchors = False
    ex = None
    local = None

    fixed = params.decode    # the workers prove with these; a calibration re-proves their raw scores
    positions = _sentence_positions(clean, sentence_ends) if sentence_ends else {}

    def grow(part, hits, raw):
        return _to_sentence_edges(part.offsets, hits, raw, positions,
                                  params.max_edge_words, params.decode.min_mean_score - params.sentence_edge_floor)

    def reprove(result):
        hits, raw = result
        if params.decode is fixed or not raw or unscored(raw):
            return hits, raw
        return prove(raw, params.decode), raw

    def decode_all(tasks):
        """(hypothesis, raw) per task, in order, as they finish: in a spawn pool of `workers`
        processes (made on first use, reused by every later call) or in this process."""
        nonlocal ex, local
        if workers > 1 and len(tasks) > 1:
            if ex is None:
                import multiprocessing  # here: the text-only path (align --tlog) never needs a pool
                from concurrent.futures import ProcessPoolExecutor

                ex = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init, initargs=(spec, fixed))
            # longest first, one task at a time: the costs differ tenfold (audio length times window
            # size), and a long decode handed out last would leave the other workers idle
            order = sorted(range(len(tasks)), key=lambda k: (-_cost(tasks[k]), k))
            futures = {k: ex.submit(_decode, tasks[k]) for k in order}
            return (reprove(futures[k].result()) for k in range(len(tasks)))
        if local is None:
            local = ConstrainedDecoder(spec, fixed)
        return (reprove(_safe_decode(local, *t)) for t in tasks)

    def run(tasks):
        return list(decode_all(tasks))

    try:
        def few(placed):
            # by count of the fragments heard, and by their audio among all the voiced audio:
            # two minutes of noise gave 8 short transcripts of 40 fragments, and the 5 that
            # matched a word by chance (1.6 s each of 77 s) were no islands, but 62% by count
            spoken = sum(1 for e in entries if e.transcript.strip())
            voiced = sum(e.end - e.start for e in entries)
            anchored = sum(entries[i].end - entries[i].start for i in placed)
            return len(placed) < params.min_anchored * max(spoken, 1) or anchored < params.min_anchored * voiced

        for _round in range(params.max_rounds):
            placed = align_fn(entries)
            if _round == 0 and few(placed):
                # Islands of confidence need islands: with few anchors the windows are long and
                # many, and short common word runs could be "proven" by chance in bad audio. The
                # seeding step first looks for anchors where the garbled transcripts point.
                seeded = _seed(entries, placed, clean, samples, rate, params, stats, run) if params.seed else None
                if seeded is not None:
                    entries, params = seeded
                    placed = align_fn(entries)
                if few(placed):
                    log.info("second pass: the first pass placed only %d of %d fragments (needs %.0f%%, and as "
                             "much of the voiced audio): no re-decoding; every placement must be proven",
                             len(placed), sum(1 for e in entries if e.transcript.strip()), 100.0 * params.min_anchored)
                    few_anchors = True
                    break
            elif _round == 0 and params.calibrate.enabled:
                params = _calibrated(entries, placed, clean, samples, rate, params, stats, run)
            cands = [c for c in _candidates(entries, placed, clean, params.decode.max_window_words,
                                            params.max_edge_words, params.slow_ms_per_word, params.slow_extra_words,
                                            sentence_ends, params.sentence_edge_words)
                     if (c[0], c[1], c[2]) not in tried]
            if not cands:
                break
            # Bounded cost: when the first pass failed on most of the audio (wrong text, or speech
            # the acoustic model cannot follow) the candidates are kept to the budget, shortest first.
            left_ms = params.budget * 1000.0 * len(samples) / rate - spent_ms
            if left_ms <= 0:
                log.info("second pass: re-decoding budget (%.0f%% of the audio) spent", 100.0 * params.budget)
                break
            # the audio each candidate's decodes cover (a placed fragment wanting only edge words is
            # decoded near its edges: far less than its length)
            planned = {}
            for i, lo, hi, _cur in cands:
                e = entries[i]
                before = e.start - (entries[i - 1].end if i > 0 else 0.0)
                after = (entries[i + 1].start if i + 1 < len(entries) else len(samples) * 1000.0 / rate) - e.end
                free = tuple(max(0.0, min(params.edge_reach_ms, g - params.edge_guard_ms)) for g in (before, after))
                parts = _edge_parts(e, clean, lo, hi, placed.get(i), params, phrase_spans, free)
                planned[i] = (parts, sum(pt.b_ms - pt.a_ms for pt in parts))
            by_len = sorted(cands, key=lambda c: (planned[c[0]][1], c[0]))
            keep, total = set(), 0.0
            for c in by_len:
                d = planned[c[0]][1]
                if total + d > left_ms:
                    break
                keep.add(c[0])
                total += d
            log.debug("second pass: round %d: %d candidates, %d within the budget (%.1f s of audio; %s left out)",
                      _round + 1, len(cands), len(keep), total / 1000.0, [c[0] for c in cands if c[0] not in keep])
            cands = [c for c in cands if c[0] in keep]
            if not cands:
                break
            spent_ms += total
            stats.rounds += 1
            tasks, plans = [], []
            for i, lo, hi, cur in cands:
                tried.add((i, lo, hi))
                e = entries[i]
                parts = planned[i][0]
                plans.append(parts)
                a0, b0 = int(e.start * rate / 1000), int(e.end * rate / 1000)
                for k, part in enumerate(parts):
                    a = int((e.start + part.a_ms) * rate / 1000)
                    b = int((e.start + part.b_ms) * rate / 1000)
                    if part.side != "whole":
                        # cut the edge's audio in the quietest spot near its nominal end (a pause or
                        # a closure, not the middle of a word the grammar could not then finish)
                        if part.side == "left":
                            b = _quiet_cut(samples, b, a0, b0, rate)
                        else:
                            a = _quiet_cut(samples, a, a0, b0, rate)
                        part = dataclasses.replace(part, a_ms=(a - a0) * 1000.0 / rate, b_ms=(b - a0) * 1000.0 / rate)
                        parts[k] = part
                    if part.side == "whole":
                        # a run no longer than the words already placed changes nothing: its proof is
                        # skipped; so is one no threshold (nor a whole phrase's) can accept
                        runs = () if part.narrowed else _phrase_ranges(clean, lo, hi, placed.get(i), phrase_spans)
                        tasks.append((samples[a:b], list(part.words), cur, None, False,
                                      Acceptance(params.decode, params.decode.min_words, runs, params.phrase_min_score)))
                    else:
                        # a run without an edge word adds nothing: its proof is skipped
                        n, k = part.n_edge, len(part.words)
                        tasks.append((samples[a:b], list(part.words), 0, (0, n) if part.side == "left" else (k - n, k),
                                      part.side == "left", Acceptance(params.decode, params.decode.min_words)))
            stats.tried += len(tasks)
            results = iter(decode_all(tasks))
            changed = False
            unproven = []   # (candidate, part, run): failed the proof, to compare with chance on their own audio

            def take(i, new):
                nonlocal changed
                if new.transcript == entries[i].transcript and new.start == entries[i].start \
                        and new.end == entries[i].end:
                    return
                if i in placed:
                    stats.extended += 1
                else:
                    stats.recovered += 1
                log.debug("second pass: fragment %d %r -> %r", i, entries[i].transcript, new.transcript)
                entries[i] = new
                changed = True

            with progress(total=len(cands), enabled=show_progress, desc="second pass", unit="fragment") as bar:
                for (i, lo, hi, cur), parts in zip(cands, plans):
                    bar.update(1)
                    done = []
                    for part in parts:
                        hits, raw = next(results)
                        done.append((part, grow(part, hits, raw), raw))
                    if log.isEnabledFor(logging.DEBUG):
                        for part, hits, raw in done:
                            log.debug("second pass: fragment %d (%.0f-%.0f ms, %d words placed) %s %.0f-%.0f ms, "
                                      "window %r: %s -> %s", i, entries[i].start, entries[i].end, cur, part.side,
                                      part.a_ms, part.b_ms, " ".join(part.words)[:80],
                                      " ".join(f"{h.word}:{h.score:.1f}" for h in raw),
                                      "proven" if hits else "not proven")
                    if parts[0].side != "whole":
                        new = _extend(entries[i], done, clean, placed[i], params)
                        if new is None:
                            stats.rejected += 1
                            continue
                    else:
                        _part, hits, raw = done[0]
                        if (not hits or len(hits) <= cur) and not _part.narrowed:
                            hits = _phrase_run(raw, clean, lo, hi, placed.get(i), phrase_spans, params) or hits
                        if not hits or len(hits) <= cur:
                            run_ = _local_candidate(raw, params) if not _part.narrowed else []
                            if len(run_) > cur:
                                unproven.append(((i, lo, hi, cur), _part, run_))
                            else:
                                stats.rejected += 1
                            continue
                        new = _replace(entries[i], hits, params, offset=_part.a_ms,
                                       keep=_open_edges(_part.offsets, hits, positions, params.max_edge_words))
                    take(i, new)
            if unproven:
                for (i, _lo, _hi, _cur), part, hits in _beat_chance(unproven, entries, clean, samples, rate, params,
                                                                    stats, run):
                    take(i, _replace(entries[i], hits, params, offset=part.a_ms,
                                     keep=_open_edges(part.offsets, hits, positions, params.max_edge_words)))
            if not changed:
                break

        if params.verify_words > 0:
            # A placement dropped here frees its text for another fragment with the same few words
            # (two "when" heard in noise): the placements a re-alignment makes anew are verified
            # too, until none is dropped.
            seen: set = set()
            for _ in range(4):
                fresh = {i: s for i, s in align_fn(entries).items() if (i, tuple(s)) not in seen}
                seen.update((i, tuple(s)) for i, s in fresh.items())
                checked = _verify_short(entries, fresh, clean, samples, rate, params, stats, run,
                                        every=few_anchors, phrase_spans=phrase_spans)
                if checked == entries:
                    break
                entries = checked
        if params.split_sentences and sentence_ends:
            entries = _split_at_sentence_ends(entries, (final_align_fn or align_fn)(entries), clean, sentence_ends,
                                              samples, rate, stats, run, max_guess=params.max_edge_words,
                                              accept=Acceptance(params.decode, params.decode.min_words))
    finally:
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
    stats.seconds = time.perf_counter() - t0
    return entries, stats


def _local_candidate(raw, params: SecondPassParams) -> list:
    """The run of a failed whole decode worth comparing with chance on its own audio: edge words
    under the edge threshold trimmed, `local_words`+ words, mean at least `calibrate.lowest`;
    [] otherwise."""
    if len(raw) < params.local_words or unscored(raw):
        return []
    floor = dataclasses.replace(params.decode, min_mean_score=params.calibrate.lowest, min_words=params.local_words)
    return prove(list(raw), floor)


def _beat_chance(unproven, entries, clean, samples, rate, params: SecondPassParams, stats, run_raw):
    """Of the failed whole decodes in `unproven` ((candidate, part, run)), those whose run scores
    `local_margin` above the best run chance reaches on the same audio: a decode against
    `calibrate.impostor_words` words half the document away (runs holding a word of the
    candidate's run, or with edge words the proof would trim, left out, as in proofcal).

    Why: the recording's calibration is one level for the whole recording, measured on a few
    fragments; with several voices or conditions by turns (mixed-hard: four voices through
    reverberation, telephone band and noise) a whole sentence of a harder voice scores -3.1
    where the threshold, set on easier ones, is -2.8. Chance measured on the fragment's own audio
    is the fair reference for it."""
    words, starts = _words_in(clean, 0, len(clean))
    n, m = len(words), params.calibrate.impostor_words
    if n < 3 * m:
        stats.rejected += len(unproven)
        return []
    tasks = []
    for (i, lo, _hi, _cur), part, _run in unproven:
        e = entries[i]
        first = _word_index(starts, lo)
        far = (first + n // 2) % n
        a = int((e.start + part.a_ms) * rate / 1000)
        b = int((e.start + part.b_ms) * rate / 1000)
        tasks.append((samples[max(0, a):b], [words[(far + k) % n] for k in range(m)]))
    stats.tried += len(tasks)
    out = []
    for (cand, part, run), (_h, raw) in zip(unproven, run_raw(tasks)):
        chance = best_subrun(raw, exclude=frozenset(h.word for h in run), edge_min=params.decode.min_edge_score) \
            if raw and not unscored(raw) else float("nan")
        ok = chance == chance and run_mean(run) >= chance + params.local_margin
        log.debug("second pass: fragment %d, unproven run %s: mean %.2f, chance on its audio %.2f -> %s", cand[0],
                  " ".join(h.word for h in run), run_mean(run), chance, "kept" if ok else "not kept")
        if ok:
            out.append((cand, part, run))
        else:
            stats.rejected += 1
    return out


def _measure(entries, placed, clean, samples, rate, params: SecondPassParams, stats, run_raw):
    """proofcal.calibrate on the placements `placed` (fragment -> clean span), its decodes counted."""
    from . import proofcal

    def counted(tasks):
        stats.tried += len(tasks)
        return run_raw(tasks)

    words, starts = _words_in(clean, 0, len(clean))
    return proofcal.calibrate(entries, placed, words, lambda off: _word_index(starts, off),
                              lambda a, b: _words_in(clean, a, b)[0], samples, rate, params.calibrate, counted,
                              params.decode)


def _moved(cal, params: SecondPassParams) -> SecondPassParams:
    """`params` with the proof's thresholds moved by the calibration `cal` (proofcal.apply)."""
    from . import proofcal

    decode, phrase_min = proofcal.apply(cal, params.decode, params.phrase_min_score, params.calibrate)
    return dataclasses.replace(params, decode=decode, phrase_min_score=phrase_min)


def _calibrated(entries, placed, clean, samples, rate, params: SecondPassParams, stats, run_raw) -> SecondPassParams:
    """`params` with the proof's thresholds moved for this recording (align/proofcal.py)."""
    cal = _measure(entries, placed, clean, samples, rate, params, stats, run_raw)
    params = _moved(cal, params)
    stats.calibration = cal.line()
    log.info("second pass: %s", stats.calibration)
    return params


def _seed(entries, placed, clean, samples, rate, params: SecondPassParams, stats, run_raw):
    """(entries, params) with anchors for a recording the first pass could hardly place, or None.

    Each unplaced fragment whose transcript points at one stretch of the text
    (`_locate_transcript`: rare words in order, at most `seed_window_words` long) is decoded
    against that stretch. The proof's thresholds are calibrated on the seeds whose decoded run the
    first-pass transcript itself half says (two decodes of the same audio, one free and one
    constrained, agreeing: the position is sure) with their words as the own text, as
    `_calibrated` does with sure placements. A recording whose own level is not
    `seed_separation` above what chance reaches (the text does not belong to the audio, or the
    audio is beyond the acoustic model) seeds nothing. Then every seed's proven run replaces its
    transcript, as in a round."""
    from rapidfuzz.distance import Levenshtein

    t0 = time.perf_counter()
    words, starts = _words_in(clean, 0, len(clean))
    seeds = []
    for i, e in enumerate(entries):
        if i in placed or e.end - e.start < 300:
            continue
        at = _locate_transcript(e.transcript.lower().split(), words, e.end - e.start, params.locate_margin)
        if at is not None and at[1] - at[0] <= params.seed_window_words:
            seeds.append((i, at))
    if len(seeds) < 2:
        return None

    def audio(i):
        e = entries[i]
        return samples[int(e.start * rate / 1000):int(e.end * rate / 1000)]

    def sure(batch, decoded):
        """The seeds of `batch` sure enough to calibrate on: (fragment, clean span of its run, run)."""
        out = []
        for (i, (a, _b)), (_h, raw) in zip(batch, decoded):
            run = [h.word for h in raw]
            if len(run) < params.calibrate.min_words or unscored(raw):
                continue
            if Levenshtein.normalized_similarity(entries[i].transcript.lower().split(), run) >= params.seed_similarity:
                k0, k1 = a + raw[0].index, a + raw[-1].index
                out.append((i, (starts[k0], starts[k1] + len(words[k1])), run))
        return out

    # The shortest seeds first, with exact scores (no Acceptance: the thresholds are not known
    # yet), until enough are sure to calibrate on; the rest once the thresholds are known, when
    # the phone decode can mostly be left out.
    seeds.sort(key=lambda s: (entries[s[0]].end - entries[s[0]].start, s[0]))
    batch = 2 * params.calibrate.fragments
    decoded: dict[int, list] = {}
    found: list = []
    k = 0
    while k < len(seeds) and len(found) < params.calibrate.fragments:
        part = seeds[k:k + batch]
        got = run_raw([(audio(i), words[a:b]) for i, (a, b) in part])
        stats.tried += len(part)
        decoded.update((i, raw) for (i, _at), (_h, raw) in zip(part, got))
        found += sure(part, got)
        k += batch
    sure_entries = list(entries)
    for i, _span, run in found:
        sure_entries[i] = dataclasses.replace(entries[i], transcript=" ".join(run))

    cal = _measure(sure_entries, {i: span for i, span, _run in found}, clean, samples, rate, params, stats, run_raw)
    # chance must be measured, and the recording's own words must score clearly above it
    clean_own = cal.fragments and cal.impostor != cal.impostor and cal.own >= params.calibrate.clean_level
    if not clean_own and not (cal.fragments and cal.own >= cal.impostor + params.seed_separation):
        log.info("second pass: seeding: %d located fragments, %s: own text not clearly above chance, no seeds",
                 len(seeds), cal.line())
        return None
    params = _moved(cal, params)
    stats.calibration = cal.line()
    rest = seeds[k:]
    got = run_raw([(audio(i), words[a:b], 0, None, False, Acceptance(params.decode, params.decode.min_words))
                   for i, (a, b) in rest]) if rest else []
    stats.tried += len(rest)
    decoded.update((i, raw) for (i, _at), (_h, raw) in zip(rest, got))
    out = list(entries)
    for i, _at in sorted(seeds):
        raw = decoded[i]
        hits = prove(raw, params.decode) if raw and not unscored(raw) else []
        if hits:
            out[i] = _replace(entries[i], hits, params)
            stats.recovered += 1
            stats.seeded += 1
    log.info("second pass: seeding: %d located fragments, %d proven (%.2f s); %s", len(seeds), stats.seeded,
             time.perf_counter() - t0, cal.line())
    return out, params


def _verify_short(entries, placed, clean, samples, rate, params, stats, run_raw, every=False,
                  phrase_spans: frozenset = frozenset()):
    """Short first-pass placements (a few words: the kind a garbled transcript matches by chance)
    must be proven by the audio like second-pass ones; unproven ones lose their transcript (and
    are dropped as empty).

    A recording of a short prompt ("Front left.") whose transcript says exactly the whole prompt,
    word for word and edge to edge, needs less: a chance match of a garbled transcript rarely
    covers a whole phrase exactly. Its words are not trimmed at the edges, and their frame-weighted
    mean score must reach `phrase_min_score` (a microphone unlike the acoustic model's training
    data scores 2 nats/frame below free phones on words it says clearly)."""
    todo = []
    for i, (cs, ce) in sorted(placed.items()):
        words = _words_in(clean, cs, ce)[0]
        if words and (every or len(entries[i].transcript.split()) <= params.verify_words):
            todo.append((i, words))
    if not todo:
        return entries
    def accept(i, words):
        # kept below: a proven run of half the words (runs of one word allowed), or a whole prompt
        whole = len(words) >= 2 and tuple(placed[i]) in phrase_spans and _says_phrase(entries[i].transcript.split(), words)
        return Acceptance(params.decode, max(1, (len(words) + 1) // 2), ((0, len(words) - 1),) if whole else (),
                          params.phrase_min_score)

    tasks = [(samples[int(entries[i].start * rate / 1000):int(entries[i].end * rate / 1000)], w, 0, None, False,
              accept(i, w)) for i, w in todo]
    stats.tried += len(tasks)
    out = list(entries)
    for (i, words), (_hits, raw) in zip(todo, run_raw(tasks)):
        if _whole_prompt(entries[i], placed[i], words, raw, phrase_spans, params):
            continue
        # at least half the placed words proven: one short word ("a", "the") is proven by chance
        if len(prove(raw, params.decode, min_words=1)) * 2 < len(words):
            stats.unproven += 1
            log.debug("second pass: fragment %d %r not proven by the audio: dropped (%s)", i, entries[i].transcript,
                      " ".join(f"{h.word}:{h.score:.1f}" for h in raw))
            out[i] = dataclasses.replace(entries[i], transcript="", meta=dict(entries[i].meta))
    return out


def _says_phrase(said: list[str], words: list[str]) -> bool:
    """Whether a transcript says the phrase `words`: exactly, or, for a phrase of 3+ words, with
    one word in its place misheard ("an of clubs" for "ten of clubs" through a telephone band)."""
    if said == words:
        return True
    return len(words) >= 3 and len(said) == len(words) and sum(a != b for a, b in zip(said, words)) == 1


def _whole_prompt(entry, span, words, raw, phrase_spans, params) -> bool:
    """Whether a short placement says a whole phrase of 2+ words (transcript and placed text equal,
    or one word of 3+ misheard: `_says_phrase`; the decoded words exactly the phrase) and its words
    reach `params.phrase_min_score` on average."""
    if len(words) < 2 or tuple(span) not in phrase_spans or not _says_phrase(entry.transcript.split(), words):
        return False
    if [h.word for h in raw] != words:
        return False
    return run_mean(raw) >= params.phrase_min_score


def _phrase_ranges(clean, lo, hi, span, phrase_spans) -> tuple:
    """The window positions (a, b) a run must cover exactly for `_phrase_run` to accept it."""
    if not phrase_spans:
        return ()
    words, starts = _words_in(clean, lo, hi)
    first = {st: k for k, st in enumerate(starts)}
    last = {st + len(w): k for k, (w, st) in enumerate(zip(words, starts))}
    out = []
    for ps, pe in sorted(phrase_spans):
        a, b = first.get(ps), last.get(pe)
        if a is None or b is None or b <= a:
            continue
        if span is not None and not (ps <= span[0] and span[1] <= pe):
            continue
        if span is None and (a, b) != (0, len(words) - 1):
            continue
        out.append((a, b))
    return tuple(out)


def _phrase_run(raw, clean, lo, hi, span, phrase_spans, params):
    """A constrained decode that says exactly a whole phrase of 2+ words, with the mean score
    `_whole_prompt` asks for: its hits, else []. For a placed fragment (`span`: its placement)
    the phrase must hold the placement ("we're right" placed on "right"; the decode says "rear
    right"); for an unplaced one the phrase must be the whole window: the one prompt between the
    two placed neighbours."""
    if len(raw) < 2 or not phrase_spans:
        return []
    words, starts = _words_in(clean, lo, hi)
    a, b = raw[0].index, raw[-1].index
    if [h.index for h in raw] != list(range(a, b + 1)):
        return []
    run = (starts[a], starts[b] + len(words[b]))
    if run not in phrase_spans:
        return []
    if span is not None and not (run[0] <= span[0] and span[1] <= run[1]):
        return []
    if span is None and (a, b) != (0, len(words) - 1):
        return []
    return list(raw) if run_mean(raw) >= params.phrase_min_score else []


def _skipped_sentence(samples, rate, e, words, k, hits, run):
    """The cut (end of sentence 1, start of sentence 2; ms from the fragment start) for a fragment
    of two sentences (sentence end after word k) whose decode proved only one of them: the other
    sentence's words are decoded alone in the audio before (after) the proven run, and must reach
    the sentence end with the two words next to it. None when they do not."""
    a, b = int(e.start * rate / 1000), int(e.end * rate / 1000)
    if hits[0].index > k:                      # sentence 2 proven: look for the end of sentence 1
        stop = a + int(hits[0].start_ms * rate / 1000)
        (_h, raw), = run([(samples[a:stop], words[:k + 1])])
        got = {h.index: h for h in raw}
        if k in got and k - 1 in got and got[k].end_ms <= hits[0].start_ms:
            return got[k].end_ms, hits[0].start_ms
    elif hits[-1].index <= k:                  # sentence 1 proven: look for the start of sentence 2
        begin = a + int(hits[-1].end_ms * rate / 1000)
        (_h, raw), = run([(samples[begin:b], words[k + 1:])])
        got = {h.index: h for h in raw}
        if 0 in got and 1 in got:
            return hits[-1].end_ms, hits[-1].end_ms + got[0].start_ms
    return None


def _split_at_sentence_ends(entries, placed, clean, sentence_ends, samples, rate, stats, run, max_guess: int = 3,
                            accept=None):
    """Fragments whose text crosses a sentence end (the VAD heard no pause long enough there) are
    aligned word by word against their own text and cut in the pause between the two sentences."""
    todo = {}
    for i, e in enumerate(entries):
        span = placed.get(i)
        words, starts = _words_in(clean, *span) if span else ([], [])
        inner = [k for k in range(len(words) - 1) if starts[k] + len(words[k]) in sentence_ends]
        if inner:
            todo[i] = (words, inner)
    order = sorted(todo)
    # the proven run and the decoded words' times are all that is used: `accept` (the proof's
    # thresholds) lets the decoder leave out the phone decode where it cannot change that run
    tasks = [(samples[int(entries[i].start * rate / 1000):int(entries[i].end * rate / 1000)], todo[i][0], 0, None,
              False, accept) for i in order]
    decoded = dict(zip(order, run(tasks))) if tasks else {}
    stats.tried += len(tasks)
    out = []
    for i, e in enumerate(entries):
        if i not in todo:
            out.append(e)
            continue
        words, inner = todo[i]
        hits, raw = decoded[i]
        by_index = {h.index: h for h in hits}
        cuts = [k for k in inner if k in by_index and k + 1 in by_index]
        if log.isEnabledFor(logging.DEBUG):
            log.debug("second pass: fragment %d, sentence end(s) after word %s: proven %s; decoded %s", i, inner,
                      " ".join(f"{h.index}:{h.word}" for h in hits), " ".join(f"{h.index}:{h.word}:{h.score:.1f}" for h in raw))
        # The fragment's text is already placed; where the proof falls short (it is all or
        # nothing over the run, and one weak word sinks it), the grammar decode is still a forced
        # alignment of that text: it may place a cut when it covers two words on each side of the
        # end, so that no guessed edge word becomes an utterance of its own.
        at = {k: (by_index[k].end_ms, by_index[k + 1].start_ms) for k in cuts}
        decoded_at = {h.index: h for h in raw}
        for k in inner:
            if k not in at and all(j in decoded_at for j in range(k - 1, k + 3)):
                at[k] = (decoded_at[k].end_ms, decoded_at[k + 1].start_ms)
        if not at and hits and len(inner) == 1 and len(words) - len(hits) > max_guess:
            k = inner[0]
            found = _skipped_sentence(samples, rate, e, words, k, hits, run)
            if found is not None:
                at[k] = found
                stats.tried += 1
        cuts = sorted(at)
        if not cuts:
            # the proven words lie in one sentence, and the words beyond its ends are few: they
            # were the aligner's guess (edge words of the neighbour); keep the proven words only.
            # A whole sentence beyond (a noisy decode skipped it as garbage) stays: the first
            # pass placed it, and an utterance of two sentences loses less than one of them.
            if hits and all((hits[0].index <= k) == (hits[-1].index <= k) for k in inner):
                # the proven sentence runs from after the last end before it to the first end in it
                last_end = max((k for k in inner if k < hits[0].index), default=-1)
                first_end = min((k for k in inner if k >= hits[0].index), default=len(words) - 1)
                new = " ".join(h.word for h in hits)
                if (last_end + 1) + (len(words) - 1 - first_end) <= max_guess and new != e.transcript:
                    stats.extended += 1
                    log.debug("second pass: fragment %d kept to one sentence: %r", i, new)
                    e = dataclasses.replace(e, transcript=new, meta=dict(e.meta))
            out.append(e)
            continue
        bounds = [0] + [k + 1 for k in cuts] + [len(words)]
        times = [e.start] + [round(e.start + (at[k][0] + at[k][1]) / 2, 3) for k in cuts] + [e.end]
        for (w0, w1), (t0, t1) in zip(zip(bounds, bounds[1:]), zip(times, times[1:])):
            piece = [h.word for h in hits if w0 <= h.index < w1] or words[w0:w1]
            out.append(dataclasses.replace(e, start=t0, end=t1, transcript=" ".join(piece), meta=dict(e.meta)))
        stats.split += 1
        log.debug("second pass: fragment %d cut at %d sentence end(s)", i, len(cuts))
    return out


def _extend(e: TranscriptEntry, done, clean: str, span, params: SecondPassParams) -> TranscriptEntry | None:
    """The entry with the edge words its edge decodes proved around the placed words (None: none
    proved); long unexplained audio before (after) proven edge words cut off as in `_replace`."""
    words = _words_in(clean, *span)[0]
    start, end = e.start, e.end
    grown = False
    for part, hits, _raw in done:
        edge = _edge_words(part, hits)
        if not edge:
            continue
        grown = True
        if part.side == "left":
            words = edge + words
            start = _moved_start(e, part.a_ms + hits[0].start_ms, params)
        else:
            words = words + edge
            end = _moved_end(e, part.a_ms + hits[-1].end_ms, params)
    if not grown:
        return None
    return dataclasses.replace(e, start=round(start, 3), end=round(end, 3), transcript=" ".join(words),
                               meta=dict(e.meta))


def _moved_start(e: TranscriptEntry, first: float, params: SecondPassParams, trim: bool = True) -> float:
    """The fragment's start when proven words begin `first` ms after it: cut to them when more
    than `trim_ms` of unexplained audio lies before them (and `trim`), moved out to them when they
    begin before it (the VAD opened late); `pad_ms` kept before them."""
    return e.start + first - params.pad_ms if (trim and first > params.trim_ms) or first < 0 else e.start


def _moved_end(e: TranscriptEntry, last: float, params: SecondPassParams, trim: bool = True) -> float:
    """The fragment's end when proven words end `last` ms after its start (as `_moved_start`)."""
    dur = e.end - e.start
    return e.start + last + params.pad_ms if (trim and dur - last > params.trim_ms) or last > dur else e.end


def _open_edges(offsets, hits, positions: dict, limit: int) -> tuple[bool, bool]:
    """Whether the sentence of a proven run (decoded against a window whose words start at clean
    `offsets`) goes on for 1 to `limit` words before its first word / after its last: words the
    text alignment's edge claims may still give the fragment. (With more, the rest of the sentence
    is not this fragment's to claim: its label ends with the run, and so must its audio.)"""
    if not hits or not offsets or not positions:
        return False, False
    first = positions.get(offsets[hits[0].index])
    last = positions.get(offsets[hits[-1].index])
    return bool(first and 0 < first[0] <= limit), bool(last and 0 < last[1] <= limit)


def _replace(e: TranscriptEntry, hits, params: SecondPassParams, offset: float = 0.0,
             keep: tuple[bool, bool] = (False, False)) -> TranscriptEntry:
    """The entry with the proven words as transcript; long unexplained audio at an edge cut off,
    and the fragment widened over proven words outside it. `offset`: where the decoded audio
    started, in ms from the fragment's start. `keep` (start, end): never cut that edge inward.
    The audio before a proven run whose sentence goes on before it is most likely that
    sentence's first words the decoder could not prove ("to | protect your rights" in noise),
    which the text alignment may still give this fragment: cut off, the label would hold words
    its audio lacks."""
    start = _moved_start(e, offset + hits[0].start_ms, params, trim=not keep[0])
    end = _moved_end(e, offset + hits[-1].end_ms, params, trim=not keep[1])
    meta = dict(e.meta)
    return dataclasses.replace(e, start=round(start, 3), end=round(end, 3),
                               transcript=" ".join(h.word for h in hits), meta=meta)
