"""From transcript log + original text to aligned utterances: rough alignment, gap alignment,
metrics and filters. Strings and records in, records out; no files, no audio."""

from __future__ import annotations

import bisect
import json
import re
import logging
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from ..records import Utterance
from ..tlog import TranscriptEntry
from .alphabet import Alphabet
from .edges import EdgeParams, bridge, claim_gaps, fill_between, snap_to_words
from .gap import GapParams, gap_align, strip_span
from .metrics import FilterParams, evaluate
from .normalise import CleanText, Phrase, TextParams, normalise
from .rough import RoughParams, drop_isolated, rough_align
from .search import Match, TrigramIndex
from .verbatim import VerbatimParams, checked_fragments, inner_unmatched

log = logging.getLogger(__name__)

REASON_EMPTY = "empty transcript"
REASON_NO_MATCH = "no match"
REASON_EMPTY_MATCH = "empty match"
REASON_ISOLATED = "isolated match"
REASON_MID_WORD = "mid-word match"
# placed, but where the text is at best a near copy its words are not the transcript's (verbatim.py)
REASON_NOT_VERBATIM = "not verbatim"
# Reasons of fragments the aligner could not place (the others were placed, then filtered).
UNPLACED_REASONS = frozenset({REASON_EMPTY, REASON_NO_MATCH, REASON_EMPTY_MATCH, REASON_ISOLATED, REASON_MID_WORD})


# Characters that end a sentence in the original text (merging never crosses them).
SENTENCE_END = frozenset(".!?\u2026\u3002\uff01\uff1f")
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n")


@dataclass(frozen=True)
class MergeParams:
    """Joining consecutive utterances into sentences (--merge-sentences)."""

    enabled: bool = False
    max_pause_ms: float = 2000.0       # --merge-max-pause: never join across a longer pause
    max_duration_ms: float = 30000.0   # --merge-max-duration / --max-utterance-duration
    # True: join whole sentences first, then cut one longer than max_duration_ms at its longest
    # inner pause (recursively); False: stop joining when the next fragment would exceed it.
    split_longest_pause: bool = False


@dataclass(frozen=True)
class AlignParams:
    text: TextParams = TextParams()
    rough: RoughParams = RoughParams()
    gap: GapParams = GapParams()
    filters: FilterParams = FilterParams()
    merge: MergeParams = MergeParams()
    edges: EdgeParams = EdgeParams()
    verbatim: VerbatimParams = VerbatimParams()
    text_context: int = 10             # --text-context: clean characters shown around a match in DEBUG logs


