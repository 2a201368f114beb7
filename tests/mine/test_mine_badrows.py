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


def test_scan_matches_a_float_oracle_for_both_dtypes_and_odd_dims(tmp_path):
    """The scan works on stored bits: compare it with plain float checks (isfinite, all zero,
    byte-equal rows) on float16 and float32 shards, with a dimension whose rows are not a
    multiple of 8 bytes, -0.0 rows, subnormals and duplicates across shards."""
    for dtype, dim in (("float16", 1024), ("float16", 7), ("float32", 33)):
        rng = np.random.default_rng(1)
        x = rng.standard_normal((300, dim)).astype(dtype)
        x[5, 2], x[6, 0], x[6, 1], x[250, dim - 1] = np.nan, np.inf, -np.inf, np.nan
        x[7] = 0.0
        x[8] = -0.0                                   # no direction either
        x[9] = np.finfo(dtype).smallest_subnormal     # tiny but not zero, and finite
        x[120] = x[10]                                # duplicate across the shard boundary
        x[280] = x[10]
        x[121] = x[11]
        d = tmp_path / f"{dtype}{dim}"
        d.mkdir()
        for i in range(2):
            np.save(d / f"e.{i:03d}.npy", x[i * 100 : (i + 1) * 100] if i == 0 else x[100:])
        ss = open_shards(str(d / "e.[0-9][0-9][0-9].npy"), "k")
        rep = scan(ss, skip_bad_rows=True)
        bad = ~np.isfinite(x.astype(np.float64))
        want_bad = [(int(r), int(bad[r].sum())) for r in np.nonzero(bad.any(axis=1))[0]]
        got_bad = [(int(ss.starts[0 if p.endswith("000.npy") else 1]) + r, c) for p, r, c in rep.nonfinite]
        assert got_bad == want_bad, dtype
        zero = ~bad.any(axis=1) & (x.astype(np.float64) == 0).all(axis=1)
        assert rep.zero_rows == int(zero.sum()) == 2
        assert rep.skipped.tolist() == sorted(set(np.nonzero(bad.any(axis=1) | zero)[0].tolist()))
        groups: dict[bytes, list[int]] = {}
        for r in range(len(x)):
            if not (bad[r].any() or zero[r]):
                groups.setdefault(x[r].tobytes(), []).append(r)
        want = sorted(v for v in groups.values() if len(v) > 1)
        assert rep.duplicate_groups == len(want) == 2
        assert rep.duplicate_rows == sum(len(v) - 1 for v in want) == 3
        assert rep.duplicate_examples == [v[:10] for v in want]
