"""AutoPCP aux scorer: the missing-torch error, file resolution, and the comparator's scoring
(built from a state dict of numpy arrays: the checkpoint unpickling is the only torch part)."""

import importlib.util
import sys

import numpy as np
import pytest

from align.common.errors import MissingDependencyError, UserError
from align.mine import autopcp
from align.mine.autopcp import Comparator, load_comparator, resolve_files
from align.mine.pipeline import mine

HAS_TORCH = importlib.util.find_spec("torch") is not None


def _files(tmp_path, name="AutoPCP_test"):
    (tmp_path / f"{name}.config").write_bytes(b"x")
    (tmp_path / f"{name}.pt").write_bytes(b"x")
    return tmp_path


def test_resolve_files(tmp_path):
    d = _files(tmp_path)
    assert resolve_files(d) == (d / "AutoPCP_test.config", d / "AutoPCP_test.pt")
    assert resolve_files(d / "AutoPCP_test.pt")[0] == d / "AutoPCP_test.config"
    (d / "AutoPCP_test.pt").unlink()
    with pytest.raises(UserError, match="AutoPCP_test.pt' not found"):
        resolve_files(d)
    with pytest.raises(UserError, match="exactly one"):
        resolve_files(_empty(tmp_path))


def _empty(tmp_path):
    e = tmp_path / "empty"
    e.mkdir()
    return e


@pytest.mark.skipif(HAS_TORCH, reason="torch is installed")
def test_missing_torch_is_a_clear_error(tmp_path):
    with pytest.raises(MissingDependencyError, match="pip install torch"):
        load_comparator(_files(tmp_path))


def test_missing_torch_through_the_cli(planted, tmp_path, monkeypatch):
    # torch hidden even where it is installed: the run stops with the install hint, no traceback
    from test_mine_cli import assert_one_line_error, run_cli
    import yaml
    from align.mine.demo import planted_config

    if HAS_TORCH:
        pytest.skip("torch installed; covered by the library test with a fake import failure")
    raw = planted_config(planted, tmp_path / "out", aux_scorer="autopcp", autopcp_path=str(_files(tmp_path)))
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(raw))
    assert_one_line_error(run_cli("--config", str(tmp_path / "r.yaml")), "autopcp", "pip install torch")


def _toy_comparator(dim, rng, symmetrize=True):
    # input_form qe: [src, mt, src*mt, |mt-src|] -> 8 hidden (tanh) -> 1
    state = {"mlp.0.weight": rng.standard_normal((8, 4 * dim)).astype(np.float32) * 0.3,
             "mlp.0.bias": np.zeros(8, np.float32),
             "mlp.2.weight": rng.standard_normal((1, 8)).astype(np.float32),
             "mlp.2.bias": np.array([2.5], np.float32)}
    config = {"input_form": "qe", "norm_emb": True, "activation": "TANH", "output_act": None, "idim": dim}
    return Comparator.from_state(config, state, symmetrize=symmetrize), state


def test_comparator_scoring_matches_hand_computation():
    rng = np.random.default_rng(0)
    comp, st = _toy_comparator(5, rng, symmetrize=False)
    q = rng.standard_normal((3, 5)).astype(np.float32)
    c = rng.standard_normal((3, 2, 5)).astype(np.float32)
    got = comp.score(q, c)
    for i in range(3):
        for j in range(2):
            s = q[i] / np.linalg.norm(q[i])
            t = c[i, j] / np.linalg.norm(c[i, j])
            h = np.tanh(st["mlp.0.weight"] @ np.concatenate([s, t, s * t, np.abs(t - s)]) + st["mlp.0.bias"])
            pcp = (st["mlp.2.weight"] @ h + st["mlp.2.bias"])[0]
            assert got[i, j] == pytest.approx((pcp - 1) / 3, abs=1e-5)
    sym, _ = _toy_comparator(5, np.random.default_rng(0), symmetrize=True)
    both = sym.score(q, c)
    swapped = comp.predict(c, np.broadcast_to(q[:, None], c.shape))
    np.testing.assert_allclose(both, ((comp.predict(np.broadcast_to(q[:, None], c.shape), c) + swapped) / 2 - 1) / 3,
                               rtol=1e-5)


def test_comparator_wrong_input_size_is_a_user_error():
    comp, _ = _toy_comparator(5, np.random.default_rng(0))
    with pytest.raises(UserError, match="expects 20"):
        comp.score(np.ones((1, 4), np.float32), np.ones((1, 2, 4), np.float32))


def test_blend_with_a_comparator_scorer(planted, make_cfg, monkeypatch):
    # the pipeline path with aux_scorer autopcp, the checkpoint loader replaced by the toy comparator
    rng = np.random.default_rng(1)
    comp, _ = _toy_comparator(planted.spec.aux_dim, rng)
    monkeypatch.setattr(autopcp, "load_comparator", lambda path, sym=True: comp)
    cfg = make_cfg(planted, out="pcp", aux_scorer="autopcp", autopcp_path="unused", dedup="none")
    res = mine(cfg, show_progress=False)[0]
    assert np.isfinite(res.pairs.aux).all()
    # the aux column is the comparator's score of the chosen pair
    from align.mine.shards import gather_rows, open_shards

    sx = open_shards(planted.src_aux_glob, "a")
    sy = open_shards(planted.tgt_aux_glob, "b")
    i = np.arange(0, len(res.pairs), 37)
    want = comp.score(gather_rows(sx, res.pairs.src[i]), gather_rows(sy, res.pairs.tgt[i])[:, None, :])[:, 0]
    fwd = res.pairs.direction[i] != 2  # backward picks score (tgt, src) the other way round
    np.testing.assert_allclose(res.pairs.aux[i][fwd], want[fwd], rtol=1e-4, atol=1e-5)


def test_missing_ray_is_a_clear_error(planted, make_cfg, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError, installed or not
    with pytest.raises(MissingDependencyError, match="pip install 'ray"):
        mine(make_cfg(planted, out="r", executor="ray"), show_progress=False)


def test_load_comparator_files_with_a_stand_in_for_torch_load(tmp_path, monkeypatch):
    # torch cannot be installed here; a stand-in module whose load() unpickles exercises the
    # rest of the real loading code (file resolution, "model" wrapper, config, layer order).
    import pickle
    import types

    rng = np.random.default_rng(2)
    comp, state = _toy_comparator(6, rng)
    config = {"input_form": "qe", "norm_emb": True, "activation": "TANH", "output_act": None}
    (tmp_path / "AutoPCP_toy.config").write_bytes(pickle.dumps(config))
    (tmp_path / "AutoPCP_toy.pt").write_bytes(pickle.dumps({"model": state}))
    fake = types.ModuleType("torch")
    fake.load = lambda path, map_location=None, weights_only=None: pickle.loads(open(path, "rb").read())
    monkeypatch.setitem(sys.modules, "torch", fake)
    loaded = load_comparator(tmp_path / "AutoPCP_toy.config", symmetrize=True)
    q = rng.standard_normal((4, 6)).astype(np.float32)
    c = rng.standard_normal((4, 3, 6)).astype(np.float32)
    np.testing.assert_allclose(loaded.score(q, c), comp.score(q, c), rtol=1e-6)
    (tmp_path / "AutoPCP_toy.pt").write_bytes(pickle.dumps({"model": {"x": np.ones(3)}}))
    with pytest.raises(UserError, match="no linear layers"):
        load_comparator(tmp_path)
