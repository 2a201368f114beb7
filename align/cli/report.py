"""`align-report`: a self-contained HTML review page per aligned document."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from ..common.errors import UsageError, UserError
from .common import add_logging_options, run_main, setup_logging

log = logging.getLogger("align.report")


def build_parser() -> argparse.ArgumentParser:
    from ..report.page import COLOUR_METRICS

    p = argparse.ArgumentParser(
        prog="align-report", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Write one self-contained HTML page per document: the original text with every aligned "
        "utterance coloured by a metric; click plays its audio; n/p jump to the next/previous worst utterance.")
    g = p.add_argument_group("input")
    g.add_argument("--catalog", type=Path, help="JSON list of {audio, tlog, script, aligned} (paths relative to it)")
    g.add_argument("--aligned", type=Path, help=".aligned file of one document")
    g.add_argument("--script", type=Path, help="the original text it was aligned with (plain text or .script)")
    g.add_argument("--audio", type=Path, help="the audio (played in the page)")
    g.add_argument("--tlog", type=Path, help="transcript log: gives the number of dropped fragments")
    g.add_argument("--text-meaningful-newlines", action="store_true", help="as given to align")
    g = p.add_argument_group("output")
    g.add_argument("--output", type=Path, help="HTML file (one document; default: the .aligned path with .html)")
    g.add_argument("--target-dir", type=Path, help="directory for the pages of a catalog (default: next to each .aligned)")
    g.add_argument("--metric", choices=COLOUR_METRICS, default=None,
                   help="metric that colours the utterances and orders 'worst' (default: cer, wer, wng, sws, ... "
                   "whichever the file has)")
    g.add_argument("--filter", default=None, metavar="EXPR", help="mark the utterances this align-export --filter drops")
    e = g.add_mutually_exclusive_group()
    e.add_argument("--embed-audio", dest="embed", action="store_const", const=True, default=None,
                   help="put the audio into the page (default: when it is at most 50 MB)")
    e.add_argument("--link-audio", dest="embed", action="store_const", const=False,
                   help="refer to the audio by a path relative to the page")
    add_logging_options(g)
    return p


def _jobs(args: argparse.Namespace):
    from ..catalog import read_catalog
    from ..report.document import ReportJob

    if args.catalog is not None:
        if any(v is not None for v in (args.aligned, args.script, args.audio, args.tlog, args.output)):
            raise UsageError("--catalog takes the files from the catalog; drop --aligned/--script/--audio/--tlog/--output")
        jobs = []
        for job in read_catalog(args.catalog):
            out = (args.target_dir / (job.aligned.stem + ".html")) if args.target_dir else job.aligned.with_suffix(".html")
            tlog = job.tlog_path() if job.tlog_path().exists() else None     # align's cache beside the audio
            jobs.append(ReportJob(job.aligned, job.script, out, job.audio, tlog, args.text_meaningful_newlines))
        return jobs
    if args.aligned is None or args.script is None:
        raise UsageError("give --aligned and --script (and --audio to play it), or --catalog")
    out = args.output or ((args.target_dir / (args.aligned.stem + ".html")) if args.target_dir
                          else args.aligned.with_suffix(".html"))
    return [ReportJob(args.aligned, args.script, out, args.audio, args.tlog, args.text_meaningful_newlines)]


def run(args: argparse.Namespace) -> int:
    from ..export.expr import compile_expr
    from ..export.select import BASE_FIELDS
    from ..report.document import write_report
    from ..report.page import ReportParams

    if args.filter:
        compile_expr(args.filter, BASE_FIELDS + ("quality",), "--filter")   # usage error before any work
    params = ReportParams(metric=args.metric, filter=args.filter, embed_audio=args.embed)
    jobs = _jobs(args)
    failed = 0
    for job in jobs:
        try:
            path = write_report(job, params)
            print(f"wrote {path}", file=sys.stderr)
        except UserError as e:
            if len(jobs) == 1:
                raise
            failed += 1
            log.error("%s: skipped", e)
    if len(jobs) > 1:
        print(f"{len(jobs) - failed} pages written, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.loglevel)
    return run_main("align-report", lambda: run(args), parser)


if __name__ == "__main__":
    sys.exit(main())
