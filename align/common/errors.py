"""User-facing errors: raised by the library, turned into one clear line and a non-zero exit by the CLIs."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input or options: shown as one line, no traceback.

    The message should name the file (and line or key) and say how to fix it.
    """

    exit_code = 1


class UsageError(UserError):
    """A bad command-line option or combination (exit code 2, like argparse)."""

    exit_code = 2


class MissingDependencyError(UserError):
    """An optional engine was chosen whose package or tool is not installed."""

    def __init__(self, what: str, install: str):
        super().__init__(f"{what} is not available: {install}")
