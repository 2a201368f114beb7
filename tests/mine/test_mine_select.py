"""Mine types, blending, dedup, determinism and caching on planted data (exact index)."""

import gzip

import numpy as np
import pytest

from align.mine.demo import score_pairs
from align.mine.output import read_pairs
from align.mine.pipeline import mine

from conftest import SMALL_THRESHOLD


def _run(cfg):
    return mine(cfg, show_progress=False)[0]


def _set(p):
    return set(zip(p.src.tolist(), p.tgt.tolist()))


@pytest.fixture(scope="module")
def by_type(planted, tmp_path_factory):
    from align.mine.config import build_config
    from align.mine.demo import planted_config

    out = {}
    base = tmp_path_factory.mktemp("types")
    for mt in ("forward", "backward", "union", "intersection"):
        raw = planted_config(planted, base / mt, with_aux=True, mine_type=mt, dedup="none", threshold=SMALL_THRESHOLD,
                             cache_dir=str(base / "cache"))
        out[mt] = _run(build_config(raw, "test"))
    return out


def test_forward_backward_union_intersection(planted, by_type):
    f, b, u, i = (_set(by_type[m].pairs) for m in ("forward", "backward", "union", "intersection"))
    # forward: one choice per source row; backward: one per target row
    assert len(f) == len(by_type["forward"].pairs) == len({s for s, _ in f})
    assert len(b) == len({t for _, t in b})
    # union is both directions, each pair once; intersection the mutual choices
    assert u == f | b and len(by_type["union"].pairs) == len(u)
    assert i == f & b
    dirs = by_type["union"].pairs.direction
    assert set(np.unique(dirs).tolist()) <= {1, 2, 3}
    assert (dirs == 3).sum() == len(f & b)
    for mt in ("forward", "backward", "union", "intersection"):
        sc = score_pairs(by_type[mt].pairs, planted.pairs)
        assert sc.recall >= 0.98, mt
    # with aux blending, the mutual choice resolves the twins: precision on planted pairs is high
    assert score_pairs(by_type["intersection"].pairs, planted.pairs).precision >= 0.98
    # ...while forward alone keeps the twin siblings' (wrong) picks
    assert score_pairs(by_type["forward"].pairs, planted.pairs).precision < 0.98


def test_default_settings_quality_and_blend_beats_margin(planted, make_cfg):
    with_aux = _run(make_cfg(planted, with_aux=True, out="aux", threshold=SMALL_THRESHOLD))
    plain = _run(make_cfg(planted, with_aux=False, out="plain", threshold=SMALL_THRESHOLD))
    a, m = score_pairs(with_aux.pairs, planted.pairs), score_pairs(plain.pairs, planted.pairs)
    assert a.recall >= 0.98 and a.precision >= 0.98
    assert m.recall < a.recall - 0.02 and m.precision < a.precision - 0.02  # margin alone: twins are coin flips
    ta = score_pairs(with_aux.pairs, planted.twin_pairs).correct
    tm = score_pairs(plain.pairs, planted.twin_pairs).correct
    assert ta >= 0.95 * len(planted.twin_pairs) and tm < 0.75 * len(planted.twin_pairs)
    assert with_aux.summary["blend_candidates"] == 16 and plain.summary["blend_candidates"] is None
    assert with_aux.summary["k_extract"] == plain.summary["k_extract"] == 1


def test_alpha_one_equals_no_aux(planted, make_cfg):
    plain = _run(make_cfg(planted, with_aux=False, out="plain", dedup="none"))
    alpha1 = _run(make_cfg(planted, with_aux=True, out="alpha1", alpha=1.0, dedup="none"))
    assert _set(plain.pairs) == _set(alpha1.pairs)
    order = lambda p: np.lexsort((p.tgt, p.src))  # noqa: E731
    np.testing.assert_array_equal(plain.pairs.margin[order(plain.pairs)], alpha1.pairs.margin[order(alpha1.pairs)])
    np.testing.assert_array_equal(plain.pairs.score[order(plain.pairs)], alpha1.pairs.score[order(alpha1.pairs)])
    assert np.isnan(plain.pairs.aux).all() and np.isfinite(alpha1.pairs.aux).all()


def test_threshold_on_and_score_max(planted, make_cfg):
    r = _run(make_cfg(planted, out="b", threshold_on="blended", threshold=0.9, score_max=1.2, dedup="none"))
    assert r.pairs.score.min() >= 0.9 and r.pairs.score.max() <= 1.2
    r2 = _run(make_cfg(planted, with_aux=False, out="m", threshold=1.1, score_max=1.3, dedup="none"))
    assert r2.pairs.margin.min() >= 1.1 and r2.pairs.margin.max() <= 1.3
    assert len(r2.pairs) > 0


def test_one_to_one_dedup(planted, make_cfg):
    r = _run(make_cfg(planted, out="o"))
    p = r.pairs
    assert len(set(p.src.tolist())) == len(p) == len(set(p.tgt.tolist()))
    assert np.all(np.diff(p.score) <= 0)


