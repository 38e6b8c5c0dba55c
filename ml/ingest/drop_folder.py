"""A drop folder as the source of the raw tables: files with fixed names, ingested like `pmi ingest` would."""

from __future__ import annotations

from pathlib import Path

from ml.ingest.run import IngestReport, ingest
from ml.io.errors import BadInputError
from ml.io.tables import TABLE_SUFFIXES
from ml.settings import PmiPaths
from ml.warehouse.connection import connect
from ml.warehouse.raw_schema import RAW_TABLES

KINDS = ("campaigns", "hourly", "daily", "users", "revenue_events", "market")
MAPPING_FILE = "mapping.yaml"


def drop_folder_inputs(folder: Path) -> tuple[dict[str, Path], Path | None]:
    """File kind -> file found in ``folder`` (e.g. campaigns.csv, daily.parquet) and the mapping if present."""
    if not folder.is_dir():
        raise BadInputError(f"{folder}: drop folder does not exist")
    inputs = {}
    for kind in KINDS:
        found = [folder / f"{kind}{s}" for s in TABLE_SUFFIXES if (folder / f"{kind}{s}").exists()]
        if len(found) > 1:
            raise BadInputError(f"{folder}: both {found[0].name} and {found[1].name}; keep one")
        if found:
            inputs[kind] = found[0]
    if "campaigns" not in inputs:
        raise BadInputError(f"{folder}: no campaigns.csv (or .parquet): the drop folder needs one")
    if "hourly" in inputs and "daily" in inputs:
        raise BadInputError(f"{folder}: both hourly and daily performance files; keep one")
    mapping = folder / MAPPING_FILE
    return inputs, mapping if mapping.exists() else None


def ingest_drop_folder(folder: Path, paths: PmiPaths) -> tuple[IngestReport, dict[str, int]]:
    """Ingest the folder's files (all or nothing) and return the report and each raw table's row count."""
    inputs, mapping = drop_folder_inputs(folder)
    report = ingest(paths, inputs, mapping)
    con = connect(paths.warehouse, read_only=True)
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchall()[0][0] for t in RAW_TABLES}
    finally:
        con.close()
    return report, counts
