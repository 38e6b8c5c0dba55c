"""The one atomic file writer: write beside the target, then rename, so a reader never sees half a file.

`atomic_target` is the only place in ml/ that renames a finished file into place; the text/bytes writer and the
table writer below are built on it, and writers that need a path (DuckDB's COPY, matplotlib) use it directly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ml.io.tables import PARQUET_SUFFIXES


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A hidden temporary path beside ``path`` to write to; renamed onto ``path`` only if the block succeeds.

    On any failure the temporary file is removed and ``path`` keeps whatever it held before (or stays absent).
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # mkstemp creates 0600; give the file the permissions a plain open would
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_atomically(path: Path, content: str | bytes) -> int:
    """Replace ``path`` with ``content`` in one rename (a crash leaves the old file or the new, never a mix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    with atomic_target(path) as partial:
        partial.write_bytes(data)
    return len(data)


def write_table_atomically(table: pd.DataFrame, out: Path, exact_columns: Iterable[str] = ()) -> None:
    """Write a result table as CSV (gzip for .gz) or Parquet by suffix, atomically.

    Numbers are rounded to 6 decimals for reading, except ``exact_columns`` (e.g. budgets whose rounding could
    lift a total above its budget).
    """
    rounded = table.round(6).assign(**{c: table[c] for c in exact_columns if c in table})
    name = Path(out).name.lower()
    with atomic_target(out) as partial:
        if name.endswith(PARQUET_SUFFIXES):
            rounded.to_parquet(partial, index=False)
        else:
            rounded.to_csv(partial, index=False, compression="gzip" if name.endswith(".gz") else None)
