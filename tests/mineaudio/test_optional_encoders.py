"""Optional engines: SONAR through an adapter test with a stand-in `sonar` module (sonar-space
cannot be installed next to this project's torch), wav2vec2-pooled with a tiny model made here,
AutoPCP comparators made here in the reference's file format, and the messages when the packages
are missing."""

import importlib.util
import pickle
import sys
import types

import numpy as np
import pytest
from tests.mineaudio.signals import RATE, voiced

from align.common.errors import MissingDependencyError, UsageError, UserError
from align.mine.embed.base import EncoderSpec, build
from align.mine.embed.run import EmbedOptions, embed_shards
from align.mine.segment import Segment, write_shard

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed (pip install torch==2.13.0)")


# --------------------------------------------------------------------------------------------- SONAR

class FakePipeline:
    """Stands in for sonar's SpeechToEmbeddingModelPipeline: records what it is given and returns
    a vector that encodes the input (its length and mean) so the test can check the row order."""

    created: list = []

    def __init__(self, encoder, device, fbank_dtype):
        self.calls = []
        FakePipeline.created.append(self)
        self.encoder, self.device, self.fbank_dtype = encoder, device, fbank_dtype

    def predict(self, input, batch_size=3, n_parallel=1, pad_idx=0):
        import torch

        self.calls.append([tuple(t.shape) for t in input])
        assert batch_size == len(input)
        out = torch.zeros(len(input), 1024)
        for i, t in enumerate(input):
            out[i, 0] = t.shape[1]
            out[i, 1] = t.mean()
        return out


@pytest.fixture
def fake_sonar(monkeypatch):
    mod = types.ModuleType("sonar.inference_pipelines.speech")
    mod.SpeechToEmbeddingModelPipeline = FakePipeline
    for name in ("sonar", "sonar.inference_pipelines"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "sonar.inference_pipelines.speech", mod)
    FakePipeline.created = []
    return FakePipeline


@needs_torch
def test_sonar_adapter_loading_and_batching(fake_sonar, tmp_path):
    import torch

    from tests.mineaudio.signals import write_wav

    lengths_s = [1.0, 4.0, 2.5, 0.5, 4.0, 3.0]
    parts, segs, pos = [], [], 0
    for i, d in enumerate(lengths_s):
        x = voiced(100 + 20 * i, d, amp=0.1 + 0.05 * i)
        segs.append(Segment(str(tmp_path / "a.wav"), pos, pos + len(x), {}))
        parts.append(x)
        pos += len(x)
    write_wav(tmp_path / "a.wav", np.concatenate(parts))
    write_shard(tmp_path / "s.000.tsv", segs)
    spec = EncoderSpec("sonar", lang="spa", batch_seconds=8.0)
    s = embed_shards(str(tmp_path / "s.000.tsv"), tmp_path / "e", spec, EmbedOptions(show_progress=False))
    assert s.ok
    (pipe,) = fake_sonar.created
    assert pipe.encoder == "sonar_speech_encoder_spa"
    assert pipe.device == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert pipe.fbank_dtype == (torch.float16 if torch.cuda.is_available() else torch.float32)
    # (1, samples) tensors; batches of similar length, padded size within 8 s of audio
    for call in pipe.calls:
        assert all(shape[0] == 1 for shape in call)
        assert max(sh[1] for sh in call) * len(call) <= 8 * RATE or len(call) == 1
    assert [len(c) for c in pipe.calls] == [2, 2, 2]
    assert pipe.calls[0] == [(1, 4 * RATE), (1, 4 * RATE)]
    v = np.load(tmp_path / "e.000.npy")
    assert v.shape == (6, 1024)
    np.testing.assert_array_equal(v[:, 0], [s.end - s.start for s in segs])   # rows back in segment order


def test_sonar_language_and_missing_package(monkeypatch):
    with pytest.raises(UsageError, match="--lang 'xx'"):
        EncoderSpec("sonar", lang="xx").validate()
    with pytest.raises(UsageError, match="needs --lang"):
        EncoderSpec("sonar").validate()
    monkeypatch.setitem(sys.modules, "sonar", None)
    monkeypatch.setitem(sys.modules, "sonar.inference_pipelines.speech", None)
    with pytest.raises(MissingDependencyError, match="own environment"):
        build(EncoderSpec("sonar", lang="eng"))


