"""`align-stats`: files, utterances, hours, kept vs dropped by reason, and per-metric histograms."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

from .common import HelpFormatter, Parser, add_logging_options, add_version_option, run_main, setup_logging


def build_parser() -> Parser:
    p = Parser(prog="align-stats", formatter_class=HelpFormatter,
               description="Summarise .aligned files (or the outputs of catalogs, or every .aligned file under a "
               "directory): files, utterances, hours, kept vs dropped fragments by reason, and per metric a "
               "histogram of hours kept by value.")
    add_version_option(p)
    p.add_argument("inputs", nargs="+", metavar="PATH", help=".aligned file, catalog, or directory")
    p.add_argument("--bins", type=int, default=10, help="histogram bins per metric (1 to 1000)")
    p.add_argument("--plot-dir", type=Path, default=None,
                   help="save one PNG histogram per metric here (needs matplotlib: pip install 'align[plot]')")
    p.add_argument("--json", type=Path, default=None, metavar="OUT.json", help="also write the statistics as JSON")
    p.add_argument("--ignore-missing", action="store_true", help="skip catalog outputs that do not exist yet")
    add_logging_options(p)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.loglevel)

    def run() -> int:
        from ..common.errors import UsageError
        from ..common.fileio import atomic_write_json
        from ..stats import collect_stats, report_lines, save_plots

        if not 1 <= args.bins <= 1000:
            raise UsageError(f"--bins must be in [1, 1000], got {args.bins}")
        report = collect_stats(args.inputs, ignore_missing=args.ignore_missing)
        print("\n".join(report_lines(report, args.bins)))
        if args.json is not None:
            atomic_write_json(args.json, report.to_dict(args.bins), pretty=True)
        if args.plot_dir is not None:
            for path in save_plots(report, args.plot_dir, args.bins):
                print(f"wrote {path}")
        return 0

    return run_main("align-stats", run, parser)


if __name__ == "__main__":
    sys.exit(main())
