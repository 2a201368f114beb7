"""Exact (Flat) mining equals a brute-force numpy implementation of margin mining."""

import numpy as np
import pytest

from align.mine.pipeline import mine
from align.mine.synth import PlantedSpec, make_planted

from conftest import brute_force, load_all


def _compare(data, cfg, k, mine_type, thr):
    got = mine(cfg, show_progress=False)[0].pairs
    x, y = load_all(data.src_glob), load_all(data.tgt_glob)
    want = brute_force(x, y, k, thr, mine_type)
    got_d = {(s, t): m for s, t, m in zip(got.src.tolist(), got.tgt.tolist(), got.margin.tolist())}
    near = lambda v: abs(v - thr) < 1e-4  # float32 vs float64 at the threshold edge  # noqa: E731
    assert {p for p, v in got_d.items() if not near(v)} == {p for p, v in want.items() if not near(v)}
    common = sorted(set(got_d) & set(want))
    assert len(common) > 100
    assert np.allclose([got_d[p] for p in common], [want[p] for p in common], atol=2e-5)
    return got


@pytest.mark.parametrize("mine_type", ["forward", "backward", "union", "intersection"])
def test_exact_equals_brute_force(planted, make_cfg, mine_type):
    cfg = make_cfg(planted, with_aux=False, out=mine_type, mine_type=mine_type, dedup="none", index_type="Flat",
                   threshold=1.06)
    got = _compare(planted, cfg, 16, mine_type, 1.06)
    assert got.margin.min() >= 1.06


def test_exact_brute_force_float32_shards_other_k(tmp_path, make_cfg):
    data = make_planted(tmp_path / "d32", PlantedSpec(n_src=900, n_tgt=1100, dim=48, n_pairs=400, shard_rows=300,
                                                      dtype="float32", seed=5, rank=32))
    cfg = make_cfg(data, with_aux=False, knn=5, threshold=1.02, dedup="none")  # auto index: Flat
    _compare(data, cfg, 5, "union", 1.02)


@pytest.mark.slow
def test_exact_20k_equals_brute_force(tmp_path, make_cfg):
    data = make_planted(tmp_path / "d20k", PlantedSpec(n_src=20000, n_tgt=20000, dim=256, n_pairs=10000,
                                                       shard_rows=5000, seed=11))
    cfg = make_cfg(data, with_aux=False, dedup="none", index_type="Flat", threshold=1.06)
    _compare(data, cfg, 16, "union", 1.06)
