"""mine's kNN takes an executor object (align.common.executors); one Direction enum."""

import numpy as np

from align.common.executors import ProcessExecutor, SerialExecutor
from align.mine.config import MineType
from align.mine.pipeline import mine
from align.mine.select import Direction, Pairs, combine


def test_knn_in_worker_processes_matches_in_process(planted, make_cfg):
    local = mine(make_cfg(planted, out="local"), show_progress=False)[0]
    with ProcessExecutor(2) as ex:
        pooled = mine(make_cfg(planted, out="pool"), show_progress=False, executor=ex)[0]
    serial = mine(make_cfg(planted, out="serial"), show_progress=False, executor=SerialExecutor())[0]
    assert pooled.summary["knn"]["x2y"]["computed_shards"] == local.summary["knn"]["x2y"]["computed_shards"] > 1
    a = (local.out_dir / "pairs.tsv.gz").read_bytes()
    assert (pooled.out_dir / "pairs.tsv.gz").read_bytes() == a == (serial.out_dir / "pairs.tsv.gz").read_bytes()
    assert set(local.summary["by_direction"]) == {"fwd", "bwd", "both"}


def test_direction_enum_is_the_one_encoding():
    from align.mine.blend import Choice

    assert [d.label for d in Direction] == ["fwd", "bwd", "both"]
    assert [d.key for d in Direction] == ["x2y", "y2x", "both"]
    assert Direction.FWD.reverse is Direction.BWD and Direction.BOTH.reverse is Direction.BOTH
    assert Direction.searches(MineType.FORWARD) == [Direction.FWD]
    assert Direction.searches(MineType.INTERSECTION) == [Direction.FWD, Direction.BWD]

    def choice(q, o, m):
        q, o, m = np.array(q), np.array(o), np.array(m, np.float32)
        return Choice(query=q, other=o, margin=m, aux=np.full(len(q), np.nan, np.float32), blended=m)

    fwd = choice([0, 1], [5, 6], [1.2, 1.1])      # src 0 -> tgt 5, src 1 -> tgt 6
    bwd = choice([5, 7], [0, 2], [1.3, 1.0])      # tgt 5 -> src 0 (mutual), tgt 7 -> src 2
    p: Pairs = combine(fwd, bwd, MineType.UNION)
    got = {(int(s), int(t)): Direction(d) for s, t, d in zip(p.src, p.tgt, p.direction)}
    assert got == {(0, 5): Direction.BOTH, (1, 6): Direction.FWD, (2, 7): Direction.BWD}
