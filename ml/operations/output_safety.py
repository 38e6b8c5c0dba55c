"""Output paths that cannot destroy data: an `--out` is refused before anything is computed if it would overwrite
the warehouse, the MLflow store or other state of the data directory, an input of the same command, or is a
directory. Symlinks and hard links are seen through (the file behind them is what would be overwritten).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ml.io.errors import BadInputError
from ml.settings import PmiPaths

# Everything under these (relative to the data directory) is pmi's state, never a place for a user's output.
STATE_DIRS = ("mlflow", "feast", "dagster", "dbt_target", "gx_data_docs")


def protected_paths(paths: PmiPaths) -> list[Path]:
    """The data directory's state: the warehouse (and its WAL), MLflow, Feast, Dagster, dbt targets, Data Docs."""
    warehouse = paths.warehouse.resolve()
    return [
        warehouse,
        warehouse.with_name(warehouse.name + ".wal"),
        paths.mlflow_dir.resolve(),
        *(paths.home.resolve() / d for d in STATE_DIRS),
    ]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_output_path(
    value: str, option: str, *, suffixes: tuple[str, ...], inputs: Iterable[Path] = (), state: Iterable[PmiPaths] = ()
) -> Path:
    """The resolved output path, or BadInputError (exit 2, one line) naming what it would overwrite."""
    out = Path(value).expanduser()
    if out.is_dir():
        raise BadInputError(f"{option}: {out} is a directory; give a file name")
    if not out.name.lower().endswith(suffixes):
        raise BadInputError(f"{option}: {out}: expected a {' or '.join(suffixes)} file name")
    target = out.resolve()
    for path in inputs:
        if _same_file(target, Path(path).expanduser()):
            raise BadInputError(f"{option}: {out} is an input of this command ({path}); write the output elsewhere")
    for home in state:
        for guarded in protected_paths(home):
            if (
                target == guarded
                or guarded in target.parents
                or (out.exists() and guarded.exists() and _same_file(out, guarded))
            ):
                raise BadInputError(
                    f"{option}: {out} would overwrite pmi's state ({guarded}); write the output elsewhere"
                )
    return target
