"""The error every layer raises for input the user gave wrong, so the CLI can turn it into exit 2 and one line."""

from __future__ import annotations


class BadInputError(Exception):
    """Input the user gave is wrong; the message names the file, row and column where there is one."""
