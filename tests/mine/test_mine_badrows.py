"""Bad embedding rows: NaN/Inf (fail, or skip with skip_bad_rows), all-zero rows (skipped, counted),
duplicate rows (reported)."""

import json

import numpy as np
import yaml

from align.mine.badrows import scan
from align.mine.shards import open_shards

from test_mine_cli import run_cli


def _data(d, nan=True):
    rng = np.random.default_rng(0)
    src = rng.standard_normal((400, 32)).astype(np.float32)
    perm = rng.permutation(400)
    tgt = (src[perm] + 0.2 * rng.standard_normal((400, 32))).astype(np.float32)
    if nan:
        src[200 + 5, 3] = np.nan  # shard 1, row 5
        src[200 + 5, 7] = np.inf
    src[3] = 0.0  # shard 0, row 3: no direction
    tgt[20] = tgt[10]  # the same segment embedded twice
    tgt[30] = tgt[10]
    d.mkdir(parents=True, exist_ok=True)
    for name, arr in (("src", src), ("tgt", tgt)):
        for i in range(2):
            np.save(d / f"{name}.{i:03d}.npy", arr[i * 200 : (i + 1) * 200])
    truth = {(int(perm[j]), j) for j in range(400)}
    return truth


def _cfg(tmp_path, **over):
    d = tmp_path / "data"
    cfg = {"src_lang": "src", "tgt_lang": "tgt", "output_dir": str(tmp_path / "out"), "threshold": 1.0,
           "lang_configs": {n: {"existing_embedding_glob": str(d / f"{n}.[0-9][0-9][0-9].npy")} for n in ("src", "tgt")},
           **over}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(cfg))
    return str(tmp_path / "run.yaml")


def test_scan_finds_nan_zero_and_duplicates(tmp_path):
    _data(tmp_path / "data")
    rep = scan(open_shards(str(tmp_path / "data" / "src.[0-9][0-9][0-9].npy"), "k"), skip_bad_rows=True)
    assert [(r, c) for _, r, c in rep.nonfinite] == [(5, 2)] and rep.nonfinite[0][0].endswith("src.001.npy")
    assert rep.zero_rows == 1 and rep.skipped.tolist() == [3, 205]
    t = scan(open_shards(str(tmp_path / "data" / "tgt.[0-9][0-9][0-9].npy"), "k"), skip_bad_rows=False)
    assert t.duplicate_groups == 1 and t.duplicate_rows == 2 and t.duplicate_examples == [[10, 20, 30]]
    assert len(t.skipped) == 0


def test_nan_rows_fail_the_run_with_shard_and_row(tmp_path):
    _data(tmp_path / "data")
    p = run_cli("--config", _cfg(tmp_path), "--no-progress")
    assert p.returncode == 1
    assert "src.001.npy' row 5, 2 bad value(s)" in p.stderr and "skip_bad_rows: true" in p.stderr
    assert "Traceback" not in p.stderr


def test_skip_bad_rows_mines_the_rest_and_reports(tmp_path):
    truth = _data(tmp_path / "data")
    p = run_cli("--config", _cfg(tmp_path), "--no-progress", "skip_bad_rows=true")
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    b = s["bad_rows"]
    assert b["src"]["nan_inf_rows"] == 1 and b["src"]["nan_inf"][0]["row"] == 5 and b["src"]["nan_inf"][0]["count"] == 2
    assert b["src"]["zero_rows"] == 1 and b["src"]["skipped_rows"] == 2
    assert b["tgt"]["duplicate_rows"] == 2 and b["tgt"]["duplicate_examples"] == [[10, 20, 30]]
    from align.mine.output import read_pairs

    rows = read_pairs(tmp_path / "out" / "pairs.tsv.gz")
    srcs = {r["src_row"] for r in rows}
    assert 3 not in srcs and 205 not in srcs  # skipped rows are never paired
    found = {(r["src_row"], r["tgt_row"]) for r in rows}
    assert len(found & truth) >= 390
    assert "all-zero rows skipped" in p.stderr and "duplicate rows" in p.stderr
