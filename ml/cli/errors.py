"""Exit codes shared by every subcommand (`BadInputError`, raised by the layers below, lives in ml/io/errors.py)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