@dataclass
class AlignmentResult:
    utterances: list[Utterance]
    fragments: int                     # fragments considered (after --start/--num-samples)
    dropped: Counter                   # reason -> count
    timings: dict[str, float]
    # (tlog fragment index, reason) of every fragment not kept, in fragment order
    dropped_fragments: list[tuple[int, str]] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        n = max(self.fragments, 1)
        kept = len(self.utterances)
        lines = [f"fragments: {self.fragments}, kept: {kept} ({100.0 * kept / n:.2f}%), "
                 f"dropped: {sum(self.dropped.values())} ({100.0 * sum(self.dropped.values()) / n:.2f}%)"]
        for reason, c in sorted(self.dropped.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  dropped, {reason}: {c} ({100.0 * c / n:.2f}%)")
        return lines


def clean_transcript(transcript: str, alphabet: Alphabet, params: TextParams) -> str:
    """Transcripts from other tools may carry case and punctuation: clean them like the text."""
    # Most speech-to-text output is clean already (alphabet letters, single spaces): skip the work.
    if transcript and transcript[0] != " " and transcript[-1] != " " and "  " not in transcript \
            and alphabet.labels.issuperset(transcript) and (params.keep_casing or transcript.islower()) \
            and "'" not in transcript:
        return transcript
    return normalise(transcript, [Phrase(0, len(transcript))], alphabet, params, document=False).clean


# Hesitation sounds a speech-to-text engine may write out. A book holds them rarely; where the
# document does ("Um, said he"), they are kept.
HESITATIONS = ("um", "umm", "uhm", "erm", "hmm", "mhm")


def drop_hesitations(patterns: Sequence[str], clean: str) -> list[str]:
    """The cleaned transcripts without the hesitation words the document's clean text never
    holds: matched against the text, an "um" at a fragment's end lands on a short word there
    ("the area um" -> "the area of") and claims it from the next fragment."""
    absent = {h for h in HESITATIONS if re.search(rf"(?<!\S){h}(?!\S)", clean) is None}
    if not absent:
        return list(patterns)
    out = []
    for p in patterns:
        words = p.split(" ")
        if any(w in absent for w in words):
            p = " ".join(w for w in words if w not in absent)
        out.append(p)
    return out


def _opening(ch: str) -> bool:
    return unicodedata.category(ch) in ("Ps", "Pi") or ch in "\"¿¡"


def original_spans(ct: CleanText, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Original-text spans of ordered clean spans, widened over adjacent punctuation.

    The end takes the punctuation that follows up to the next whitespace ("word." "word,\""),
    the start an opening bracket or quote right before it; neighbours never overlap: where both
    reach for the same characters the earlier utterance ends where the later one starts.
    """
    text = ct.original
    n = len(text)
    out = []
    for cs, ce in spans:
        s, e = ct.original_span(cs, ce)
        while e < n and not text[e].isspace() and not text[e].isalnum():
            e += 1
        while s > 0 and _opening(text[s - 1]):
            s -= 1
        out.append([s, e])
    for a, b in zip(out, out[1:]):
        if a[1] > b[0]:
            a[1] = b[0]
    return [(s, e) for s, e in out]


def spoken_words(ct: CleanText, u: Utterance) -> list[tuple[str, int, int]]:
    """The words of an utterance's label `aligned`, each with the original range it says:
    (word, text start, text end) — "two" points at the "2". Words inside the utterance's skipped
    ranges (unread text the utterance spans) are left out, as the label leaves them out. For
    word timings; needs the CleanText the utterance was aligned on (clean_start/clean_end)."""
    skipped = u.extra.get("skipped", ())
    return [w for w in ct.words(u.clean_start, u.clean_end)
            if not any(s <= w[1] and w[2] <= e for s, e in skipped)]


def _without(clean: str, cs: int, ce: int, cuts) -> str:
    if not cuts:
        return clean[cs:ce]
    parts, k = [], cs
    for a, b in sorted(cuts):
        parts.append(clean[k:a].strip())
        k = b
    parts.append(clean[k:ce].strip())
    return " ".join(x for x in parts if x)


def _widen(text: str, s: int, e: int) -> tuple[int, int]:
    """A bridged stretch with the marks and punctuation around it on its line ("* Note.")."""
    while s > 0 and text[s - 1] != "\n" and not text[s - 1].isalnum():
        s -= 1
    while e < len(text) and text[e] != "\n" and not text[e].isalnum():
        e += 1
    return s, e


def _union(ranges) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _meta(ct: CleanText, cs: int, ce: int, entries: Sequence[TranscriptEntry]) -> dict[str, list[Any]]:
    """key -> distinct values (first-seen order) from the tlog entries, then the phrases touched."""
    meta: dict[str, list[Any]] = {}
    seen: dict[str, set[str]] = {}

    def add(k: str, v: Any) -> None:
        key = json.dumps(v, sort_keys=True, ensure_ascii=False)
        if key not in seen.setdefault(k, set()):
            seen[k].add(key)
            meta.setdefault(k, []).append(v)

    for entry in entries:
        for k, v in entry.meta.items():
            add(k, v)
    for pi in ct.phrases_in(cs, ce):
        for k, v in ct.phrases[pi].meta.items():
            add(k, v)
    return meta


def ends_sentence(between: str) -> bool:
    """Original text between two words that ends a sentence: a sentence mark, or a blank line
    (a paragraph ends a sentence even without punctuation: headings, transcriptions)."""
    return any(c in SENTENCE_END for c in between) or bool(_PARAGRAPH.search(between))


def sentence_ends(ct) -> frozenset:
    """Clean-text offsets of word ends followed, in the original, by a sentence-ending mark."""
    out = set()
    clean = ct.clean
    n = len(clean)
    i = 0
    while i < n:
        j = clean.find(" ", i)
        j = n if j < 0 else j
        k = j
        while k < n and clean[k] == " ":
            k += 1
        if j > i and k < n:
            between = ct.original[int(ct.ends[j - 1]):int(ct.positions[k])]
            if ends_sentence(between):
                out.add(j)
        i = k if k > j else j + 1
    return frozenset(out)


def merge_groups(ct: CleanText, entries: Sequence[TranscriptEntry], kept, params: MergeParams):
    """Group consecutive placed fragments into sentences.

    Two neighbours join when the text between their matches is only whitespace and punctuation
    that does not end a sentence, both lie in the same phrase of the original, the pause between
    them is at most max_pause_ms and the joined utterance lasts at most max_duration_ms.
    """
    groups: list[list] = []
    ends = sorted(sentence_ends(ct)) if params.split_longest_pause else []

    def crosses(a: int, b: int) -> bool:   # a sentence end strictly inside clean[a:b]
        return bisect.bisect_right(ends, a) < bisect.bisect_left(ends, b)

    for item in kept:
        i, (cs, ce) = item
        if groups:
            g = groups[-1]
            pi, (ps, pe) = g[-1]
            between = ct.original[int(ct.ends[pe - 1]):int(ct.positions[cs])]
            joins = (
                ct.clean[pe:cs].strip() == ""
                and not ends_sentence(between)
                # a fragment whose own text crosses a sentence end (an edge word of the next or
                # previous sentence) is not joined on: the utterance would hold two sentences
                and not crosses(ps, pe) and not crosses(cs, ce)
                and (ct.phrase_of[pe - 1] == ct.phrase_of[cs] >= 0)
                and entries[i].start - entries[pi].end <= params.max_pause_ms
                and (params.split_longest_pause
                     or entries[i].end - entries[g[0][0]].start <= params.max_duration_ms)
            )
            if joins:
                g.append(item)
                continue
        groups.append([item])
    if params.split_longest_pause:
        groups = [part for g in groups for part in split_at_pauses(g, entries, params.max_duration_ms)]
    return groups


def split_at_pauses(group: list, entries: Sequence[TranscriptEntry], max_ms: float) -> list[list]:
    """Cut a group lasting over `max_ms` at its longest pause between fragments (the earliest of
    equal pauses), and the parts again, until every part fits or is a single fragment."""
    if len(group) < 2 or entries[group[-1][0]].end - entries[group[0][0]].start <= max_ms:
        return [group]
    pauses = [entries[b[0]].start - entries[a[0]].end for a, b in zip(group, group[1:])]
    k = max(range(len(pauses)), key=lambda j: (pauses[j], -j)) + 1
    return split_at_pauses(group[:k], entries, max_ms) + split_at_pauses(group[k:], entries, max_ms)


def align_transcripts(
    entries: Sequence[TranscriptEntry],
    ct: CleanText,
    alphabet: Alphabet,
    params: AlignParams = AlignParams(),
    index: Optional[TrigramIndex] = None,
    on_search=None,
) -> AlignmentResult:
    """Align transcript entries (in audio order) with the clean text of the original."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    patterns = drop_hesitations([clean_transcript(e.transcript, alphabet, params.text) for e in entries], ct.clean)
    if index is None:
        index = TrigramIndex(ct.clean)
    timings["index"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    placed = rough_align(patterns, index, params.rough, on_search=on_search)
    matches, _ = drop_isolated(placed, patterns, params.rough)
    timings["rough"] = time.perf_counter() - t0

    dropped: Counter = Counter()
    drops: list[tuple[int, str]] = []

    def drop(i: int, reason: str) -> None:
        dropped[reason] += 1
        drops.append((i, reason))

    found = []
    for i, (p, m) in enumerate(zip(patterns, matches)):
        if not p:
            drop(i, REASON_EMPTY)
        elif placed[i] is None:
            drop(i, REASON_NO_MATCH)
        elif m is None:
            drop(i, REASON_ISOLATED)
        else:
            found.append(i)

    t0 = time.perf_counter()
    spans = gap_align(
        ct.clean, ct.phrase_of, [(matches[i].start, matches[i].end) for i in found], [patterns[i] for i in found], params.gap
    )
    timings["gap"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    kept: list[tuple[int, tuple[int, int]]] = []
    stripped = [strip_span(ct.clean, *span) for span in spans]
    mid_word = set()
    if params.edges.snap_words:
        from rapidfuzz.distance import Levenshtein

        ok = [k for k, s in enumerate(stripped) if s is not None]
        for k, s in zip(ok, snap_to_words(ct.clean, [stripped[k] for k in ok])):
            if s != stripped[k]:
                # The match began or ended inside a word: what the whole words say must still fit
                # ("lies" inside "applies" does not).
                p = patterns[found[k]].replace(" ", "")
                a = "" if s is None else ct.clean[s[0]:s[1]].replace(" ", "")
                if s is None or Levenshtein.normalized_similarity(p, a) < params.rough.min_score_for(p):
                    mid_word.add(k)
                    s = None
            stripped[k] = s
    for k, (i, s) in enumerate(zip(found, stripped)):
        if k in mid_word:
            drop(i, REASON_MID_WORD)
        elif s is None:
            drop(i, REASON_EMPTY_MATCH)
        else:
            kept.append((i, s))
    cuts: dict[int, list[tuple[int, int]]] = {}
    if params.edges.bridge:
        sw = params.rough.search.sw
        kept, cuts = bridge(ct.clean, index.text, patterns, kept, params.edges, sw.match, sw.mismatch, sw.gap)
    if params.edges.fill:
        kept, filled = fill_between(ct.clean, entries, patterns, kept, params.edges)
        if filled:
            # placed after all: no longer dropped; its score is the similarity found
            for i, sim in filled.items():
                matches[i] = Match(*kept[[j for j, _ in kept].index(i)][1], score=sim)
            gone = [(i, r) for i, r in drops if i in filled]
            for i, r in gone:
                drops.remove((i, r))
                dropped[r] -= 1
                if not dropped[r]:
                    del dropped[r]
    if params.edges.claim_gaps:
        kept = claim_gaps(ct, entries, kept, params.edges, patterns)
    if params.verbatim.enabled and kept:
        check = checked_fragments([m is not None for m in matches], [bool(p) for p in patterns], params.verbatim)
        verbatim = []
        for i, (s, e) in kept:
            if check[i] and inner_unmatched(patterns[i], _without(ct.clean, s, e, cuts.get(i, ())), params.verbatim):
                drop(i, REASON_NOT_VERBATIM)
            else:
                verbatim.append((i, (s, e)))
        kept = verbatim
    groups = merge_groups(ct, entries, kept, params.merge) if params.merge.enabled else [[k] for k in kept]
    spans = [(g[0][1][0], g[-1][1][1]) for g in groups]
    orig = original_spans(ct, spans)
    utterances = []
    ctx = params.text_context
    for group, (cs, ce), (os_, oe) in zip(groups, spans, orig):
        ids = [i for i, _ in group]
        i = ids[0]
        entry = entries[i]
        group_cuts = [c for j in ids for c in cuts.get(j, ()) if cs <= c[0] and c[1] <= ce]
        # the label leaves bridged (unread) stretches out
        aligned = _without(ct.clean, cs, ce, group_cuts)
        pattern = " ".join(patterns[j] for j in ids)
        # the merged Smith-Waterman score: the parts' scores weighted by their lengths
        sws = sum(matches[j].score * len(patterns[j]) for j in ids) / max(sum(len(patterns[j]) for j in ids), 1)
        metrics, reason = evaluate(pattern, aligned, sws, params.filters)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "fragment %s: %r -> %s[%s]%s sws=%.3f %s", ",".join(map(str, ids)), pattern,
                ct.clean[max(0, cs - ctx):cs], aligned, ct.clean[ce:ce + ctx], sws, reason or "kept",
            )
        if reason is not None:
            for j in ids:
                drop(j, reason)
            continue
        meta = _meta(ct, cs, ce, [entries[j] for j in ids])
        skipped = _union(ct.skipped(os_, oe) + [_widen(ct.original, *ct.original_span(a, b)) for a, b in group_cuts])
        utterances.append(Utterance(
            start=entry.start, end=entries[ids[-1]].end, transcript=" ".join(entries[j].transcript for j in ids),
            text_start=os_, text_end=oe, meta=meta, aligned_raw=ct.original[os_:oe], aligned=aligned,
            clean_start=cs, clean_end=ce, sws=sws, metrics=metrics, fragment=i,
            # original ranges inside the utterance that nobody reads (page furniture, footnote marks)
            extra={"skipped": [list(r) for r in skipped]} if skipped else {},
        ))
    timings["metrics"] = time.perf_counter() - t0
    drops.sort()
    return AlignmentResult(utterances, len(entries), dropped, timings, drops)
