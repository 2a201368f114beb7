"""threshold: auto -- label-free thresholds (mixture and runner-up null) on synthetic scores and on
planted embeddings of two different margin scales."""

import json
import math

import numpy as np
import pytest

from align.mine.autothreshold import FALLBACK, decide, fit_mixture, mixture_cut, null_cut
from align.mine.demo import score_pairs
from align.mine.pipeline import mine
from align.mine.synth import PlantedSpec, make_planted

from test_mine_cli import run_cli


def _posterior_cut(w, m, s):
    """Oracle: where w1 N(m1,s1) = w0 N(m0,s0) between the means (bisection on the true densities)."""
    def diff(x):
        return (math.log(w[1]) - math.log(s[1]) - 0.5 * ((x - m[1]) / s[1]) ** 2
                - math.log(w[0]) + math.log(s[0]) + 0.5 * ((x - m[0]) / s[0]) ** 2)
    lo, hi = m[0], m[1]
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if diff(mid) < 0 else (lo, mid)
    return lo


@pytest.mark.parametrize("w,m,s", [((0.4, 0.6), (1.0, 1.3), (0.03, 0.05)),
                                   ((0.7, 0.3), (1.0, 1.06), (0.01, 0.015))])
def test_mixture_recovers_the_posterior_half_cut(w, m, s):
    rng = np.random.default_rng(0)
    n = 40000
    lab = rng.random(n) < w[1]
    v = np.where(lab, rng.normal(m[1], s[1], n), rng.normal(m[0], s[0], n))
    fit = fit_mixture(v)
    np.testing.assert_allclose(fit["means"], m, atol=0.1 * (m[1] - m[0]))
    assert abs(mixture_cut(fit) - _posterior_cut(w, m, s)) < 0.05 * (m[1] - m[0])


def test_null_cut_finds_the_f1_optimal_threshold_of_a_planted_mix():
    rng = np.random.default_rng(1)
    n0, n1 = 3000, 2000  # rows without / with a translation
    null_max = lambda n: rng.gumbel(1.0, 0.01, n)  # noqa: E731  best of many non-translations
    best = np.concatenate([null_max(n0), rng.normal(1.12, 0.03, n1)])
    runner = np.concatenate([null_max(n0) - 0.01, null_max(n1)])
    truth = np.concatenate([np.zeros(n0, bool), np.ones(n1, bool)])
    t, info = null_cut(best, runner)
    grid = np.unique(best)
    f1 = [2 * (truth & (best >= g)).sum() / ((best >= g).sum() + n1) for g in grid]
    f1_at = 2 * (truth & (best >= t)).sum() / ((best >= t).sum() + n1)
    assert f1_at >= 0.99 * max(f1)
    assert abs(info["estimated_true_pairs"] - n1) < 0.05 * n1


def test_decide_falls_back_when_nothing_can_be_fitted():
    d = decide(np.array([1.1, 1.2]), np.array([1.1]), np.array([1.0]), "mixture")
    assert d.method == "fallback" and d.threshold == FALLBACK and d.details["tried"] == ["mixture", "runner_up"]


def test_mixture_rejected_when_every_row_is_translated():
    rng = np.random.default_rng(2)
    best = rng.normal(1.5, 0.1, 2000)  # all translations, two bumps the fit could split
    best[:1000] += 0.3
    runner = rng.normal(0.9, 0.02, 2000)
    d = decide(best, best, runner, "mixture")
    assert d.method == "runner_up" and d.details["tried"] == ["mixture"]
    assert (best >= d.threshold).mean() > 0.99


def _f1(p, truth):
    sc = score_pairs(p, truth)
    return 2 * sc.precision * sc.recall / (sc.precision + sc.recall)


def _auto_vs_best(tmp_path, make_cfg, noise, method):
    data = make_planted(tmp_path / "d", PlantedSpec(n_src=1600, n_tgt=1600, dim=96, n_pairs=800, shard_rows=800,
                                                    seed=9, rank=64, translation_noise=noise))
    r = mine(make_cfg(data, with_aux=False, out="auto", auto_threshold=method), show_progress=False)[0]
    every = mine(make_cfg(data, with_aux=False, out="all", threshold=-10.0), show_progress=False)[0]
    # best F1 over thresholds: one_to_one is greedy in score order, so each threshold's output is
    # a prefix of the all-candidates output
    pairs = list(zip(every.pairs.src.tolist(), every.pairs.tgt.tolist()))
    correct = np.cumsum([p in data.pairs for p in pairs])
    best = float((2 * correct / (np.arange(1, len(pairs) + 1) + len(data.pairs))).max())
    s = json.loads((r.out_dir / "summary.json").read_text())
    assert s["threshold"]["method"] == method
    assert r.pairs.margin.min() >= s["threshold"]["threshold"] - 1e-6  # summary rounds to 6 decimals
    return _f1(r.pairs, data.pairs) / best, float(np.median(r.pairs.margin))


def test_auto_threshold_on_two_margin_scales(tmp_path, make_cfg):
    ratio_wide, wide = _auto_vs_best(tmp_path / "a", make_cfg, 0.45, "mixture")
    assert ratio_wide >= 0.95
    # noisier translations: true margins overlap the non-translations' tail. The runner-up null
    # holds; the mixture's F1 cut lands low (its translation component absorbs the null tail and
    # overestimates the number of translations; see algo.md), a known weakness bounded here
    ratio_null, narrow = _auto_vs_best(tmp_path / "b", make_cfg, 0.6, "runner_up")
    assert ratio_null >= 0.95
    ratio_mix, _ = _auto_vs_best(tmp_path / "c", make_cfg, 0.6, "mixture")
    assert ratio_mix >= 0.85
    assert wide > narrow + 0.02  # the two sets really have different margin scales


def test_plot_and_log_through_the_cli(planted, tmp_path):
    pytest.importorskip("matplotlib")
    import yaml

    from align.mine.demo import planted_config

    cfg = planted_config(planted, tmp_path / "out", with_aux=False, plot=True, cache_dir=str(tmp_path / "c"))
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(cfg))
    # key=value overrides before and after an option
    p = run_cli("--config", str(tmp_path / "run.yaml"), "auto_threshold=runner_up", "--no-progress", "knn=8")
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["threshold"]["method"] == "runner_up" and "estimated_f1" in s["threshold"]
    assert f"threshold {s['threshold']['threshold']:.4f} on margin" in p.stderr
    png = (tmp_path / "out" / "score_histogram.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    resolved = yaml.safe_load((tmp_path / "out" / "config.resolved.yaml").read_text())
    assert resolved["threshold"] == "auto" and resolved["knn"] == 8
