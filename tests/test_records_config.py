"""Library API: Utterance/.aligned round-trip, AlignConfig validation and hash, writer registry,
align_document on a planted document."""

import dataclasses
import json
import math

import pytest

from align.common.errors import UsageError, UserError
from align.config import AlignConfig, RunOptions
from align.records import Utterance, load_aligned
from align.writers import available_writers, get_writer, register_writer

from tests.test_cli_align import doc  # noqa: F401 (fixture: a GPL text and its planted tlog)


def _utt(**kw):
    base = dict(start=120.0, end=2350, transcript="the quick fox", text_start=5, text_end=19,
                meta={"reader": ["r1"]}, aligned_raw="The quick fox.", aligned="the quick fox", id="book-000003",
                metrics={"cer": 0.0, "tlen": 13}, extra={"words": [{"w": "the", "start": 120, "end": 300}]})
    base.update(kw)
    return Utterance(**base)


def test_utterance_round_trip_keeps_order_metrics_and_unknown_keys():
    u = _utt()
    d = u.to_dict()
    assert list(d) == ["start", "end", "transcript", "text-start", "text-end", "meta", "aligned-raw", "aligned",
                       "id", "cer", "tlen", "words"]
    back = Utterance.from_dict(json.loads(json.dumps(d)))
    assert back == u
    assert back.to_dict() == d and list(back.to_dict()) == list(d)


def test_load_aligned_validates_with_file_and_entry(tmp_path):
    good = tmp_path / "a.aligned"
    good.write_text(json.dumps([_utt().to_dict(), _utt(id="book-000004", start=2400, end=3000).to_dict()]))
    utts = load_aligned(good)
    assert [u.id for u in utts] == ["book-000003", "book-000004"]
    bad = tmp_path / "b.aligned"
    d = _utt().to_dict()
    del d["aligned-raw"]
    bad.write_text(json.dumps([_utt().to_dict(), d]))
    with pytest.raises(UserError, match=r"b\.aligned: entry 1: no \"aligned-raw\" key"):
        load_aligned(bad)
    d = _utt().to_dict()
    d["start"] = "soon"
    bad.write_text(json.dumps([d]))
    with pytest.raises(UserError, match=r"entry 0: \"start\" must be a number"):
        load_aligned(bad)
    bad.write_text(json.dumps({"start": 0}))
    with pytest.raises(UserError, match="must be a JSON list"):
        load_aligned(bad)


def test_config_hash_covers_outputs_only():
    base = AlignConfig()
    assert base.config_hash() == AlignConfig().config_hash()
    same = [
        base.replace(run=RunOptions(workers=4, show_progress=False, force=True, executor="serial")),
        base.replace(stt=dataclasses.replace(base.stt, workers=3)),
        base.replace(align=dataclasses.replace(base.align, text_context=40)),
    ]
    for c in same:
        assert c.config_hash() == base.config_hash()
    changed = [
        base.replace(align=dataclasses.replace(base.align, gap=dataclasses.replace(base.align.gap, stretch_fraction=0.3))),
        base.replace(vad=dataclasses.replace(base.vad, aggressiveness=2)),
        base.replace(pretty=True),
        base.replace(start=1),
        base.replace(meaningful_newlines=True),
    ]
    hashes = {c.config_hash() for c in changed}
    assert len(hashes) == len(changed) and base.config_hash() not in hashes


@pytest.mark.parametrize("change,msg", [
    (lambda c: c.replace(align=dataclasses.replace(c.align, gap=dataclasses.replace(c.align.gap, stretch_fraction=math.nan))),
     "--align-stretch-fraction must be a finite number"),
    (lambda c: c.replace(vad=dataclasses.replace(c.vad, max_duration_ms=50)), "--stt-max-duration"),
    (lambda c: c.replace(vad=dataclasses.replace(c.vad, offset_ms=math.inf)), "--audio-vad-offset"),
    (lambda c: c.replace(formats=("aligned", "nosuchformat")), "unknown output format 'nosuchformat'"),
    (lambda c: c.replace(run=RunOptions(workers=0)), "--workers"),
])
def test_config_is_validated_when_built(change, msg):
    with pytest.raises(UsageError, match=msg):
        change(AlignConfig())


