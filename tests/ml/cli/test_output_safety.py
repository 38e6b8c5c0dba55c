"""`--out` never destroys data, and `pmi dashboard --serve` serves the page alone, to this machine only."""

from __future__ import annotations

import hashlib
import http.client
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ml.cli.dashboard import page_handler
from ml.cli.main import main

PMI = [sys.executable, "-m", "ml.cli.main"]
REPO = Path(__file__).resolve().parents[3]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A data directory whose warehouse and MLflow store are stand-ins: the refusals come before any is read."""
    home = tmp_path / "home"
    (home / "mlflow").mkdir(parents=True)
    (home / "warehouse.duckdb").write_bytes(b"warehouse bytes")
    (home / "mlflow" / "mlflow.db").write_bytes(b"mlflow bytes")
    monkeypatch.setenv("PMI_HOME", str(home))
    return home


@pytest.mark.parametrize("target", ["warehouse.duckdb", "mlflow/mlflow.db", "mlflow/page.html", "dagster/x.html", "."])
def test_dashboard_out_never_overwrites_state(home, target, capsys):
    before = {p: digest(p) for p in home.rglob("*") if p.is_file()}
    assert main(["dashboard", "--home", str(home), "--out", str(home / target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0], err
    assert {p: digest(p) for p in home.rglob("*") if p.is_file()} == before


def test_dashboard_out_through_a_symlink_to_the_warehouse(home, tmp_path, capsys):
    link = tmp_path / "innocent.html"
    link.symlink_to(home / "warehouse.duckdb")
    assert main(["dashboard", "--home", str(home), "--out", str(link)]) == 2
    assert (home / "warehouse.duckdb").read_bytes() == b"warehouse bytes"


def allocate(tmp_path: Path, out: Path, *extra: str) -> int:
    history = tmp_path / "history.csv"
    if not history.exists():
        history.write_text(
            "date,campaign_id,spend,impressions,clicks,conversions,revenue\n2026-01-01,a,10,100,10,1,5\n"
        )
    return main(["allocate", "--history", str(history), "--total-budget", "100", "--out", str(out), *extra])


def test_allocate_out_never_overwrites_an_input(home, tmp_path, capsys):
    history = tmp_path / "history.csv"
    assert allocate(tmp_path, history) == 2
    assert "input of this command" in capsys.readouterr().err
    assert history.read_text().startswith("date,campaign_id")
    current = tmp_path / "current.csv"
    current.write_text("campaign_id,daily_budget\na,10\n")
    assert allocate(tmp_path, current, "--current", str(current)) == 2
    assert current.read_text() == "campaign_id,daily_budget\na,10\n"


def test_allocate_out_refuses_directories_and_state(home, tmp_path, capsys):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert allocate(tmp_path, folder) == 2
    assert "is a directory" in capsys.readouterr().err
    assert allocate(tmp_path, home / "mlflow" / "metrics.csv") == 2
    assert "pmi's state" in capsys.readouterr().err


@pytest.fixture
def served(tmp_path):
    """The page handler on a free port, beside a file it must never hand out."""
    page = tmp_path / "index.html"
    page.write_text("<!DOCTYPE html><p>dashboard</p>")
    (tmp_path / "warehouse.duckdb").write_bytes(b"secret")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), page_handler(page))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": host if host is not None else f"127.0.0.1:{port}"})
    response = conn.getresponse()
    return response.status, response.read()


def test_serves_the_page_and_nothing_else(served):
    assert get(served, "/") == (200, b"<!DOCTYPE html><p>dashboard</p>")
    assert get(served, "/index.html")[0] == 200
    assert get(served, "/?x=1")[0] == 200
    for path in ("/warehouse.duckdb", "/../warehouse.duckdb", "/%2e%2e/", "/sub/"):
        status, body = get(served, path)
        assert status == 404 and b"secret" not in body and b"Directory listing" not in body, path


def test_refuses_other_host_names(served):
    assert get(served, "/", host=f"localhost:{served}")[0] == 200
    assert get(served, "/", host="localhost")[0] == 200
    for host in (
        "attacker.example",
        f"attacker.example:{served}",
        f"127.0.0.1.attacker.example:{served}",
        "127.0.0.1:1",
        "",
    ):
        assert get(served, "/", host=host)[0] == 403, host


def test_cli_serve_lists_no_directory(small_warehouse, tmp_path):
    out = tmp_path / "served" / "index.html"
    out.parent.mkdir()
    (out.parent / "notes.txt").write_text("private")
    proc = subprocess.Popen(
        [*PMI, "dashboard", "--home", str(small_warehouse.home), "--out", str(out), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout.readline().strip() == str(out)
        port = int(proc.stdout.readline().split()[1].rsplit(":", 1)[1].strip("/"))
        assert get(port, "/")[1] == out.read_bytes()
        assert get(port, "/notes.txt")[0] == 404
        proc.terminate()  # SIGTERM stops it cleanly, as Ctrl-C does
        assert proc.wait(timeout=30) == 0
        assert proc.stdout.read().strip() == "stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