def test_output_file_sorted_and_byte_identical_rerun(planted, make_cfg, tmp_path):
    a = _run(make_cfg(planted, out="run1", cache_dir=str(tmp_path / "c1")))
    b = _run(make_cfg(planted, out="run2", cache_dir=str(tmp_path / "c2")))
    fa, fb = a.out_dir / "pairs.tsv.gz", b.out_dir / "pairs.tsv.gz"
    assert fa.read_bytes() == fb.read_bytes()
    rows = read_pairs(fa)
    assert len(rows) == len(a.pairs)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    # meta columns are the meta lines of the rows
    src_lines = [line.rstrip("\n") for f in sorted(__import__("glob").glob(planted.src_meta_glob))
                 for line in open(f)]
    assert all(r["src_meta"] == src_lines[r["src_row"]] for r in rows[:50])
    with gzip.open(fa, "rt") as f:
        assert f.readline().rstrip("\n").split("\t") == ["score", "margin", "aux", "src_row", "tgt_row", "src_meta",
                                                         "tgt_meta", "direction"]
    assert (a.out_dir / "config.resolved.yaml").exists() and (a.out_dir / "summary.json").exists()


def test_rerun_with_new_threshold_reuses_index_and_knn(planted, make_cfg):
    first = _run(make_cfg(planted, out="c"))
    again = _run(make_cfg(planted, out="c", threshold=1.2, alpha=0.7))
    assert all(not v["cached"] for v in first.summary["index"].values())
    assert all(v["cached"] for v in again.summary["index"].values())
    assert all(v["computed_shards"] == 0 for v in again.summary["knn"].values())
    assert again.pairs.margin.min() >= 1.2 and len(again.pairs) < len(first.pairs)


def test_ivf_missing_neighbours_are_handled(planted, make_cfg):
    # 32 lists over ~1400 rows, one probed list: often fewer than k=16 results -> faiss ids -1
    r = _run(make_cfg(planted, with_aux=True, out="ivf", index_type="IVF64,Flat", nprobe=1, train_sample=1400))
    assert r.summary["knn"]["x2y"]["missing_neighbours"] > 0
    assert (r.pairs.tgt >= 0).all() and (r.pairs.src >= 0).all()
    assert score_pairs(r.pairs, planted.pairs).recall > 0.5


def test_approximate_index_with_rescoring(planted, make_cfg):
    r = _run(make_cfg(planted, out="pq", index_type="IVF16,PQ16x4fs", train_sample=1400, nprobe=4,
                         threshold=SMALL_THRESHOLD))
    assert r.summary["index"]["tgt"]["refine"] == "SQfp16"
    sc = score_pairs(r.pairs, planted.pairs)
    assert sc.recall >= 0.95 and sc.precision >= 0.95


def test_gpu_flag_without_gpu_falls_back_with_a_message(planted, make_cfg, caplog):
    import faiss

    if faiss.get_num_gpus() > 0:
        pytest.skip("a GPU is present")
    cpu = _run(make_cfg(planted, out="cpu"))
    with caplog.at_level("WARNING"):
        gpu = _run(make_cfg(planted, out="gpu", gpu=True))
    assert any("no GPU" in r.message and "faiss-gpu" in r.message for r in caplog.records)
    assert (cpu.out_dir / "pairs.tsv.gz").read_bytes() == (gpu.out_dir / "pairs.tsv.gz").read_bytes()


@pytest.mark.parametrize("margin_type,mine_type,norm", [("absolute", "forward", "mean"), ("distance", "union", "last"),
                                                        ("ratio", "backward", "last")])
def test_other_margins_run(planted, make_cfg, margin_type, mine_type, norm):
    thr = {"absolute": 0.6, "distance": 0.05, "ratio": SMALL_THRESHOLD}[margin_type]
    r = _run(make_cfg(planted, with_aux=False, out="m", margin_type=margin_type, mine_type=mine_type,
                      margin_norm=norm, threshold=thr))
    if margin_type == "absolute" and mine_type == "forward":
        assert set(r.summary["knn"]) == {"x2y"}  # no neighbourhood terms needed: one direction only
    assert r.pairs.margin.min() >= thr
    # plain cosine suffers from hubs and dense regions (what margins correct): a lower bar
    assert score_pairs(r.pairs, planted.pairs).recall >= (0.7 if margin_type == "absolute" else 0.9)


def test_several_pairs_share_indexes_and_per_language_index_type(planted, make_cfg):
    cfg = make_cfg(planted, out="multi", src_lang=None, tgt_lang=None, pairs=[["src", "tgt"], ["tgt", "src"]],
                   lang_configs={
                       "src": {"existing_embedding_glob": planted.src_glob, "index_type": "IVF16,Flat"},
                       "tgt": {"existing_embedding_glob": planted.tgt_glob}})
    a, b = mine(cfg, show_progress=False)
    assert a.out_dir.name == "src-tgt" and b.out_dir.name == "tgt-src"
    assert a.summary["index"]["src"]["factory"] == "IVF16,Flat" and a.summary["index"]["tgt"]["factory"] == "Flat"
    assert all(v["cached"] for v in b.summary["index"].values())  # built once, reused by the second pair
    # mining tgt->src finds the mirrored pairs
    fwd = {(s, t) for s, t in zip(a.pairs.src.tolist(), a.pairs.tgt.tolist())}
    back = {(t, s) for s, t in zip(b.pairs.src.tolist(), b.pairs.tgt.tolist())}
    assert len(fwd & back) >= 0.95 * len(fwd)


def test_nothing_above_threshold_writes_an_empty_table(planted, make_cfg):
    r = _run(make_cfg(planted, out="none", threshold=100.0))
    assert len(r.pairs) == 0 and r.summary["pairs"] == 0
    assert read_pairs(r.out_dir / "pairs.tsv.gz") == []
    assert r.summary["counts_at_threshold"]["1.06"] > 0
