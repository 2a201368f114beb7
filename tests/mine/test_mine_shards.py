"""Shard discovery, ordering and checks."""

import numpy as np
import pytest

from align.common.errors import UserError
from align.mine.shards import check_aux, discover, gather_rows, iter_blocks, open_shards, shard_number


def _save(path, n, dim=4, dtype="float16", value=None):
    a = np.full((n, dim), value, dtype) if value is not None else np.ones((n, dim), dtype)
    np.save(path, a)


def test_order_by_shard_number_not_name(tmp_path):
    for no in (10, 2, 1):
        _save(tmp_path / f"emb.{no:03d}.npy", 1, value=no)
    # a name sort would put .010. last anyway; make the numbers disagree with the names
    _save(tmp_path / "a_emb.011.npy", 1, value=11)
    files = discover(str(tmp_path / "*emb.*.npy"), "k")
    assert [shard_number(f) for f in files] == [1, 2, 10, 11]
    ss = open_shards(str(tmp_path / "*emb.*.npy"), "k")
    assert ss.starts.tolist() == [0, 1, 2, 3, 4]
    vals = [float(b[0, 0] * 2) for s in ss.shards for _, b in iter_blocks(s, 8)]  # normalised: 1/2 each
    assert vals == pytest.approx([1.0, 1.0, 1.0, 1.0])


def test_unnumbered_files_sorted_by_name_and_mixed_or_duplicate_rejected(tmp_path):
    for name in ("b.npy", "a.npy"):
        _save(tmp_path / name, 2)
    assert [p.rsplit("/", 1)[1] for p in discover(str(tmp_path / "*.npy"), "k")] == ["a.npy", "b.npy"]
    _save(tmp_path / "c.000.npy", 2)
    with pytest.raises(UserError, match="no .NNN. shard number"):
        discover(str(tmp_path / "*.npy"), "k")
    _save(tmp_path / "x.000.npy", 2)
    with pytest.raises(UserError, match="same shard number 000"):
        discover(str(tmp_path / "[cx].*.npy"), "k")


def test_header_checks(tmp_path):
    np.save(tmp_path / "e.000.npy", np.ones(5, np.float16))
    with pytest.raises(UserError, match="rows x dim"):
        open_shards(str(tmp_path / "e.*.npy"), "key1")
    np.save(tmp_path / "e.000.npy", np.ones((5, 3), np.int32))
    with pytest.raises(UserError, match="int32"):
        open_shards(str(tmp_path / "e.*.npy"), "key1")
    (tmp_path / "e.000.npy").write_bytes(b"garbage")
    with pytest.raises(UserError, match="key1.*not a readable"):
        open_shards(str(tmp_path / "e.*.npy"), "key1")


def test_aux_rows_checked_per_shard(tmp_path):
    _save(tmp_path / "e.000.npy", 3)
    _save(tmp_path / "e.001.npy", 4)
    _save(tmp_path / "a.000.npy", 4)
    _save(tmp_path / "a.001.npy", 3)
    emb = open_shards(str(tmp_path / "e.*.npy"), "emb")
    aux = open_shards(str(tmp_path / "a.*.npy"), "aux")
    with pytest.raises(UserError, match=r"a\.000\.npy' has 4 rows .*e\.000\.npy' has 3"):
        check_aux(emb, aux)


def test_gather_rows_normalised_across_shards(tmp_path):
    rng = np.random.default_rng(0)
    parts = [rng.standard_normal((n, 6)).astype(np.float32) for n in (5, 7, 2)]
    for i, p in enumerate(parts):
        np.save(tmp_path / f"e.{i:03d}.npy", p)
    ss = open_shards(str(tmp_path / "e.*.npy"), "k")
    allv = np.concatenate(parts)
    rows = np.array([13, 0, 6, 6, 12, 4])
    want = allv[rows] / np.linalg.norm(allv[rows], axis=1, keepdims=True)
    np.testing.assert_allclose(gather_rows(ss, rows), want, rtol=1e-6)
