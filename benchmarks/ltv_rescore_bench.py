"""The daily LTV re-score with and without the stored per-user predictions, side by side on one data directory.

    .venv/bin/python benchmarks/ltv_rescore_bench.py --from-home DIR [--home COPY]

``DIR`` is a data directory after `pmi run` (copied first, so it stays as it was; the copy re-points its MLflow
store at its own artifacts). On the copy: (1) `publish_campaign_ltv` with no stored predictions: every user is
predicted, as before the store existed, and the final ones are stored; (2) the same call again: only users whose
prediction can still move are predicted. Prints both wall times, how many users each predicted, the warehouse's
growth and the largest difference between the two campaign tables (they must agree to float summation order).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from-home", required=True)
    p.add_argument("--home", help="Where to copy it (default: a temporary directory, removed afterwards).")
    args = p.parse_args()
    tmp = None if args.home else tempfile.mkdtemp(prefix="ltv_rescore_")
    home = Path(args.home or Path(tmp) / "home")
    shutil.copytree(args.from_home, home, ignore=shutil.ignore_patterns("dagster", "logs", "dbt_target"))
    os.environ["PMI_HOME"] = str(home)
    warnings.simplefilter("ignore")
    from ml.models.ltv.ensemble import LtvEnsemble
    from ml.models.training.ltv_score_cache import SCORE_CACHE
    from ml.models.training.ltv_scoring import publish_campaign_ltv
    from ml.settings import pmi_paths
    from ml.warehouse.connection import transaction

    paths = pmi_paths(home)
    predicted = [0]
    original = LtvEnsemble.predict_distribution

    def counting(self, df, *a, **k):
        predicted[0] += len(df)
        return original(self, df, *a, **k)

    LtvEnsemble.predict_distribution = counting
    with transaction(paths.warehouse) as con:
        con.execute(f"DROP TABLE IF EXISTS {SCORE_CACHE}")
    size_before = paths.warehouse.stat().st_size
    rows = []
    for label in ("every user predicted (fills the store)", "stored predictions read back"):
        predicted[0] = 0
        started = time.perf_counter()
        table = publish_campaign_ltv(paths, reuse_stored=True)
        rows.append((label, time.perf_counter() - started, predicted[0], table))
    numeric = [c for c in rows[0][3].columns if rows[0][3][c].dtype.kind == "f"]
    diff = np.nanmax(np.abs(rows[0][3][numeric].to_numpy(float) - rows[1][3][numeric].to_numpy(float)))
    print("| scoring | wall (s) | users predicted | users scored |")
    print("| --- | ---: | ---: | ---: |")
    for label, seconds, n_predicted, table in rows:
        print(f"| {label} | {seconds:.1f} | {n_predicted:,} | {int(table['n_users'].sum()):,} |")
    print(
        f"time ratio {rows[0][1] / rows[1][1]:.2f}x; warehouse grew by "
        f"{(paths.warehouse.stat().st_size - size_before) / 1e6:,.0f} MB; largest difference between the two "
        f"campaign tables {diff:.2e}"
    )
    if tmp:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