def test_writer_registry(tmp_path):
    assert "aligned" in available_writers()
    w = get_writer("aligned")
    assert w.suffix == ".aligned"
    with pytest.raises(UsageError, match="unknown output format 'nope'.*aligned"):
        get_writer("nope")

    @register_writer("test_lines", suffix=".lines")
    def write_lines(path, doc):
        path.write_text("".join(u.aligned + "\n" for u in doc.utterances))

    assert get_writer("test_lines").write is write_lines
    with pytest.raises(ValueError, match="registered twice"):
        register_writer("test_lines", suffix=".x")(lambda p, d: None)


def test_align_document_result_ids_and_extra_writer(doc, tmp_path):  # noqa: F811
    from align.pipeline import DocumentJob, align_document

    @register_writer("test_ids", suffix=".ids")
    def write_ids(path, d):
        path.write_text("\n".join(u.id for u in d.utterances) + "\n")

    def add_len(ctx):  # a caller's post-processing hook: a new key that must reach the file
        for u in ctx.utterances:
            u.extra["chars"] = len(u.aligned_raw)

    cfg = AlignConfig(formats=("aligned", "test_ids"), run=RunOptions(show_progress=False))
    job = DocumentJob(script=doc / "book.txt", aligned=tmp_path / "out.aligned", tlog=doc / "book.tlog")
    r = align_document(job, cfg, hooks=[add_len])
    tlog = json.loads((doc / "book.tlog").read_text())
    assert r.fragments == len(tlog) == len(r.utterances) and r.dropped == []
    assert [u.id for u in r.utterances] == [f"book-{k:06d}" for k in range(len(tlog))]
    assert r.outputs == {"aligned": tmp_path / "out.aligned", "test_ids": tmp_path / "out.ids"}
    loaded = load_aligned(tmp_path / "out.aligned")
    assert loaded == r.utterances and all(u.extra["chars"] == len(u.aligned_raw) for u in loaded)
    assert (tmp_path / "out.ids").read_text().split() == [u.id for u in r.utterances]
    assert r.audio_seconds == tlog[-1]["end"] / 1000 and r.config_hash == cfg.config_hash()

    # a filter drops everything: each dropped fragment carries its reason
    from align.text.metrics import Bound

    f = dataclasses.replace(cfg.align.filters, bounds=(Bound("tlen", None, 0),))
    r2 = align_document(job, cfg.replace(align=dataclasses.replace(cfg.align, filters=f)), write=False)
    assert r2.utterances == [] and [d.reason for d in r2.dropped] == ["tlen above 0"] * len(tlog)
    assert [d.fragment for d in r2.dropped] == list(range(len(tlog)))


def test_every_config_field_but_run_options_is_hashed():
    cfg = AlignConfig()
    names = {f.name for f in dataclasses.fields(cfg)} - {"run", "alphabet"}
    assert names <= set(cfg.output_dict())
    assert cfg.output_dict()["alphabet_sha256"]


def test_done_stamp_checks_inputs_and_outputs_anywhere(tmp_path):
    from align.pipeline import DocumentJob
    from align.resume import done_counts, write_stamp

    (tmp_path / "a.txt").write_text("text")
    (tmp_path / "a.tlog").write_text("[]")
    (tmp_path / "out").mkdir()
    (tmp_path / "grids").mkdir()
    job = DocumentJob(script=tmp_path / "a.txt", aligned=tmp_path / "out" / "a.aligned", tlog=tmp_path / "a.tlog")
    job.aligned.write_text("[]\n")
    grid = tmp_path / "grids" / "a.TextGrid"   # an output outside the .aligned file's directory
    grid.write_text("grid")
    write_stamp(job, "h1", {"aligned": job.aligned, "textgrid": grid}, {"utterances": 0})
    assert done_counts(job, "h1") == {"utterances": 0}
    assert done_counts(job, "h2") is None                      # another config
    grid.write_text("grid, edited")
    assert done_counts(job, "h1") is None                      # an output changed
    grid.write_text("grid")
    (tmp_path / "a.txt").write_text("text, edited")
    assert done_counts(job, "h1") is None                      # an input changed
