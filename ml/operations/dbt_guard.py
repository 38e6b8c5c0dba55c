"""Run dbt so that it dies with the pmi process that started it.

dagster-dbt starts `dbt build` as a plain child process: when pmi is killed (SIGKILL, OOM), dbt lives on,
holding the warehouse's write lock and rewriting marts nobody waits for. ``orchestration/warehouse/dbt_guard``
(the dbt executable pmi hands Dagster) runs this module, which asks Linux to SIGKILL it when its parent dies
(``PR_SET_PDEATHSIG``, kept across exec) and then becomes dbt. If the parent died before the request took
effect, it exits at once. Elsewhere it simply becomes dbt.

Usage: ``python -m ml.operations.dbt_guard PARENT_PID [dbt arguments...]``.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1
EXECUTABLE_ENV = "PMI_DBT_REAL"  # the dbt to run; default: the one beside this interpreter, else dbt on PATH


def real_dbt() -> str:
    """The dbt executable this guard becomes."""
    beside = Path(sys.executable).with_name("dbt")
    return os.environ.get(EXECUTABLE_ENV) or (str(beside) if beside.exists() else shutil.which("dbt") or "dbt")


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent exits (Linux); exit now if the parent is already gone."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # not allowed here (seccomp): dbt still runs, unguarded
    if os.getppid() != parent:
        os._exit(1)


def main(argv: list[str]) -> None:
    parent, args = int(argv[0]), argv[1:]
    die_with_parent(parent)
    executable = real_dbt()
    os.execv(executable, [executable, *args])


if __name__ == "__main__":
    main(sys.argv[1:])