def test_cli_sonar_missing_is_one_line(tmp_path, monkeypatch):
    import os
    import subprocess

    write_shard(tmp_path / "s.000.tsv", [Segment("a.wav", 0, RATE, {})])
    if importlib.util.find_spec("sonar") is not None:
        pytest.skip("sonar-space is installed here")
    r = subprocess.run([sys.executable, "-m", "align.cli.mine", "embed", "--segments", str(tmp_path / "s.000.tsv"),
                        "--out", str(tmp_path / "e"), "--encoder", "sonar", "--lang", "spa", "--no-progress"],
                       capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "--encoder sonar" in r.stderr and "sonar-space" in r.stderr and "own environment" in r.stderr


def test_torch_missing_messages(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)   # import torch -> ImportError, installed or not
    from align.mine.autopcp import load_comparator

    (tmp_path / "c.config").write_bytes(b"x")
    (tmp_path / "c.pt").write_bytes(b"x")
    with pytest.raises(MissingDependencyError, match="pip install torch==2.13.0"):
        load_comparator(tmp_path)
    d = tmp_path / "w2v"
    d.mkdir()
    for n in ("config.json", "model.safetensors", "preprocessor_config.json"):
        (d / n).write_text("{}")
    with pytest.raises(MissingDependencyError, match="torch"):
        build(EncoderSpec("wav2vec2-pooled", model_dir=str(d)))


def test_wav2vec2_model_dir_checks(tmp_path):
    with pytest.raises(UsageError, match="needs --model-dir"):
        EncoderSpec("wav2vec2-pooled").validate()
    with pytest.raises(UserError, match="not a directory"):
        build(EncoderSpec("wav2vec2-pooled", model_dir=str(tmp_path / "nope")))
    with pytest.raises(UserError, match="no config.json"):
        build(EncoderSpec("wav2vec2-pooled", model_dir=str(tmp_path)))


# --------------------------------------------------------------------------------------------- wav2vec2

@pytest.fixture(scope="module")
def tiny_w2v(tmp_path_factory):
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import torch

    cfg = transformers.Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, conv_dim=(16, 16),
        conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        feat_extract_norm="layer", do_stable_layer_norm=True)
    torch.manual_seed(0)
    model = transformers.Wav2Vec2Model(cfg).eval()
    fex = transformers.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=RATE, padding_value=0.0,
                                                do_normalize=True, return_attention_mask=True)
    d = tmp_path_factory.mktemp("w2v")
    model.save_pretrained(str(d))
    fex.save_pretrained(str(d))
    return d, model, fex


def test_wav2vec2_pooled_matches_the_full_model_one_by_one(tiny_w2v):
    import torch

    d, model, fex = tiny_w2v
    enc = build(EncoderSpec("wav2vec2-pooled", model_dir=str(d), layer=2, batch_seconds=10.0, device="cpu"))
    assert len(enc.model.encoder.layers) == 3 and enc.dim == 32
    waves = [voiced(120, 1.0), voiced(200, 0.4, syl_rate=4), voiced(90, 0.7, seed=3)]
    got = enc.encode(waves)
    for i, w in enumerate(waves):   # oracle: the untruncated model, each segment alone (no padding)
        inp = fex(w, sampling_rate=RATE, return_tensors="pt")
        with torch.inference_mode():
            want = model(**inp, output_hidden_states=True).hidden_states[2][0].mean(0).numpy()
        np.testing.assert_allclose(got[i], want, rtol=1e-3, atol=1e-4)
    with pytest.raises(UserError, match="--layer 9: the model"):
        build(EncoderSpec("wav2vec2-pooled", model_dir=str(d), layer=9))


# --------------------------------------------------------------------------------------------- AutoPCP

def _torch_comparator(idim, output_act, seed=0, norm_emb=True):
    """A comparator in the reference's layout: mlp = Dropout, Linear, Tanh, Dropout, Linear(, Tanh)."""
    import torch

    torch.manual_seed(seed)
    layers = [torch.nn.Dropout(0.1), torch.nn.Linear(4 * idim, 8), torch.nn.Tanh(), torch.nn.Dropout(0.1),
              torch.nn.Linear(8, 1)]
    if output_act:
        layers.append(torch.nn.Tanh())
    m = torch.nn.Module()
    m.mlp = torch.nn.Sequential(*layers)
    config = {"input_form": "qe", "dropout": 0.1, "idim": idim, "odim": 1, "nhid": [8], "activation": "TANH",
              "norm_emb": norm_emb, "output_act": output_act, "trainable_pooler": False}
    return m.eval(), config


def _torch_predict(m, config, src, mt):
    import torch
    import torch.nn.functional as F

    s, t = torch.tensor(src), torch.tensor(mt)
    if config["norm_emb"]:
        s, t = F.normalize(s, dim=-1), F.normalize(t, dim=-1)
    with torch.no_grad():
        return m.mlp(torch.cat([s, t, s * t, (t - s).abs()], -1))[..., 0].numpy()


