"""What both CLIs share: logging options and setup, and turning user errors into one line."""

from __future__ import annotations

import argparse
import difflib
import logging
import re
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


class Parser(argparse.ArgumentParser):
    """argparse with errors as ONE line (`prog: error: ...; see prog --help`), exit 2, and a
    "did you mean" suggestion for a mistyped option, instead of the usage block. Prefixes of
    options are not accepted (a cron line must not change meaning when an option is added)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D102 (argparse API)
        m = re.match(r"unrecognized arguments: (.*)", message)
        if m:
            bad = [a for a in m.group(1).split() if a.startswith("-")] or m.group(1).split()
            message = "; ".join(self._unknown(a) for a in bad)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _unknown(self, arg: str) -> str:
        flag = arg.split("=", 1)[0]
        if not flag.startswith("-"):
            return f"unexpected argument {arg!r}"
        options = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
        near = difflib.get_close_matches(flag, options, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]}?" if near else ""
        return f"unknown option {flag}{hint}"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: X)" only where a default means something and the help does not give it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return super()._get_help_string(action)


def add_version_option(parser: argparse.ArgumentParser) -> None:
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


def add_logging_options(group) -> None:
    group.add_argument("--loglevel", type=_level, default=logging.INFO, metavar="LEVEL",
                       help=f"log level: {', '.join(LEVELS)} (default INFO)")
    group.add_argument("--no-progress", action="store_true", help="no progress bars")


def setup_logging(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    # Engines that log a line per fragment at INFO: only their warnings unless DEBUG is asked for.
    for name in ("faster_whisper", "numba", "faiss", "matplotlib", "PIL"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def run_main(prog: str, fn: Callable[[], int], parser: argparse.ArgumentParser | None = None,
             interrupted: str = "interrupted") -> int:
    """Run a command; a UserError becomes `prog: error: message` and its exit code."""
    try:
        return fn()
    except UsageError as e:
        # one line, like the option errors of `Parser`: cron mail and logs stay readable
        print(f"{prog}: error: {e}" + (f" (see {prog} --help)" if parser is not None else ""), file=sys.stderr)
        return e.exit_code
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130
