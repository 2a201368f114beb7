"""What both CLIs share: logging options and setup, and turning user errors into one line."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable

from ..common.errors import UsageError, UserError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _level(v: str) -> int:
    if v.upper() in LEVELS:
        return getattr(logging, v.upper())
    try:
        return int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(LEVELS)} (or a number), got {v!r}") from None


def add_logging_options(group) -> None:
    group.add_argument("--loglevel", type=_level, default=logging.INFO, metavar="LEVEL",
                       help=f"log level: {', '.join(LEVELS)} (default INFO)")
    group.add_argument("--no-progress", action="store_true", help="no progress bars")


def setup_logging(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    # Engines that log a line per fragment at INFO: only their warnings unless DEBUG is asked for.
    for name in ("faster_whisper", "numba", "faiss"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def run_main(prog: str, fn: Callable[[], int], parser: argparse.ArgumentParser | None = None,
             interrupted: str = "interrupted") -> int:
    """Run a command; a UserError becomes `prog: error: message` and its exit code."""
    try:
        return fn()
    except UsageError as e:
        if parser is not None:
            parser.print_usage(sys.stderr)
        print(f"{prog}: error: {e}", file=sys.stderr)
        return e.exit_code
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130
