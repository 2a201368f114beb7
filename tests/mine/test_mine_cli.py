"""The `mine` command: config errors are one line naming file and key (no traceback), the
default config round-trips, a real run and the demo work."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from align.mine.config import MineConfig, build_config, default_config_text

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "align.cli.mine", *args], capture_output=True, text=True,
                          env=env, cwd=cwd)


def write_shards(d: Path, prefix: str, sizes, dim=16, dtype="float16", seed=0):
    rng = np.random.default_rng(seed)
    d.mkdir(parents=True, exist_ok=True)
    for i, n in enumerate(sizes):
        np.save(d / f"{prefix}.{i:03d}.npy", rng.standard_normal((n, dim)).astype(dtype))
    return str(d / f"{prefix}.[0-9][0-9][0-9].npy")


@pytest.fixture
def setup(tmp_path):
    """A valid config file; tests break one thing at a time."""
    data = tmp_path / "data"
    write_shards(data, "en_emb", [30, 20], seed=1)
    write_shards(data, "fr_emb", [25, 25], seed=2)
    write_shards(data, "en_aux", [30, 20], dim=8, seed=3)
    write_shards(data, "fr_aux", [25, 25], dim=8, seed=4)
    raw = {
        "data_dir": str(data),
        "src_lang": "en",
        "tgt_lang": "fr",
        "output_dir": str(tmp_path / "out"),
        "lang_configs": {
            "en": {"existing_embedding_glob": "${data_dir}/en_emb.[0-9][0-9][0-9].npy",
                   "existing_aux_embedding_glob": "${data_dir}/en_aux.[0-9][0-9][0-9].npy"},
            "fr": {"existing_embedding_glob": "${data_dir}/fr_emb.[0-9][0-9][0-9].npy",
                   "existing_aux_embedding_glob": "${data_dir}/fr_aux.[0-9][0-9][0-9].npy"},
        },
        "knn": 4,
    }

    def write(mutate=None):
        r = yaml.safe_load(yaml.safe_dump(raw))
        if mutate:
            mutate(r)
        path = tmp_path / "run.yaml"
        path.write_text(yaml.safe_dump(r))
        return path

    return write, data, tmp_path


def assert_one_line_error(proc, *needles, code=1):
    assert proc.returncode == code, proc.stderr
    err = proc.stderr.strip()
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("mine: error:")]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_valid_config_runs(setup):
    write, _, tmp = setup
    p = run_cli("--config", str(write()), "--no-progress", "--loglevel", "WARNING")
    assert p.returncode == 0, p.stderr
    assert "en-fr:" in p.stdout
    assert (tmp / "out" / "pairs.tsv.gz").exists() and (tmp / "out" / "summary.json").exists()
    resolved = yaml.safe_load((tmp / "out" / "config.resolved.yaml").read_text())
    assert resolved["lang_configs"]["en"]["existing_embedding_glob"].startswith(str(tmp / "data"))


def test_unknown_key(setup):
    write, _, _ = setup
    path = write(lambda r: r.update(knn_size=3))
    assert_one_line_error(run_cli("--config", str(path)), str(path), "knn_size")


def test_unknown_lang_key(setup):
    write, _, _ = setup
    path = write(lambda r: r["lang_configs"]["fr"].update(embedding_glob="x"))
    assert_one_line_error(run_cli("--config", str(path)), str(path), "lang_configs.fr.embedding_glob")


def test_wrong_type(setup):
    write, _, _ = setup
    path = write(lambda r: r.update(knn="sixteen"))
    assert_one_line_error(run_cli("--config", str(path)), str(path), "knn", "integer")
    path = write(lambda r: r.update(mine_type="both"))
    assert_one_line_error(run_cli("--config", str(path)), "mine_type", "forward|backward|union|intersection")


def test_override_errors(setup):
    write, _, _ = setup
    path = write()
    assert_one_line_error(run_cli("--config", str(path), "knn=abc"), "override knn", "integer")
    assert_one_line_error(run_cli("--config", str(path), "nosuch=1"), "override", "nosuch")
    assert_one_line_error(run_cli("--config", str(path), "lang_configs.en.index=Flat"), "lang_configs.en.index")


def test_missing_glob_match(setup):
    write, data, _ = setup
    path = write(lambda r: r["lang_configs"]["fr"].update(existing_embedding_glob="${data_dir}/nope.*.npy"))
    assert_one_line_error(run_cli("--config", str(path)), "lang_configs.fr.existing_embedding_glob",
                          f"{data}/nope.*.npy")


def test_mismatched_aux_rows(setup):
    write, data, _ = setup
    np.save(data / "fr_aux.001.npy", np.zeros((24, 8), np.float16))
    assert_one_line_error(run_cli("--config", str(write())), "fr_aux.001.npy", "fr_emb.001.npy", "24", "25")


def test_wrong_dimension(setup):
    write, data, _ = setup
    write_shards(data, "fr_emb", [25, 25], dim=12, seed=2)
    assert_one_line_error(run_cli("--config", str(write())), "lang_configs.fr.existing_embedding_glob",
                          "dimension 12", "16")


def test_mixed_dtype_and_shard_names(setup):
    write, data, _ = setup
    np.save(data / "fr_emb.001.npy", np.zeros((25, 16), np.float32))
    assert_one_line_error(run_cli("--config", str(write())), "float32", "float16")
    np.save(data / "fr_emb.001.npy", np.zeros((25, 16), np.float16))
    path = write(lambda r: r["lang_configs"]["fr"].update(existing_embedding_glob="${data_dir}/fr_emb*.npy"))
    np.save(data / "fr_emb.extra.npy", np.zeros((5, 16), np.float16))
    assert_one_line_error(run_cli("--config", str(path)), "fr_emb.extra.npy", ".NNN.")


def test_bad_variable_and_yaml(setup, tmp_path):
    write, _, _ = setup
    path = write(lambda r: r.update(output_dir="${out_dir}/x"))
    assert_one_line_error(run_cli("--config", str(path)), "output_dir", "${out_dir}")
    bad = tmp_path / "bad.yaml"
    bad.write_text("knn: 4\n  alpha: [1\n")
    assert_one_line_error(run_cli("--config", str(bad)), str(bad), "invalid YAML")
    assert_one_line_error(run_cli("--config", str(tmp_path / "missing.yaml")), "missing.yaml", "not found")


def test_usage_error_without_config():
    assert_one_line_error(run_cli(), "--config", code=2)


def test_default_config_round_trips():
    text = default_config_text()
    raw = yaml.safe_load(text)
    cfg = build_config(raw, "default")
    defaults = MineConfig()
    for f in dataclasses.fields(MineConfig):
        if f.name not in ("data_dir", "src_lang", "tgt_lang", "output_dir", "lang_configs"):
            assert getattr(cfg, f.name) == getattr(defaults, f.name), f.name
    assert cfg.lang_configs["en"].existing_embedding_glob == "/path/to/data/embeddings/en_emb.[0-9][0-9][0-9].npy"
    assert text.count("\n# ") >= len(dataclasses.fields(MineConfig)) - 1  # every key commented
    p = run_cli("--write-default-config")
    assert p.returncode == 0 and p.stdout == text


def test_demo_runs_and_reports(tmp_path):
    p = run_cli("--demo", "--demo-dir", str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "recall" in p.stdout and "precision" in p.stdout
    line = [ln for ln in p.stdout.splitlines() if "margin + aux blend" in ln][0]
    recall = float(line.split("recall ")[1].split(",")[0])
    precision = float(line.split("precision ")[1].split(",")[0])
    assert recall >= 0.98 and precision >= 0.98


def test_example_config_is_valid():
    from align.mine.config import load_config

    cfg = load_config(REPO / "configs" / "mine-example.yaml", ["data_dir=/data"])
    assert cfg.lang_configs["en"].existing_embedding_glob.startswith("/data/")
