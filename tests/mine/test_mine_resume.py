"""An interrupted kNN step resumes: finished query shards are not searched again, and the
result equals an uninterrupted run."""

import pytest

from align.mine.pipeline import MineHooks, mine


class Crash(Exception):
    pass


def test_resume_after_crash_in_knn(planted, make_cfg, tmp_path):
    done = []

    def crash_after_two(direction, shard_no):
        done.append((direction, shard_no))
        if len(done) == 2:
            raise Crash("simulated crash")

    cfg = make_cfg(planted, out="resumed", cache_dir=str(tmp_path / "cache"))
    with pytest.raises(Crash):
        mine(cfg, show_progress=False, hooks=MineHooks(on_knn_shard_done=crash_after_two))
    first_direction = done[0][0]
    assert done == [(first_direction, 0), (first_direction, 1)]
    assert not (tmp_path / "resumed" / "pairs.tsv.gz").exists()

    searched = []
    res = mine(cfg, show_progress=False, hooks=MineHooks(on_knn_shard_done=lambda d, i: searched.append((d, i))))[0]
    # the two finished shards came from their checkpoints; the third and the other direction ran
    assert (first_direction, 0) not in searched and (first_direction, 1) not in searched
    assert (first_direction, 2) in searched
    knn = res.summary["knn"]
    assert knn["x2y"]["computed_shards"] == 1 and knn["y2x"]["computed_shards"] == 3

    clean = mine(make_cfg(planted, out="clean", cache_dir=str(tmp_path / "cache2")), show_progress=False)[0]
    assert (res.out_dir / "pairs.tsv.gz").read_bytes() == (clean.out_dir / "pairs.tsv.gz").read_bytes()


def test_corrupt_checkpoint_is_recomputed(planted, make_cfg, tmp_path):
    cfg = make_cfg(planted, out="o", cache_dir=str(tmp_path / "cache"))
    first = mine(cfg, show_progress=False)[0]
    ckpts = sorted((tmp_path / "cache" / "knn").glob("*x2y*/q00001.npz"))
    assert len(ckpts) == 1
    ckpts[0].write_bytes(b"not an npz")
    again = mine(cfg, show_progress=False)[0]
    assert again.summary["knn"]["x2y"]["computed_shards"] == 1
    assert (first.out_dir / "pairs.tsv.gz").read_bytes() == (again.out_dir / "pairs.tsv.gz").read_bytes()
