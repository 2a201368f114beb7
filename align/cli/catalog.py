"""`align-catalog`: build a catalog from globs of audio (or transcript logs) and texts matched by stem."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

from .common import HelpFormatter, Parser, add_logging_options, add_version_option, run_main, setup_logging


def build_parser() -> Parser:
    p = Parser(prog="align-catalog", formatter_class=HelpFormatter,
               description="Write a catalog for `align --catalog`: every audio (or .tlog) file whose name stem has a "
               "text file of the same stem becomes an entry; paths are written relative to the catalog.")
    add_version_option(p)
    p.add_argument("--audio", action="append", default=[], metavar="GLOB", help="audio files (repeatable; ** recurses)")
    p.add_argument("--tlog", action="append", default=[], metavar="GLOB", help="transcript logs (repeatable)")
    p.add_argument("--text", action="append", default=[], metavar="GLOB", required=True,
                   help="text files: plain text or .script (repeatable)")
    p.add_argument("--aligned-dir", type=Path, default=None,
                   help="put the .aligned outputs here (default: next to each audio/tlog file)")
    p.add_argument("-o", "--output", type=Path, required=True, help="catalog file to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing catalog file")
    add_logging_options(p)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.loglevel)

    def run() -> int:
        from ..catalog import build_catalog
        from ..common.errors import UsageError
        from ..common.fileio import atomic_write_json

        if args.output.exists() and not args.force:
            raise UsageError(f"{args.output} already exists; pass --force to overwrite it")
        entries, warnings = build_catalog(args.output, args.text, args.audio, args.tlog, args.aligned_dir)
        for w in warnings:
            print(f"align-catalog: warning: {w}", file=sys.stderr)
        atomic_write_json(args.output, entries, pretty=True)
        print(f"wrote {args.output}: {len(entries)} entries ({len(warnings)} file(s) without a partner)")
        return 0

    return run_main("align-catalog", run, parser)


if __name__ == "__main__":
    sys.exit(main())
