"""The verbatim check on planted near-copy texts: the reading is known word by word, the text
given shares some passages verbatim, paraphrases others (whole words replaced) and has unrelated
words elsewhere. Verbatim passages must be accepted with their words, paraphrased ones not."""

import importlib.util
import random
import sys
from pathlib import Path

from align.text.alphabet import Alphabet
from align.text.engine import REASON_NOT_VERBATIM, AlignParams, align_transcripts
from align.text.normalise import Phrase, normalise
from align.text.verbatim import VerbatimParams, checked_fragments, inner_unmatched
from align.tlog import TranscriptEntry

ROOT = Path(__file__).resolve().parents[2]

EN = Alphabet.from_labels(" abcdefghijklmnopqrstuvwxyz'")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def vocabulary(rng: random.Random, n: int = 400) -> list[str]:
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 9))))
    return sorted(words)


def stt(words: list[str], rng: random.Random, rate: float = 0.05) -> str:
    """Character substitutions and deletions, like a speech-to-text's letter errors."""
    out = []
    for w in words:
        cs = [c if rng.random() >= rate else ("" if rng.random() < 0.5 else rng.choice(LETTERS)) for c in w]
        out.append("".join(cs) or w)
    return " ".join(out)


def _bench_judge():
    """The bench's own judgement (bench/text_align.py), so the test and the README figures agree."""
    spec = importlib.util.spec_from_file_location("text_align_bench", ROOT / "bench" / "text_align.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod.verbatim_label


verbatim_label = _bench_judge()


def make(kinds: list[str], seed: int, frag_words: int = 12):
    """One fragment per entry of `kinds`: 'v' (the text has the spoken words), 'p' (the text has
    them with one inner word replaced by another: a close paraphrase, as between two versions of
    a licence), 'u' (the text has other words)."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    spoken, text, entries, t = [], [], [], 0
    for k in kinds:
        ws = [rng.choice(vocab) for _ in range(frag_words)]
        spoken.append(ws)
        if k == "v":
            text += ws
        elif k == "p":
            tw = list(ws)
            for j in rng.sample(range(2, frag_words - 2), 1):
                tw[j] = rng.choice([w for w in vocab if w[0] != ws[j][0] and len(w) >= 4])
            text += tw
        else:
            text += [rng.choice(vocab) for _ in range(frag_words)]
        tr = stt(ws, rng)
        entries.append(TranscriptEntry(t, t + 60 * len(tr), tr))
        t += 60 * len(tr) + 400
    book = ". ".join(" ".join(text[i:i + 12]) for i in range(0, len(text), 12)) + "."
    ct = normalise(book, [Phrase(0, len(book))], EN)
    return ct, entries, [" ".join(ws) for ws in spoken]


def judge(kinds, ct, entries, spoken, params=AlignParams()):
    r = align_transcripts(entries, ct, EN, params)
    got = {u.fragment: u for u in r.utterances}
    wrong = [i for i, u in got.items() if not verbatim_label(u.aligned, spoken[i])]
    verbatim_kept = sum(1 for i, k in enumerate(kinds) if k == "v" and i in got and i not in wrong)
    return r, got, wrong, verbatim_kept


def test_near_copy_text_keeps_verbatim_passages_and_rejects_paraphrases():
    # a text mostly unlike the reading (under half of it placed): runs of verbatim and of
    # paraphrased passages among others
    kinds = list("uuuvvvuuuuppp" * 10)
    ct, entries, spoken = make(kinds, seed=1)
    r, got, wrong, verbatim_kept = judge(kinds, ct, entries, spoken)
    n_v, n_p = kinds.count("v"), kinds.count("p")
    assert wrong == []                                         # only verbatim labels
    assert not any(kinds[i] == "p" for i in got)               # no paraphrase accepted
    assert verbatim_kept >= 0.9 * n_v                           # the verbatim passages kept
    assert r.dropped[REASON_NOT_VERBATIM] >= 0.8 * n_p          # the paraphrases were placed, then refused
    # without the check the same paraphrases pass (what the check is for)
    _, got_off, wrong_off, _ = judge(kinds, ct, entries, spoken, AlignParams(verbatim=VerbatimParams(enabled=False)))
    assert sum(1 for i in got_off if kinds[i] == "p") >= 0.8 * n_p and len(wrong_off) >= 0.8 * n_p


def test_paraphrase_island_in_a_related_text_is_rejected_by_its_neighbourhood():
    # a text that is the reading except one stretch of other words holding a paraphrased pair
    kinds = list("v" * 60 + "uuuuppuuuu" + "v" * 60)
    ct, entries, spoken = make(kinds, seed=2)
    r, got, wrong, verbatim_kept = judge(kinds, ct, entries, spoken)
    assert wrong == []
    assert verbatim_kept >= 0.97 * kinds.count("v")
    assert 64 not in got and 65 not in got


def test_related_text_is_left_alone():
    # every passage read as written: the check never applies (the placed share is high everywhere)
    kinds = list("v" * 80)
    ct, entries, spoken = make(kinds, seed=3)
    r, got, wrong, verbatim_kept = judge(kinds, ct, entries, spoken)
    assert REASON_NOT_VERBATIM not in r.dropped
    assert verbatim_kept >= 78


def test_word_check_tolerates_letter_errors_and_edges_but_not_replaced_words():
    p = VerbatimParams()
    # letter errors, a split and a merged word: every word still said
    assert inner_unmatched("the qick brown fox jumps ovr the lazydog", "the quick brown fox jumps over the lazy dog", p) == []
    assert inner_unmatched("the quick br own fox", "the quick brown fox", p) == []
    # a different first or last word is an edge word (free)
    assert inner_unmatched("a quick brown fox jumps", "the quick brown fox leaps", p) == []
    # a replaced inner word, in the label or a word the label lacks
    assert inner_unmatched("the quick brown fox jumps", "the quick yellow fox jumps", p) == ["yellow", "brown"]
    assert inner_unmatched("the quick fox jumps", "the quick brown fox jumps", p) == ["brown"]
    assert inner_unmatched("the quick brown fox jumps", "the quick fox jumps", p) == ["brown"]


def test_which_fragments_are_checked():
    p = VerbatimParams()
    # most of the document placed: only fragments among unplaced neighbours
    placed = [True] * 10 + [False, False, False, True, False, False, False] + [True] * 10
    checked = checked_fragments(placed, [True] * len(placed), p)
    assert checked[13] and not checked[0] and not checked[26]
    # under half placed: every fragment; empty transcripts count neither way
    placed = [True, False, False, True, False, False]
    assert all(checked_fragments(placed, [True] * 6, p))
    assert not any(checked_fragments([True, False, True, True], [True, False, True, True], p))
    assert not any(checked_fragments(placed, [True] * 6, VerbatimParams(enabled=False)))
