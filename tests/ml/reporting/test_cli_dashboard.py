"""`pmi dashboard`: builds the page and prints its path, serves it on localhost, and rejects a missing warehouse."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from ml.cli.main import main

PMI = [sys.executable, "-m", "ml.cli.main"]


def test_dashboard_prints_the_written_path(small_warehouse, tmp_path, capsys):
    out = tmp_path / "page" / "dash.html"
    assert main(["dashboard", "--home", str(small_warehouse.home), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_missing_warehouse_is_bad_input(tmp_path, capsys):
    assert main(["dashboard", "--home", str(tmp_path / "nothing")]) == 2
    assert "no warehouse yet" in capsys.readouterr().err


def ignore_sigterm() -> None:
    """What a child of a background shell inherits: SIGTERM set to ignored."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def test_serve_answers_on_localhost_and_stops_on_sigterm(small_warehouse, tmp_path):
    out = tmp_path / "served" / "index.html"
    proc = subprocess.Popen(
        [*PMI, "dashboard", "--home", str(small_warehouse.home), "--out", str(out), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        preexec_fn=ignore_sigterm,
    )
    try:
        assert proc.stdout.readline().strip() == str(out)
        url = proc.stdout.readline().split()[1]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read().decode() == out.read_text()
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        assert proc.stdout.read().strip() == "stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
