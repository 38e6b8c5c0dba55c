"""Exit codes shared by every subcommand."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class BadInputError(Exception):
    """Input the user gave is wrong; the message names the file, row and column where there is one."""
