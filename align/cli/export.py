"""`align-export`: training sets (clips + manifests, or tar shards) or subtitles from aligned audio."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from ..common.errors import UsageError, UserError
from .common import add_logging_options, run_main, setup_logging

log = logging.getLogger("align.export")


def _positive_int(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {v!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {v!r}")
    return n


def _values(v: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in v.split(",") if x.strip())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="align-export", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Cut aligned utterances out of their audio and write training lists (DeepSpeech/Coqui CSV, "
        "NeMo JSONL, lhotse JSONL) to a directory or WebDataset tar shards, or write subtitles.",
        epilog="Expressions (--filter, --criteria) use: numbers, 'strings', and or not, < <= > >= == != in, "
        "+ - * / % **, functions abs min max round len sqrt log exp lower upper words; fields: start end (ms), "
        "duration (s), transcript aligned raw text_start text_end text_length index doc id, the metrics in the "
        "file (cer wer sws wng ...), meta.KEY; --filter also sees quality.",
    )
    g = p.add_argument_group("input")
    g.add_argument("--catalog", type=Path, help="JSON list of {audio, aligned, ...} (paths relative to the catalog)")
    g.add_argument("--audio", type=Path, help="source audio of one document (with --aligned)")
    g.add_argument("--aligned", type=Path, help=".aligned file of one document (with --audio)")
    g.add_argument("--ignore-missing", action="store_true", help="skip catalog entries whose audio or aligned file is missing")

    g = p.add_argument_group("selection")
    g.add_argument("--filter", default=None, metavar="EXPR", help="drop utterances for which EXPR is true, e.g. "
                   "\"cer > 0.15 or duration > 20\"")
    g.add_argument("--criteria", default=None, metavar="EXPR", help="quality of an utterance (a number; default 1), "
                   "e.g. \"1 - cer\"; used by --partition and --debias")
    g.add_argument("--partition", action="append", default=[], metavar="NUMBER:NAME",
                   help="quality partition (repeatable): an utterance goes to the highest partition whose NUMBER "
                   "its quality reaches, else to 'other'")
    g.add_argument("--debias", action="append", default=[], metavar="FIELD",
                   help="meta field (repeatable) whose over-represented values are capped")
    g.add_argument("--debias-sigma-factor", type=float, default=3.0,
                   help="cap = mean + FACTOR * standard deviation of the per-value utterance counts")
    g.add_argument("--split", action="store_true", help="split every partition (not 'other') into train/dev/test")
    g.add_argument("--split-field", default=None, metavar="FIELD", help="meta field kept atomic across the sets (e.g. speaker)")
    g.add_argument("--split-seed", type=int, default=0, help="seed of the shuffle without --split-field")
    g.add_argument("--split-drop-multiple", action="store_true", help="drop utterances with several split-field values")
    g.add_argument("--split-drop-unknown", action="store_true", help="drop utterances without a split-field value")
    for st in ("train", "dev", "test"):
        g.add_argument(f"--assign-{st}", type=_values, default=(), metavar="V1,V2",
                       help=f"split-field values that go to {st}")

    g = p.add_argument_group("output")
    g.add_argument("--target-dir", type=Path, help="directory for LIST/ID.wav clips and the manifests")
    g.add_argument("--target-tar", type=Path, help="NAME.tar: WebDataset shards NAME-LIST-000000.tar (ID.wav, ID.txt, ID.json)")
    g.add_argument("--shard-size", type=_positive_int, default=1000, help="samples per tar shard")
    g.add_argument("--output-format", choices=("clips", "srt", "vtt"), default="clips",
                   help="clips and manifests, or one subtitle file per document")
    g.add_argument("--subtitle-timing", choices=("chars", "words", "lines", "karaoke"), default="chars",
                   help="with --output-format srt|vtt: cue times shared by characters, or from the word timings "
                   "the .aligned files carry (align --output-words)")
    g.add_argument("--manifests", type=_values, default=("csv", "nemo", "lhotse"),
                   help="manifests per list: csv (LIST.csv), nemo (LIST.jsonl), lhotse (LIST.recordings/supervisions.jsonl)")
    g.add_argument("--original-text", action="store_true",
                   help="also write the original text (a CSV column; ID.original.txt in tar shards)")
    g.add_argument("--rate", type=_positive_int, default=16000, help="sample rate of the clips (Hz)")
    g.add_argument("--channels", type=_positive_int, default=1, help="channels of the clips")
    g.add_argument("--format", choices=("wav", "flac"), default="wav", help="clip format (16-bit PCM)")
    g.add_argument("--workers", type=_positive_int, default=1, help="processes cutting documents in parallel")
    g.add_argument("--dry-run", action="store_true", help="select and report; write nothing")
    g.add_argument("--force", action="store_true", help="write into a target holding other files or another export")
    add_logging_options(g)
    return p


def _documents(args: argparse.Namespace):
    from ..catalog import read_catalog
    from ..export.pipeline import Document, doc_ids

    if args.catalog is not None:
        if args.audio is not None or args.aligned is not None:
            raise UsageError("--catalog takes audio and aligned paths from the catalog; drop --audio/--aligned")
        # The catalog `align` ran on; document ids as align gave them (audio or tlog stem).
        pairs = [(job.audio, job.aligned, job.id) for job in read_catalog(args.catalog)]
    else:
        if args.aligned is None:
            raise UsageError("give --catalog, or --aligned (and --audio for clips)")
        pairs = [(args.audio, args.aligned, (args.audio or args.aligned).stem)]
    kept = []
    for audio, aligned, doc_id in pairs:
        missing = [str(p) for p in (aligned, audio) if p is not None and not p.exists()]
        if missing:
            if args.ignore_missing:
                log.warning("skipped (missing %s)", ", ".join(missing))
                continue
            raise UserError(f"not found: {', '.join(missing)} (--ignore-missing skips such entries)")
        kept.append((audio, aligned, doc_id))
    ids = doc_ids([i for _, _, i in kept])
    return [Document(a, b, i) for (a, b, _), i in zip(kept, ids)]


def build_config(args: argparse.Namespace):
    from ..export.audio import AudioFormat
    from ..export.pipeline import ExportConfig
    from ..export.select import Partition, SelectConfig

    sel = SelectConfig(
        filter=args.filter, criteria=args.criteria,
        partitions=tuple(Partition.parse(s) for s in args.partition), debias=tuple(args.debias),
        debias_sigma_factor=args.debias_sigma_factor, split=args.split, split_field=args.split_field,
        split_seed=args.split_seed, split_drop_multiple=args.split_drop_multiple,
        split_drop_unknown=args.split_drop_unknown, assign_train=args.assign_train, assign_dev=args.assign_dev,
        assign_test=args.assign_test,
    )
    cfg = ExportConfig(
        select=sel, audio=AudioFormat(args.rate, args.channels, args.format), target_dir=args.target_dir,
        target_tar=args.target_tar, shard_size=args.shard_size, manifests=tuple(args.manifests),
        original_text=args.original_text, output_format=args.output_format,
        subtitle_timing=args.subtitle_timing, dry_run=args.dry_run,
        force=args.force, workers=args.workers, show_progress=not args.no_progress,
    )
    cfg.validate()
    return cfg


def run(args: argparse.Namespace) -> int:
    from ..export.pipeline import export

    cfg = build_config(args)          # every usage error before any work
    docs = _documents(args)
    report = export(docs, cfg)
    for line in report.summary_lines():
        print(line, file=sys.stderr)
    if cfg.dry_run:
        print("dry run: nothing written", file=sys.stderr)
    return 1 if report.failed else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.loglevel)
    return run_main("align-export", lambda: run(args), parser)


if __name__ == "__main__":
    sys.exit(main())
