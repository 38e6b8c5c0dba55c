"""Hand an applied allocation's budget changes to the user's ad-ops: a CSV file, a webhook, or both.

pmi does not call ad networks itself; the budgets it applies are written to ``raw.budgets`` (which the simulator's
live step reads) and delivered here to whatever pushes them to the networks. Every delivery is audited.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

from ml.io.atomic import write_atomically
from ml.settings import PmiPaths
from ml.warehouse.connection import transaction

CHANGE_COLUMNS = ["campaign_id", "effective_ts", "budget_before", "budget_after", "action", "reason"]
WEBHOOK_TIMEOUT_SECONDS = 10.0
DELIVERIES_DDL = """CREATE TABLE IF NOT EXISTS audit.budget_deliveries (
    run_id VARCHAR, adapter VARCHAR, target VARCHAR, delivered_at TIMESTAMP, n_changes INTEGER, status VARCHAR,
    PRIMARY KEY (run_id, adapter))"""


def export_csv(changes: pd.DataFrame, path: Path) -> str:
    """Write the changes as one CSV for bulk upload (atomically: a reader never sees half a file)."""
    write_atomically(path, changes[CHANGE_COLUMNS].to_csv(index=False))
    return "written"


def post_webhook(run_id: str, changes: pd.DataFrame, url: str) -> str:
    """POST the changes as JSON; returns 'delivered (HTTP n)' or what went wrong (the allocation stays applied)."""
    payload = {
        "run_id": run_id,
        "changes": json.loads(changes[CHANGE_COLUMNS].to_json(orient="records", date_format="iso")),
    }
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            return f"delivered (HTTP {response.status})"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return f"failed: {getattr(exc, 'reason', exc)}"


def deliver(
    paths: PmiPaths, run_id: str, changes: pd.DataFrame, csv_path: Path | None = None, webhook_url: str | None = None
) -> dict[str, str]:
    """Run each chosen adapter and record its outcome in ``audit.budget_deliveries``."""
    outcomes = {}
    if csv_path is not None:
        outcomes["csv"] = (str(csv_path), export_csv(changes, csv_path))
    if webhook_url:
        outcomes["webhook"] = (webhook_url, post_webhook(run_id, changes, webhook_url))
    if outcomes:
        with transaction(paths.warehouse) as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS audit")
            con.execute(DELIVERIES_DDL)
            for adapter, (target, status) in outcomes.items():
                con.execute(
                    "INSERT OR REPLACE INTO audit.budget_deliveries VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?)",
                    [run_id, adapter, target, len(changes), status],
                )
    return {adapter: status for adapter, (_, status) in outcomes.items()}