@needs_torch
@pytest.mark.parametrize("output_act,norm_emb", [(False, True), (True, False)])
def test_autopcp_comparator_load_and_batch_scoring(tmp_path, output_act, norm_emb):
    import torch

    from align.mine.autopcp import load_comparator

    m, config = _torch_comparator(6, output_act, norm_emb=norm_emb)
    torch.save(m.state_dict(), tmp_path / "AutoPCP_test.pt")
    torch.save(config, tmp_path / "AutoPCP_test.config")
    comp = load_comparator(tmp_path, symmetrize=True)
    rng = np.random.default_rng(1)
    q = rng.standard_normal((5, 6)).astype(np.float32) * 3
    c = rng.standard_normal((5, 4, 6)).astype(np.float32)
    got = comp.score(q, c)                              # all 20 pairs in one call
    qb = np.broadcast_to(q[:, None], c.shape).copy()
    pcp = (_torch_predict(m, config, qb, c) + _torch_predict(m, config, c, qb)) / 2
    np.testing.assert_allclose(got, (pcp - 1) / 3, rtol=1e-4, atol=1e-5)
    one_way = load_comparator(tmp_path / "AutoPCP_test.config", symmetrize=False).score(q, c)
    np.testing.assert_allclose(one_way, (_torch_predict(m, config, qb, c) - 1) / 3, rtol=1e-4, atol=1e-5)


class _Evil:
    def __reduce__(self):
        return (print, ("this would have run",))


@needs_torch
def test_autopcp_refuses_pickles_with_code(tmp_path):
    import torch

    from align.mine.autopcp import load_comparator

    m, config = _torch_comparator(4, False)
    torch.save(m.state_dict(), tmp_path / "x.pt")
    (tmp_path / "x.config").write_bytes(pickle.dumps({"input_form": "qe", "payload": _Evil()}))
    with pytest.raises(UserError, match="refusing comparator config .*could run code"):
        load_comparator(tmp_path)
    config["trainable_pooler"] = True
    torch.save(config, tmp_path / "x.config")
    with pytest.raises(UserError, match="trainable pooler"):
        load_comparator(tmp_path)


@needs_torch
def test_autopcp_aux_scorer_on_wav2vec2_pooled_shards(tiny_w2v, tmp_path):
    """mine with aux_scorer autopcp over `mine embed --encoder wav2vec2-pooled` shards: the aux column
    is the comparator's score of the chosen pair, computed by torch on the stored (raw) features."""
    import torch
    from tests.mineaudio.test_embed import _audio_with_segments

    from align.mine.config import build_config
    from align.mine.pipeline import mine

    d, _, _ = tiny_w2v
    order = [3, 7, 0, 5, 1, 6, 2, 4]
    for lang, o in (("src", range(8)), ("tgt", order)):
        write_shard(tmp_path / "seg" / f"{lang}.000.tsv", _audio_with_segments(tmp_path, lang, o))
        glob = str(tmp_path / "seg" / f"{lang}.000.tsv")
        for enc, spec in (("pro", EncoderSpec("prosody")),
                          ("w2v", EncoderSpec("wav2vec2-pooled", model_dir=str(d), layer=2, device="cpu"))):
            assert embed_shards(glob, tmp_path / enc / lang, spec, EmbedOptions(show_progress=False)).ok
    m, config = _torch_comparator(32, False, norm_emb=False)
    torch.save(m.state_dict(), tmp_path / "cmp.pt")
    torch.save(config, tmp_path / "cmp.config")
    langs = {lang: {"existing_embedding_glob": str(tmp_path / "pro" / f"{lang}.000.npy"),
                    "existing_aux_embedding_glob": str(tmp_path / "w2v" / f"{lang}.000.npy")} for lang in ("src", "tgt")}
    cfg = build_config({"src_lang": "src", "tgt_lang": "tgt", "lang_configs": langs, "knn": 4, "threshold": 0.5,
                        "alpha": 0.9, "aux_scorer": "autopcp", "autopcp_path": str(tmp_path / "cmp.config"),
                        "output_dir": str(tmp_path / "out")}, "test")
    res = mine(cfg, show_progress=False)[0]
    assert len(res.pairs) >= 4
    xs, ys = np.load(tmp_path / "w2v" / "src.000.npy"), np.load(tmp_path / "w2v" / "tgt.000.npy")
    for i, j, aux, direction in zip(res.pairs.src, res.pairs.tgt, res.pairs.aux, res.pairs.direction):
        a, b = (xs[i], ys[j]) if direction != 2 else (ys[j], xs[i])
        pcp = (_torch_predict(m, config, a[None], b[None])[0] + _torch_predict(m, config, b[None], a[None])[0]) / 2
        assert aux == pytest.approx((pcp - 1) / 3, abs=1e-4)
