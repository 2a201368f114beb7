"""Selection: filter/criteria, partitions, de-biasing and the train/dev/test split invariants."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from align.common.errors import UsageError, UserError
from align.export.records import Utterance
from align.export.select import OTHER, Partition, SelectConfig, meta_values, sample_size, select


def utt(i: int, cer: float = 0.0, speakers=(), **meta) -> Utterance:
    m = dict(meta)
    if speakers:
        m["speaker"] = list(speakers)
    return Utterance(start=i * 1000.0, end=i * 1000.0 + 500, transcript="a b", text_start=0, text_end=3,
                     meta=m, aligned_raw="A b", aligned="a b", metrics={"cer": cer})


def test_sample_size_rule():
    assert sample_size(0) == 0 and sample_size(1) == 0
    prev = 0
    for p in list(range(1, 400)) + [1000, 5000, 20000, 100000]:
        s = sample_size(p)
        assert s >= prev and 2 * s <= p
        prev = s
        if p < 400:
            # the largest train size t whose own sample size s(t) fits twice beside it gives s
            fits = [t for t in range(1, p + 1) if 2 * int(16641 / (1 + 16641 / t)) + t <= p]
            assert s == (int(16641 / (1 + 16641 / max(fits))) if fits else 0)
    # large partitions approach the infinite-population size z²p(1-p)/e² = 16641
    assert 15000 < sample_size(1_000_000) < 16641
    assert sample_size(100) == 33      # by hand: t = 34 gives int(16641 / (1 + 16641/34)) = 33


def test_filter_criteria_and_partitions():
    utts = [utt(i, cer=i / 10) for i in range(10)]
    cfg = SelectConfig(filter="cer > 0.75", criteria="1 - cer",
                       partitions=(Partition.parse("0.5:ok"), Partition.parse("0.85:good")))
    sel = select([("d", utts)], cfg)
    assert sel.dropped["filter"] == 2
    names = {n: [s.index for s in v] for n, v in sel.lists.items()}
    assert names == {"good": [0, 1], "ok": [2, 3, 4, 5], OTHER: [6, 7]}


def test_filter_sees_quality_and_unknown_metric_is_named():
    sel = select([("d", [utt(0, 0.1), utt(1, 0.5)])], SelectConfig(criteria="1 - cer", filter="quality < 0.6"))
    assert [s.index for s in sel.lists["all"]] == [0]
    with pytest.raises(UserError, match=r"d.aligned: utterance 0 has no field 'wer'.*--output-wer"):
        select([("d", [utt(0)])], SelectConfig(filter="wer > 1"), where=["d.aligned"])


def test_partition_spec_errors():
    for bad in ("good", "x:good", "0.5:", "0.5:other"):
        with pytest.raises(UsageError, match="--partition"):
            Partition.parse(bad)


def test_debias_caps_the_big_group_keeping_best_quality():
    utts = [utt(i, cer=(i % 7) / 100, speakers=("big",)) for i in range(40)]
    utts += [utt(100 + k * 10 + j, speakers=(f"s{k}",)) for k in range(9) for j in range(2)]
    utts += [utt(500 + j) for j in range(50)]            # no speaker: never de-biased
    sel = select([("d", utts)], SelectConfig(criteria="1 - cer", debias=("speaker",), debias_sigma_factor=1.0))
    sizes = [40] + [2] * 9
    cap = int(statistics.fmean(sizes) + 1.0 * statistics.pstdev(sizes))
    kept = Counter((meta_values(s.utt, "speaker") or ["?"])[0] for s in sel.lists["all"])
    assert kept["big"] == cap and kept["?"] == 50 and all(kept[f"s{k}"] == 2 for k in range(9))
    worst_kept = max(s.utt.metrics["cer"] for s in sel.lists["all"] if s.utt.meta.get("speaker") == ["big"])
    worst_dropped = sorted(u.metrics["cer"] for u in utts[:40])[cap:]
    assert all(worst_kept <= w for w in worst_dropped)
    assert sel.dropped["debias speaker"] == 40 - cap


def test_split_without_field_sizes_and_seed():
    utts = [utt(i) for i in range(500)]
    a = select([("d", utts)], SelectConfig(split=True, split_seed=1))
    b = select([("d", utts)], SelectConfig(split=True, split_seed=1))
    c = select([("d", utts)], SelectConfig(split=True, split_seed=2))
    n = sample_size(500)
    assert len(a.lists["dev"]) == len(a.lists["test"]) == n
    assert len(a.lists["train"]) == 500 - 2 * n
    ids = lambda sel: {k: [s.index for s in v] for k, v in sel.lists.items()}  # noqa: E731
    assert ids(a) == ids(b) and ids(a) != ids(c)


def test_other_is_not_split():
    utts = [utt(i, cer=0.5 if i % 2 else 0.0) for i in range(200)]
    sel = select([("d", utts)], SelectConfig(criteria="1 - cer", partitions=(Partition(0.9, "good"),), split=True))
    assert set(sel.lists) == {"good-train", "good-dev", "good-test", OTHER}
    assert len(sel.lists[OTHER]) == 100


def test_assignments_and_conflicts():
    utts = [utt(i, speakers=(f"s{i % 10}",)) for i in range(300)]
    sel = select([("d", utts)], SelectConfig(split=True, split_field="speaker", assign_test=("s3",), assign_train=("s0",)))
    where = {meta_values(s.utt, "speaker")[0]: name for name, v in sel.lists.items() for s in v}
    assert where["s3"] == "test" and where["s0"] == "train"
    with pytest.raises(UsageError, match="both name 's1'"):
        SelectConfig(split=True, split_field="speaker", assign_dev=("s1",), assign_test=("s1",)).validate()
    # two values joined by a shared utterance cannot go to two sets
    joined = utts + [utt(999, speakers=("s1", "s2"))]
    with pytest.raises(UserError, match="shares utterances"):
        select([("d", joined)], SelectConfig(split=True, split_field="speaker", assign_dev=("s1",), assign_test=("s2",)))


def test_drop_multiple_and_unknown():
    utts = [utt(0, speakers=("a",)), utt(1, speakers=("a", "b")), utt(2)]
    sel = select([("d", utts)], SelectConfig(split=True, split_field="speaker", split_drop_multiple=True,
                                             split_drop_unknown=True))
    assert sum(len(v) for v in sel.lists.values()) == 1
    assert sel.dropped == Counter({"several speaker values": 1, "no speaker value": 1})


@st.composite
def corpora(draw):
    n_spk = draw(st.integers(1, 30))
    n = draw(st.integers(0, 400))
    utts = []
    for i in range(n):
        k = draw(st.integers(0, 3)) if draw(st.integers(0, 9)) == 0 else 1
        spk = tuple(sorted({f"s{draw(st.integers(0, n_spk - 1))}" for _ in range(k)}))
        utts.append(utt(i, cer=draw(st.sampled_from([0.0, 0.05, 0.2, 0.5])), speakers=spk))
    return utts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(corpora(), st.booleans(), st.booleans(), st.lists(st.integers(0, 29), max_size=3), st.integers(0, 3))
def test_split_invariants(utts, partitioned, drop_multiple, test_ids, seed):
    parts = (Partition(0.9, "good"), Partition(0.7, "fair")) if partitioned else ()
    assign = tuple(f"s{k}" for k in test_ids)
    cfg = SelectConfig(criteria="1 - cer", partitions=parts, split=True, split_field="speaker",
                       split_seed=seed, split_drop_multiple=drop_multiple, assign_test=assign)
    try:
        sel = select([("d", utts)], cfg)
    except UserError as e:       # an assigned value tied to... only one set is assigned: never
        raise AssertionError(e)
    # every utterance lands in exactly one list or is counted as dropped
    listed = [s.index for v in sel.lists.values() for s in v]
    assert len(listed) == len(set(listed))
    assert len(listed) + sum(sel.dropped.values()) == len(utts)
    # atomicity: each speaker value (and <UNKNOWN>) is in at most one of train/dev/test
    sets_of = defaultdict(set)
    for name, v in sel.lists.items():
        if name == OTHER:
            continue
        st_name = name.rsplit("-", 1)[-1]
        assert st_name in ("train", "dev", "test")
        for s in v:
            for value in meta_values(s.utt, "speaker") or ["<UNKNOWN>"]:
                sets_of[value].add(st_name)
    assert all(len(v) == 1 for v in sets_of.values()), sets_of
    for value in assign:
        assert sets_of.get(value, {"test"}) == {"test"}
    # dev and test reach the sample size of their partition unless entities ran out
    by_part = defaultdict(Counter)
    for name, v in sel.lists.items():
        if name != OTHER:
            part, _, st_name = name.rpartition("-")
            by_part[part or "all"][st_name] += len(v)
    for part, c in by_part.items():
        n = sample_size(sum(c.values()))
        if c["train"] and not assign:
            assert c["dev"] >= n and c["test"] >= n
    # determinism
    again = select([("d", utts)], cfg)
    assert {k: [s.index for s in v] for k, v in again.lists.items()} == {k: [s.index for s in v] for k, v in sel.lists.items()}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 5))
def test_split_sizes_without_field(n, seed):
    sel = select([("d", [utt(i) for i in range(n)])], SelectConfig(split=True, split_seed=seed))
    s = sample_size(n)
    got = Counter({k: len(v) for k, v in sel.lists.items()})
    assert got["dev"] == got["test"] == s and got["train"] == n - 2 * s
