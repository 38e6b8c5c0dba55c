"""Plain `pytest` (the console script, which does not put the working directory on sys.path) finds the `ml`
package, not the tests/ml folder that mirrors it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_plain_pytest_collects_the_allocation_tests():
    pytest_script = Path(sys.executable).with_name("pytest")
    result = subprocess.run(
        [str(pytest_script), "-q", "--collect-only", "tests/ml/allocation"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "No module named" not in result.stdout and "error" not in result.stdout.lower()


def test_workers_keep_each_modules_tests_together():
    """Under `make test` (two workers) a module's tests run on one worker, in order (tests/conftest.py's xdist
    groups): a test relying on an earlier one in its module, or on one build of a shared fixture, depends on it."""
    module = "tests/ml/io/test_sql_text.py"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup", module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    ran = re.findall(r"^\[(gw\d)\] .*?PASSED (tests/ml/io/test_sql_text\.py::.*\S)", result.stdout, re.MULTILINE)
    assert len(ran) > 10, result.stdout[-2000:]
    assert len({worker for worker, _ in ran}) == 1, ran  # one worker ran the whole module
    assert all("@" in nodeid for _, nodeid in ran), ran  # each carries its group: xdist saw the conftest's marks
