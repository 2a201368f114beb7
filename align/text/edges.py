"""Utterance edges after gap alignment: whole words only, and no words lost between neighbours.

1. `snap_to_words`: a match that starts or ends inside a word takes the whole word when it
   already covers at least half of it, else leaves it (an utterance never holds "es" of "lies").
2. `bridge`: text nobody reads that furniture detection missed (a footnote's text at the foot
   of a page, a caption, an undetected running head) splits a spoken sentence; the match then
   covers only the transcript's longer part. An unmatched end of the transcript of at least
   `bridge_min_chars` is looked for across at most `bridge_max_chars` of text beyond the match
   (never past a neighbour); found well enough, the utterance spans the stretch between, which
   is left out of its label and listed as skipped. Only when the part matched in place is itself
   substantial (`bridge_min_core` of the transcript's letters) and the piece found beyond is long
   enough for the stretch it crosses (at most `bridge_stretch_per_letter` characters of stretch
   per letter of the piece): a garbled transcript whose few chance words match somewhere is not
   stretched across a page to them.
3. `claim_gaps`: speech-to-text drops or garbles short first and last words ("the", "of"), so a
   match stops a word short and the word lies unclaimed between two utterances. When two
   utterances are neighbours in the audio (consecutive fragments, no junk or unplaced fragment
   between, a pause of at most `max_pause_ms`) and at most `max_words` words (`max_chars`
   characters) of text lie between their matches, those words were spoken by one of them. The
   split point among the words is chosen by evidence, strongest first:
   - the text's punctuation: a phrase separator (`--text-meaningful-newlines`, .script entries),
     a paragraph break or a sentence end (., !, ?) is where a reader pauses; a comma, colon or
     semicolon is weaker evidence;
   - an utterance rarely ends on a word that leans on the next one (articles, prepositions,
     conjunctions: "the", "of", "and");
   - the durations: the split that leaves both fragments closest to the document's median
     speaking rate (milliseconds per clean character) wins ties.
   With a longer stretch, a longer pause or a fragment between, the audio shows a skip and the
   text stays unclaimed; so does a stretch holding a whole paragraph (a heading such as
   "0. Definitions." between two paragraphs is skipped by readers, not garbled) or a whole
   phrase (a prompt or line of verse neither neighbour reaches: a skipped prompt).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from .normalise import CleanText

SENTENCE_END = frozenset(".!?\u2026\u3002\uff01\uff1f")
PHRASE_END = frozenset(",;:\u2014)")
# Words that lean on the word after them: an utterance rarely ends on one (English; other
# languages simply get no such evidence).
LEANING = frozenset(
    "a an the of to in on at for with by from into unto upon and or but nor that as than "
    "his her my your their our its this these those whose which who".split()
)
# Also leaning, by the same reasoning: subordinators, quantifiers, auxiliaries and modals (an
# utterance ending on one without punctuation after it is rare: "if | you", "will | be").
LEANING_MORE = LEANING | frozenset(
    "if when while because although though unless until whether every each any some no such "
    "is are was were be been am will shall would should can could may might must do does did has have had".split()
)


@dataclass(frozen=True)
class EdgeParams:
    snap_words: bool = True          # --align-no-word-snap turns both steps off
    claim_gaps: bool = True          # --align-no-claim-gaps
    max_words: int = 3               # --align-claim-max-words
    max_chars: int = 24
    max_pause_ms: float = 3000.0     # --align-claim-max-pause
    w_sentence: float = 3.0          # evidence weights (see algo.md)
    w_phrase: float = 1.5
    w_separator: float = 5.0
    w_leaning: float = 2.0
    leaning_more: bool = True        # subordinators, quantifiers, auxiliaries lean too
    fill: bool = True                # place a left-out fragment between two placed neighbours (fill_between)
    fill_max_words: int = 12
    fill_min_sim: float = 0.6
    calibrate: bool = True           # re-estimate the pause weights on the document (pause_weights)
    calibrate_prior: float = 50.0    # pseudo-junctions of the defaults in that estimate
    w_duration: float = 1.0          # weight of the durations' fit (see claim_gaps)
    duration_dof: float = 4.0        # Student's t degrees of freedom of the misfit (0: Gaussian)
    claim_across: int = 2            # unplaced (junk) fragments a claim may reach across
    bridge: bool = True              # --align-no-bridge
    bridge_min_chars: int = 10       # an unmatched transcript end this long is looked for across an insert
    bridge_max_chars: int = 400      # --align-bridge-max: longest unread stretch bridged (clean characters)
    bridge_min_score: float = 0.7    # normalised Smith-Waterman score the unmatched end needs there
    # the transcript's part matched in place must hold this share of its letters (and at least
    # bridge_min_chars): a chance match of two garbled words ("that patents") must not pull an
    # utterance across a stretch to where the rest of its transcript happens to match
    bridge_min_core: float = 1 / 3
    # a stretch is bridged for a piece of at least 1/this of its length in letters: "if that
    # patents and" (16 letters) matches at 0.7 somewhere in any 200 characters of prose
    bridge_stretch_per_letter: float = 10.0


def _word_bounds(clean: str, k: int) -> tuple[int, int]:
    s = k
    while s > 0 and clean[s - 1] != " ":
        s -= 1
    e = k
    while e < len(clean) and clean[e] != " ":
        e += 1
    return s, e


def snap_to_words(clean: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int] | None]:
    """Spans moved to word boundaries (ordered, disjoint in, ordered, disjoint out); None for a
    span that held less than half of any word."""
    out: list[list[int] | None] = []
    for cs, ce in spans:
        if 0 < cs < len(clean) and clean[cs - 1] != " " and clean[cs] != " ":
            ws, we = _word_bounds(clean, cs)
            cs = ws if cs - ws <= we - cs else we
        if 0 < ce < len(clean) and clean[ce - 1] != " " and clean[ce] != " ":
            ws, we = _word_bounds(clean, ce)
            ce = we if we - ce <= ce - ws else ws
        while cs < ce and clean[cs] == " ":
            cs += 1
        while ce > cs and clean[ce - 1] == " ":
            ce -= 1
        out.append([cs, ce] if ce > cs else None)
    # Two neighbours that both took the same split word: it goes to the one that held more of it.
    prev = None
    for k, (span, orig) in enumerate(zip(out, spans)):
        if span is None:
            continue
        if prev is not None and out[prev][1] > span[0]:
            a, b = out[prev], span
            ws, we = _word_bounds(clean, b[0])
            left_share = min(spans[prev][1], we) - ws
            right_share = we - max(orig[0], ws)
            if left_share >= right_share:
                b[0] = we
                while b[0] < b[1] and clean[b[0]] == " ":
                    b[0] += 1
                if b[0] >= b[1]:
                    out[k] = None
                    continue
            else:
                a[1] = ws
                while a[1] > a[0] and clean[a[1] - 1] == " ":
                    a[1] -= 1
                if a[1] <= a[0]:
                    out[prev] = None
        prev = k
    return [tuple(s) if s is not None else None for s in out]


_PARA = re.compile(r"\n[ \t\r]*\n")


def _boundary_strength(ct: CleanText, left_end: int, right_start: int, p: EdgeParams) -> float:
    """Evidence for a pause between clean[:left_end] and clean[right_start:] in the original."""
    if ct.phrase_of[left_end:right_start].min(initial=0) < 0 or ct.phrase_of[left_end - 1] != ct.phrase_of[right_start]:
        return p.w_separator
    between = ct.original[int(ct.ends[left_end - 1]):int(ct.positions[right_start])]
    if any(c in SENTENCE_END for c in between) or _PARA.search(between):
        return p.w_sentence
    if any(c in PHRASE_END for c in between):
        return p.w_phrase
    return 0.0


# Kinds of word boundary, by the evidence of a pause there (strongest first).
B_SEP, B_SENT, B_PHRASE, B_LEAN, B_NONE = range(5)


def _kind(strength: float, last_word: str, p: EdgeParams) -> int:
    if strength == p.w_separator:
        return B_SEP
    if strength == p.w_sentence:
        return B_SENT
    if strength == p.w_phrase:
        return B_PHRASE
    return B_LEAN if last_word in (LEANING_MORE if p.leaning_more else LEANING) else B_NONE


def _population(ct: CleanText, p: EdgeParams):
    """How many word boundaries of each kind the text has (vectorised over the clean text)."""
    import numpy as np

    clean = ct.clean
    n = len(clean)
    if n < 3:
        return np.zeros(5)
    codes = np.frombuffer(clean.encode("utf-32-le"), dtype="<u4")
    sp = np.flatnonzero(codes == 32)
    sp = sp[(sp > 0) & (sp < n - 1)]
    sp = sp[(codes[sp - 1] != 32) & (codes[sp + 1] != 32)]
    if not len(sp):
        return np.zeros(5)
    lo = np.asarray(ct.ends)[sp - 1].astype(np.int64)
    hi = np.asarray(ct.positions)[sp + 1].astype(np.int64)
    ocodes = np.frombuffer(ct.original.encode("utf-32-le"), dtype="<u4")

    def present(mask):
        cum = np.concatenate(([0], np.cumsum(mask)))
        return cum[np.maximum(hi, lo)] - cum[lo] > 0

    sent = present(np.isin(ocodes, [ord(c) for c in SENTENCE_END]))
    para = np.zeros(len(ocodes), dtype=bool)
    para[[m.start() for m in _PARA.finditer(ct.original)]] = True
    sent |= present(para)
    phrase = present(np.isin(ocodes, [ord(c) for c in PHRASE_END]))
    ph = np.asarray(ct.phrase_of)
    sep = (ph[sp] < 0) | (ph[sp - 1] != ph[sp + 1])
    lean_words = LEANING_MORE if p.leaning_more else LEANING
    if "  " not in clean and clean[0] != " " and clean[-1] != " ":
        toks = clean.split(" ")
        lean = np.fromiter((t in lean_words for t in toks[:-1]), dtype=bool, count=len(toks) - 1)
    else:
        lean = np.fromiter((clean[_word_start(clean, int(k)):int(k)] in lean_words for k in sp), dtype=bool, count=len(sp))
    kind = np.full(len(sp), B_NONE)
    kind[lean] = B_LEAN
    kind[phrase] = B_PHRASE
    kind[sent] = B_SENT
    kind[sep] = B_SEP
    return np.bincount(kind, minlength=5)


def pause_weights(ct: CleanText, entries, kept, p: EdgeParams) -> list[float]:
    """Evidence weight per boundary kind for "the reader paused (and the VAD cut) here".

    Defaults: separator w_separator, sentence end w_sentence, phrase mark w_phrase, after a
    leaning word -w_leaning, anywhere else 0. With p.calibrate, re-estimated on this document:
    junctions the transcripts fix on their own (two audio neighbours whose matches touch) show
    where this reader pauses; a kind's weight is the log of its cut rate (cuts / boundaries of that
    kind in the text) relative to plain boundaries, shrunk towards the default by
    `calibrate_prior` pseudo-junctions. Separators keep their default (text structure)."""
    import numpy as np

    default = [p.w_separator, p.w_sentence, p.w_phrase, -p.w_leaning, 0.0]
    if not p.calibrate:
        return default
    cuts = np.zeros(5)
    for (i, a), (j, b) in zip(kept, kept[1:]):
        if j != i + 1 or b[0] - a[1] > 1 or a[1] < 1 or entries[j].start - entries[i].end > p.max_pause_ms:
            continue
        strength = _boundary_strength(ct, a[1], b[0], p)
        cuts[_kind(strength, ct.clean[_word_start(ct.clean, a[1]):a[1]], p)] += 1
    total = cuts.sum()
    if total < 1:
        return default
    pop = _population(ct, p)
    rate = (cuts + 0.5) / (pop + 1.0)
    est = np.log(rate / rate[B_NONE])
    k = p.calibrate_prior
    out = [(total * e + k * d) / (total + k) for e, d in zip(est, default)]
    out[B_SEP] = default[B_SEP]
    return out


_SENT_MARK = re.compile(r"[.!?\u2026][\"')\]\u2019\u201d]*\s|\n[ \t\r]*\n")
_PHRASE_MARK = re.compile(r"[,;:\u2014)][\"'\u2019\u201d]*\s")


def inner_pauses(ct: CleanText, cs: int, ce: int) -> tuple[int, int]:
    """(phrase marks, sentence ends) between the words of clean[cs:ce], in the original: places
    where a reader pauses briefly inside one fragment (a pause the VAD did not cut)."""
    if ce - cs < 2:
        return 0, 0
    seg = ct.original[int(ct.positions[cs]):int(ct.ends[ce - 1])]
    return len(_PHRASE_MARK.findall(seg)), len(_SENT_MARK.findall(seg))


@dataclass(frozen=True)
class RateModel:
    """A fragment's expected duration: ms_per_char * clean characters + the short pauses at its
    inner punctuation; `spread` is the relative misfit of one fragment (robust)."""

    ms_per_char: float
    phrase_ms: float
    sentence_ms: float
    spread: float

    def expected(self, chars: int, phrases: int, sentences: int) -> float:
        return self.ms_per_char * chars + self.phrase_ms * phrases + self.sentence_ms * sentences


def speaking_rate(ct: CleanText, entries, kept) -> RateModel | None:
    """The document's speaking rate, fitted on the placed fragments: least squares of duration on
    (clean characters, inner phrase marks, inner sentence ends), twice with outliers (misplaced
    fragments) trimmed at 3 spreads; pause terms clipped at >= 0. None with under 5 fragments."""
    import numpy as np

    rows, ys = [], []
    for i, (cs, ce) in kept:
        d = entries[i].end - entries[i].start
        if ce > cs and d > 0:
            rows.append((ce - cs, *inner_pauses(ct, cs, ce)))
            ys.append(d)
    if len(rows) < 5:
        return None
    x = np.asarray(rows, dtype=float)
    y = np.asarray(ys, dtype=float)
    use = np.ones(len(y), dtype=bool)
    coef = np.zeros(3)
    spread = 0.05
    for _ in range(3):
        cols = [0] + [c for c in (1, 2) if x[use, c].sum() >= 5]
        sol, *_ = np.linalg.lstsq(x[use][:, cols], y[use], rcond=None)
        coef = np.zeros(3)
        coef[cols] = sol
        if (coef[1:] < 0).any():  # a pause cannot shorten speech: refit without it
            cols = [c for c in cols if c == 0 or coef[c] >= 0]
            sol, *_ = np.linalg.lstsq(x[use][:, cols], y[use], rcond=None)
            coef = np.zeros(3)
            coef[cols] = sol
        if coef[0] <= 0:
            return None
        pred = x @ coef
        rel = (y - pred) / pred
        med = float(np.median(rel[use]))
        spread = max(1.4826 * float(np.median(np.abs(rel[use] - med))), 0.05)
        use = np.abs(rel - med) <= 3 * spread
    return RateModel(float(coef[0]), float(coef[1]), float(coef[2]), spread)


def _neighbours(entries, i: int, j: int, placed: set, patterns, gap_chars: int, p: EdgeParams) -> bool:
    """Are fragments i < j neighbours in the audio? Consecutive with a pause of at most
    max_pause_ms, or with at most `claim_across` unplaced fragments between (junk: a cough, a
    remark) whose transcripts are clearly longer than the gap's text (else they may be its reading),
    each pause at most max_pause_ms."""
    if j - i - 1 > p.claim_across:
        return False
    for k in range(i, j):
        if entries[k + 1].start - entries[k].end > p.max_pause_ms:
            return False
    if j == i + 1:
        return True
    between = range(i + 1, j)
    if any(k in placed for k in between):
        return False
    said = sum(len(patterns[k].replace(" ", "")) for k in between) if patterns is not None else 0
    return said >= 2 * gap_chars + 8


def _misfit(z: float, dof: float) -> float:
    """Negative log-likelihood of a relative duration misfit z (in spreads): Student's t with
    `dof` degrees of freedom (heavy tails: a fragment whose text is read differently from how it
    is written, numbers, code, a breath, must not outvote the text's punctuation); 0 at z = 0."""
    if dof <= 0:
        return z * z / 2
    return (dof + 1) / 2 * math.log1p(z * z / dof)


def _whole_paragraph_inside(ct: CleanText, toks: list[tuple[int, int]]) -> bool:
    """Do the gap words (toks[1:-1], between the two utterances' edge characters) hold a whole
    paragraph, i.e. are two of the boundaries between consecutive tokens paragraph breaks?"""
    breaks = 0
    for (_, e), (s, _) in zip(toks, toks[1:]):
        if _PARA.search(ct.original[int(ct.ends[e - 1]):int(ct.positions[s])]):
            breaks += 1
            if breaks >= 2:
                return True
    return False


def _whole_phrase_inside(ct: CleanText, lo: int, hi: int) -> bool:
    """Does clean[lo:hi] (between two utterances' texts) hold a whole phrase (a line of a text
    read line by line, a `.script` entry) that neither utterance's text touches?"""
    if len(ct.phrases) < 2 or hi <= lo:
        return False
    inside = set(ct.phrase_of[lo:hi].tolist()) - {-1}
    touching = {int(ct.phrase_of[lo - 1]) if lo > 0 else -1,
                int(ct.phrase_of[hi]) if hi < len(ct.phrase_of) else -1}
    return bool(inside - touching)


def claim_gaps(ct: CleanText, entries, kept: list[tuple[int, tuple[int, int]]], p: EdgeParams,
               patterns=None) -> list[tuple[int, tuple[int, int]]]:
    """`kept` (fragment index, clean span) in order -> the same with short gaps claimed.
    `patterns`: the clean transcripts (needed to claim across unplaced fragments)."""
    out = [(i, list(span)) for i, span in kept]
    rate = speaking_rate(ct, entries, kept) if p.w_duration > 0 else None
    weights = pause_weights(ct, entries, kept, p)
    clean = ct.clean
    placed = {i for i, _ in kept}
    for k in range(len(out) - 1):
        (i, a), (j, b) = out[k], out[k + 1]
        if b[0] <= a[1] or j <= i:
            continue
        gap = clean[a[1]:b[0]]
        words = [(m.start() + a[1], m.end() + a[1]) for m in re.finditer(r"[^ ]+", gap)]
        n_chars = sum(e - s for s, e in words)
        if not words or len(words) > p.max_words or n_chars > p.max_chars:
            continue
        if not _neighbours(entries, i, j, placed, patterns if j > i + 1 else None, n_chars, p):
            continue
        if _whole_paragraph_inside(ct, [(a[1] - 1, a[1])] + words + [(b[0], b[0] + 1)]) \
                or _whole_phrase_inside(ct, a[1], b[0]):
            # a whole paragraph between the two readings ("0." / "Definitions."), or a whole
            # line of a prompt list or poem: a heading or prompt the reader skipped, not first or
            # last words the recogniser garbled
            continue
        # candidate split c: words[:c] to the left utterance, words[c:] to the right one
        toks = [(a[1] - 1, a[1])] + words + [(b[0], b[0] + 1)]
        best, best_c = None, 0
        for c in range(len(words) + 1):
            left_end = toks[c][1]
            right_start = toks[c + 1][0]
            # the evidence of a pause at the split: punctuation; or the word before the split (a
            # gap word, or the left utterance's own last word) leans on the next one ("of | the")
            last = clean[words[c - 1][0]:words[c - 1][1]] if c > 0 else clean[_word_start(clean, a[1]):a[1]]
            score = weights[_kind(_boundary_strength(ct, left_end, right_start, p), last, p)]
            if rate is not None:
                # each fragment's duration against the one the document's speaking rate expects
                # for the text it would then hold (Gaussian log-likelihood in relative misfit)
                ea = rate.expected(left_end - a[0], *inner_pauses(ct, a[0], left_end))
                eb = rate.expected(b[1] - right_start, *inner_pauses(ct, right_start, b[1]))
                za = ((entries[i].end - entries[i].start) - ea) / (rate.spread * ea)
                zb = ((entries[j].end - entries[j].start) - eb) / (rate.spread * eb)
                score -= p.w_duration * (_misfit(za, p.duration_dof) + _misfit(zb, p.duration_dof))
            if best is None or score > best + 1e-9:
                best, best_c = score, c
        if best_c > 0:
            a[1] = words[best_c - 1][1]
        if best_c < len(words):
            b[0] = words[best_c][0]
    return [(i, (s, e)) for i, (s, e) in out]


def fill_between(clean: str, entries, patterns, kept: list[tuple[int, tuple[int, int]]], p: EdgeParams):
    """Place a fragment the search left out when both its audio neighbours are placed and the few
    words between their matches are what it says: a short, noisy transcript ("unto hr") is too
    weak for a search over the whole text, but its place is fixed by its neighbours. The span is
    the run of the gap's words that fits the transcript best (Levenshtein similarity, spaces
    left out), accepted at `fill_min_sim`; the transcript must be about as long as the gap (a junk
    fragment between two contiguous readings is longer than the edge words lost there).
    Returns (kept with the placed fragments, {fragment: similarity})."""
    from rapidfuzz.distance import Levenshtein

    out = list(kept)
    added: dict[int, float] = {}
    for (i, a), (j, b) in zip(kept, kept[1:]):
        k = i + 1
        if j != i + 2 or not patterns[k] or b[0] <= a[1]:
            continue
        if entries[k].start - entries[i].end > p.max_pause_ms or entries[j].start - entries[k].end > p.max_pause_ms:
            continue
        words = [(m.start() + a[1], m.end() + a[1]) for m in re.finditer(r"[^ ]+", clean[a[1]:b[0]])]
        if not words or len(words) > p.fill_max_words:
            continue
        pat = patterns[k].replace(" ", "")
        gap_chars = sum(e - s for s, e in words)
        if not 0.5 * gap_chars <= len(pat) <= 1.5 * gap_chars + 4:
            continue
        best, span = 0.0, None
        for x in range(len(words)):
            for y in range(x, len(words)):
                sim = Levenshtein.normalized_similarity(pat, clean[words[x][0]:words[y][1]].replace(" ", ""))
                if sim > best + 1e-9:
                    best, span = sim, (words[x][0], words[y][1])
        if span is not None and best >= p.fill_min_sim:
            out.append((k, span))
            added[k] = best
    out.sort()
    return out, added


def _word_start(clean: str, k: int) -> int:
    while k > 0 and clean[k - 1] != " ":
        k -= 1
    return k


def _word_end(clean: str, k: int) -> int:
    while k < len(clean) and clean[k - 1:k] != " " and k > 0 and clean[k] != " ":
        k += 1
    return k


def _piece_long_enough(piece: str, cut: tuple[int, int], p: EdgeParams) -> bool:
    return (cut[1] - cut[0]) <= p.bridge_stretch_per_letter * len(piece.replace(" ", ""))


def bridge(clean: str, text_codes, patterns: Sequence[str], kept: list[tuple[int, tuple[int, int]]],
           p: EdgeParams, match: int, mismatch: int, gap: int):
    """(kept with spans widened across unread stretches, {fragment: [(clean start, end) left out]})."""
    from .sw import encode, sw_kernel

    out = [(i, list(span)) for i, span in kept]
    cuts: dict[int, list[tuple[int, int]]] = {}
    for k, (i, span) in enumerate(out):
        pat = patterns[i]
        cs, ce = span
        a = encode(pat)
        raw, a0, a1, b0, b1 = sw_kernel(a, text_codes, cs, ce, match, mismatch, gap)
        if raw <= 0:
            continue
        core = len(pat[a0:a1].replace(" ", ""))
        if core < max(p.bridge_min_chars, p.bridge_min_core * len(pat.replace(" ", ""))):
            continue
        tail = pat[a1:].strip()
        if len(tail.replace(" ", "")) >= p.bridge_min_chars:
            hi = out[k + 1][1][0] if k + 1 < len(out) else len(clean)
            hi = min(hi, ce + p.bridge_max_chars + 2 * len(tail))
            t = encode(tail)
            r2, ta0, ta1, tb0, tb1 = sw_kernel(t, text_codes, ce, hi, match, mismatch, gap)
            if r2 >= p.bridge_min_score * match * len(tail) and ta0 <= 2:
                s0 = _word_start(clean, tb0)
                # the stretch starts where the transcript's matched part ends (gap alignment may
                # have stretched the span into the unread text)
                cut = (_word_end(clean, b1), s0)
                while cut[0] < cut[1] and clean[cut[0]] == " ":
                    cut = (cut[0] + 1, cut[1])
                while cut[1] > cut[0] and clean[cut[1] - 1] == " ":
                    cut = (cut[0], cut[1] - 1)
                if cut[1] > cut[0] and s0 >= cut[0] and _piece_long_enough(tail, cut, p):
                    cuts.setdefault(i, []).append(cut)
                    span[1] = _word_end(clean, tb1)
        head = pat[:a0].strip()
        if len(head.replace(" ", "")) >= p.bridge_min_chars:
            lo = out[k - 1][1][1] if k > 0 else 0
            lo = max(lo, cs - p.bridge_max_chars - 2 * len(head))
            h = encode(head)
            r2, ha0, ha1, hb0, hb1 = sw_kernel(h, text_codes, lo, cs, match, mismatch, gap)
            if r2 >= p.bridge_min_score * match * len(head) and ha1 >= len(head) - 2:
                e0 = _word_end(clean, hb1)
                cut = (e0, _word_start(clean, b0))
                while cut[0] < cut[1] and clean[cut[0]] == " ":
                    cut = (cut[0] + 1, cut[1])
                while cut[1] > cut[0] and clean[cut[1] - 1] == " ":
                    cut = (cut[0], cut[1] - 1)
                if cut[1] > cut[0] and e0 <= cut[1] and _piece_long_enough(head, cut, p):
                    cuts.setdefault(i, []).insert(0, cut)
                    span[0] = _word_start(clean, hb0)
    return [(i, (s, e)) for i, (s, e) in out], cuts
