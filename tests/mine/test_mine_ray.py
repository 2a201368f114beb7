"""kNN as Ray tasks gives the same result as the local executor."""

import importlib.util

import pytest

from align.mine.pipeline import mine

pytestmark = [pytest.mark.slow, pytest.mark.ray,
              pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray not installed")]


def test_ray_executor_matches_local(planted, make_cfg):
    local = mine(make_cfg(planted, out="local"), show_progress=False)[0]
    remote = mine(make_cfg(planted, out="ray", executor="ray"), show_progress=False)[0]
    assert remote.summary["knn"]["x2y"]["computed_shards"] == 3  # one task per query shard
    assert (local.out_dir / "pairs.tsv.gz").read_bytes() == (remote.out_dir / "pairs.tsv.gz").read_bytes()
