"""`mine` under injected faults, with real processes: damaged cache entries are reported, removed
and recomputed; a shard rewritten in place invalidates its cache; two runs into one output_dir
are refused; the output bytes do not depend on batch_size; bad config numbers and keys, alias
bombs and odd glob matches are one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from align.common.errors import UserError
from align.mine.config import load_config
from align.mine.demo import planted_config
from align.mine.pipeline import LOCK_NAME

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "align.cli.mine", "--no-progress", *map(str, args)],
                          capture_output=True, text=True, env=env)


def write_cfg(path: Path, planted, out: Path, **over) -> Path:
    raw = planted_config(planted, out, with_aux=False, index_type="Flat", **over)
    path.write_text(yaml.safe_dump(raw))
    return path


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if " WARNING " in line]


def test_damaged_cache_entries_are_recomputed(planted, tmp_path):
    out = tmp_path / "out"
    cfg = write_cfg(tmp_path / "run.yaml", planted, out)
    r = run_cli("--config", cfg)
    assert r.returncode == 0, r.stderr
    good = (out / "pairs.tsv.gz").read_bytes()
    cache = out / "cache"

    # 1. a truncated checkpoint (BadZipFile before), 2. neighbour ids past the other side's rows
    # (IndexError before), 3. a truncated faiss index (RuntimeError before)
    x2y = sorted(cache.glob("knn/*x2y*/q*.npz"))
    y2x = sorted(cache.glob("knn/*y2x*/q*.npz"))
    x2y[0].write_bytes(x2y[0].read_bytes()[:1000])
    with np.load(y2x[1]) as z:
        sims, ids = z["sims"], z["ids"]
    np.savez(y2x[1], sims=sims, ids=ids + 10**6)
    index = sorted(cache.glob("index/src.*.faiss"))[0]
    index.write_bytes(index.read_bytes()[:5000])

    r = run_cli("--config", cfg)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    w = warnings(r.stderr)
    assert len(w) == 3, r.stderr
    assert any("kNN checkpoint" in x and "unreadable" in x and x2y[0].name in x for x in w)
    assert any("kNN checkpoint" in x and "neighbour ids outside" in x for x in w)
    assert any("cached index" in x and "damaged" in x for x in w)
    assert (out / "pairs.tsv.gz").read_bytes() == good
    # only the damaged checkpoints were searched again (the rebuilt index has the same key)
    assert summary(out)["knn"]["y2x"]["computed_shards"] == 1
    assert summary(out)["knn"]["x2y"]["computed_shards"] == 1
    assert summary(out)["index"]["src"]["cached"] is False and summary(out)["index"]["tgt"]["cached"] is True


def test_shard_rewritten_with_same_size_and_mtime_invalidates_the_cache(planted, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(Path(planted.src_glob).parent, data)
    glob_src = str(data / Path(planted.src_glob).name)
    glob_tgt = str(data / Path(planted.tgt_glob).name)
    out = tmp_path / "out"
    raw = planted_config(planted, out, with_aux=False, index_type="Flat")
    raw["lang_configs"]["src"] = {"existing_embedding_glob": glob_src}
    raw["lang_configs"]["tgt"] = {"existing_embedding_glob": glob_tgt}
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    assert run_cli("--config", cfg).returncode == 0

    shard = sorted(data.glob(Path(planted.src_glob).name))[1]
    st = shard.stat()
    arr = np.load(shard)
    arr[[0, 1]] = arr[[1, 0]]  # same size, same header, other content
    np.save(shard, arr)
    os.utime(shard, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert shard.stat().st_size == st.st_size and shard.stat().st_mtime_ns == st.st_mtime_ns

    r = run_cli("--config", cfg)
    assert r.returncode == 0, r.stderr
    assert summary(out)["knn"]["x2y"]["computed_shards"] == 3  # nothing stale reused
    fresh = tmp_path / "fresh"
    cfg2 = tmp_path / "fresh.yaml"
    raw["output_dir"] = str(fresh)
    cfg2.write_text(yaml.safe_dump(raw))
    assert run_cli("--config", cfg2).returncode == 0
    assert (out / "pairs.tsv.gz").read_bytes() == (fresh / "pairs.tsv.gz").read_bytes()


def test_second_run_into_the_same_output_dir_is_refused(planted, tmp_path):
    """A real process holds the output_dir lock the way a running `mine` does; a second run is
    refused with one line; once the holder is killed (SIGKILL), the next run proceeds."""
    out = tmp_path / "out"
    cfg = write_cfg(tmp_path / "run.yaml", planted, out)
    code = ("import sys, time; from align.common.locks import exclusive_lock\n"
            "with exclusive_lock(sys.argv[1], 'x'):\n    print('locked', flush=True); time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(out / LOCK_NAME)], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        assert holder.stdout.readline().strip() == "locked"
        r = run_cli("--config", cfg)
        assert r.returncode == 1
        assert r.stderr.strip().splitlines() == [
            f"mine: error: output_dir {out} is being written by another run (pid {holder.pid}) "
            f"(lock {out / LOCK_NAME}); wait for it to finish, or write elsewhere"]
        assert not (out / "pairs.tsv.gz").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    r = run_cli("--config", cfg)
    assert r.returncode == 0, r.stderr
    assert not (out / LOCK_NAME).exists()


def test_output_does_not_depend_on_batch_size(tmp_path):
    from align.mine.config import build_config
    from align.mine.pipeline import mine
    from align.mine.synth import PlantedSpec, make_planted

    # faiss's matrix products round differently for query blocks of other shapes: with blocks of
    # batch_size rows the cosines differed in the last bits (5e-7), and on larger sets some
    # written scores in the 6th decimal. Compared here: the output bytes and every cached cosine.
    data = make_planted(tmp_path / "data", PlantedSpec(n_src=3000, n_tgt=2800, dim=128, n_pairs=1400,
                                                       n_src_twins=40, n_tgt_twins=40, aux_dim=32,
                                                       shard_rows=1000, seed=3, rank=96))
    outs, sims = [], []
    for bs in (8192, 100):
        cfg = build_config(planted_config(data, tmp_path / f"o{bs}", index_type="Flat", batch_size=bs), "test")
        out_dir = mine(cfg, show_progress=False)[0].out_dir
        outs.append((out_dir / "pairs.tsv.gz").read_bytes())
        sims.append([np.load(p)["sims"] for p in sorted((out_dir / "cache" / "knn").glob("*/q*.npz"))])
    assert len(sims[0]) == len(sims[1]) == 6
    for a, b in zip(*sims):
        assert np.array_equal(a, b, equal_nan=True)
    assert outs[0] == outs[1]


@pytest.fixture
def cfg_file(planted, tmp_path):
    def make(extra: str) -> Path:
        p = tmp_path / "c.yaml"
        p.write_text(yaml.safe_dump(planted_config(planted, tmp_path / "o", with_aux=False)) + extra)
        return p
    return make


@pytest.mark.parametrize("extra, expect", [
    ("threshold: .nan\n", "threshold: must be a finite number, got nan"),
    ("threshold: .inf\n", "threshold: must be a finite number, got inf"),
    ("knn: 1000000000\n", "knn: must be between 1 and 1024, got 1000000000"),
    ("knn: 0\n", "knn: must be between 1 and 1024, got 0"),
    ("alpha: .nan\n", "alpha: must be a finite number"),
    ("nprobe: -3\n", "nprobe: must be between 1 and 65536"),
    ("seed: -1\n", "seed: must be between 0 and"),
    ("score_max: .inf\n", "score_max: must be a finite number"),
    ("batch_size: 100000000000\n", "batch_size: must be between 1 and"),
    ("score_thresholds: [1.0, .nan]\n", "score_thresholds: expected finite numbers"),
    ("threshhold: 1.1\n", "unknown key 'threshhold'; did you mean 'threshold'?"),
])
def test_config_numbers_and_keys(cfg_file, extra, expect):
    with pytest.raises(UserError) as e:
        load_config(cfg_file(extra))
    assert expect in str(e.value)
    assert "\n" not in str(e.value)


def test_override_did_you_mean(cfg_file):
    with pytest.raises(UserError, match=r"override alhpa=\.\.\.: unknown key 'alhpa'; did you mean 'alpha'\?"):
        load_config(cfg_file(""), ["alhpa=0.3"])
    with pytest.raises(UserError, match=r"did you mean 'meta_glob'\?"):
        load_config(cfg_file(""), ["lang_configs.src.meta_gob=x"])


def test_cli_config_error_is_one_line(cfg_file):
    r = run_cli("--config", cfg_file("knn: 1000000000\n"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "knn: must be between 1 and 1024" in r.stderr


def test_yaml_alias_bomb_is_refused_fast(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    lines.append("score_thresholds: *a9")
    p = tmp_path / "bomb.yaml"
    p.write_text("\n".join(lines) + "\n")
    assert len(p.read_bytes()) < 800
    t0 = time.perf_counter()
    with pytest.raises(UserError, match="aliases expand to more than 100,000 values"):
        load_config(p)
    assert time.perf_counter() - t0 < 5  # a safety net against a hang, not a benchmark

    p.write_text("a: &a [1, *a]\n")
    with pytest.raises(UserError, match="refers to itself"):
        load_config(p)


def test_aliases_within_the_limit_still_work(cfg_file):
    p = cfg_file("")
    p.write_text(p.read_text().replace("output_dir:", "score_thresholds: &t [1.0, 1.1]\noutput_dir:"))
    assert load_config(p).score_thresholds == [1.0, 1.1]


@pytest.mark.parametrize("kind", ["dangling", "loop", "directory"])
def test_glob_matching_a_non_file_is_an_error(tmp_path, kind):
    from align.mine.shards import discover

    np.save(tmp_path / "e.000.npy", np.zeros((2, 4), np.float32))
    odd = tmp_path / "e.001.npy"
    if kind == "dangling":
        odd.symlink_to(tmp_path / "gone.npy")
    elif kind == "loop":
        odd.symlink_to(odd)
    else:
        odd.mkdir()
    want = {"dangling": "a dangling symlink", "loop": "a symlink that cannot be followed",
            "directory": "a directory"}[kind]
    with pytest.raises(UserError, match=f"e.001.npy' matches the glob .* but is {want}"):
        discover(str(tmp_path / "e.*.npy"), "lang_configs.en.existing_embedding_glob")


def test_failed_run_leaves_no_empty_output_dir(cfg_file, tmp_path):
    p = cfg_file("")
    p.write_text(p.read_text().replace("src_emb", "nothing_emb", 1))
    cfg = load_config(p)
    from align.mine.pipeline import mine

    with pytest.raises(UserError, match="no file matches"):
        mine(cfg, show_progress=False)
    assert not (tmp_path / "o").exists()


def test_temp_files_of_killed_writes_are_removed_from_the_cache(planted, tmp_path):
    """A run killed (SIGKILL, a real process) while writing an index leaves its temp file; the
    next run removes it once it is old, never a fresh one (that may be a live writer's)."""
    out = tmp_path / "out"
    cfg = write_cfg(tmp_path / "run.yaml", planted, out)
    assert run_cli("--config", cfg).returncode == 0
    index_dir = out / "cache" / "index"
    code = ("import sys, time; from align.common.fileio import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(b'x' * 100000); print('writing', flush=True); time.sleep(120)\n")
    left = []
    for name in ("src.dead.faiss", "tgt.live.faiss"):
        p = subprocess.Popen([sys.executable, "-c", code, str(index_dir / name)], stdout=subprocess.PIPE,
                             text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
        assert p.stdout.readline().strip() == "writing"
        p.send_signal(signal.SIGKILL)
        p.wait()
        (tmp,) = index_dir.glob(f".{name}.*.tmp")
        left.append(tmp)
    two_hours_ago = time.time() - 7200
    os.utime(left[0], (two_hours_ago, two_hours_ago))
    r = run_cli("--config", cfg)
    assert r.returncode == 0, r.stderr
    assert not left[0].exists() and left[1].exists()
