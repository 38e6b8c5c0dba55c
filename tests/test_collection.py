"""Plain `pytest` (the console script, which does not put the working directory on sys.path) finds the `ml`
package, not the tests/ml folder that mirrors it."""

from __future__ import annotations

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
