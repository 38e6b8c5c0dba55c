"""Visible progress for the steps of a command: a spinner with elapsed time on stderr, then a line per step.

Progress goes to stderr, and only when stderr is a terminal: a script or a pipe sees the command's summary on
stdout and, on bad input, exactly the one error line on stderr that the command-line contract promises.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

STDERR = Console(stderr=True, highlight=False)


@contextmanager
def step(label: str, console: Console = STDERR) -> Iterator[None]:
    """Show ``label`` with a spinner while the block runs, then how long it took.

    A failing step prints nothing: the command's one-line error is all stderr should say about it.
    """
    if not console.is_terminal:
        yield
        return
    started = time.monotonic()
    with console.status(f"{label} ...", spinner="dots"):
        yield
    console.print(f"[green]v[/green] {label} ({time.monotonic() - started:.1f} s)")
