"""The `--mapping` YAML: how a user's columns become the contract's, per file kind.

```yaml
daily:                                   # file kind: campaigns, hourly, daily, users, revenue_events, market
  columns: {spend: Spent, campaign_id: ad_id}   # contract column: column in your file
  constants: {revenue: 0}                # contract column: the same value on every row
  view_through_conversions: true         # conversions may exceed clicks (warned, not refused)
  campaigns_from_columns:                # a wide file: one campaign per group of columns
    tv: {spend: mdsp_tv, impressions: mdip_tv}
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ml.cli.errors import BadInputError
from ml.ingest.specs import FILE_KINDS

_KEYS = {"columns", "constants", "view_through_conversions", "campaigns_from_columns"}


@dataclass(frozen=True)
class FileMapping:
    """How one file kind's columns are found in the user's file (empty = the file already uses contract names)."""

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    view_through_conversions: bool = False
    campaigns_from_columns: dict[str, dict[str, str]] = field(default_factory=dict)


def _string_map(path: Path, where: str, value: object, contract: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInputError(f"{path}: {where}: expected a mapping of contract column to value")
    for name in value:
        if name not in contract:
            raise BadInputError(f"{path}: {where}.{name}: not a contract column "
                                f"(expected one of {', '.join(contract)})")
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


def _file_mapping(path: Path, kind: str, body: object) -> FileMapping:
    if not isinstance(body, dict):
        raise BadInputError(f"{path}: {kind}: expected a mapping with columns / constants")
    unknown = set(body) - _KEYS
    if unknown:
        raise BadInputError(f"{path}: {kind}.{sorted(unknown)[0]}: unknown key (expected {', '.join(sorted(_KEYS))})")
    contract = FILE_KINDS[kind].column_names
    wide = body.get("campaigns_from_columns") or {}
    if not isinstance(wide, dict):
        raise BadInputError(f"{path}: {kind}.campaigns_from_columns: expected campaign id: {{column: source}}")
    if any(isinstance(c, bool) for c in wide):
        raise BadInputError(f"{path}: {kind}.campaigns_from_columns: a campaign id YAML reads as true/false "
                            "(on, off, yes, no): put it in quotes")
    return FileMapping(
        columns=_string_map(path, f"{kind}.columns", body.get("columns"), contract),
        constants=_string_map(path, f"{kind}.constants", body.get("constants"), contract),
        view_through_conversions=bool(body.get("view_through_conversions", False)),
        campaigns_from_columns={str(c): _string_map(path, f"{kind}.campaigns_from_columns.{c}", cols, contract)
                                for c, cols in wide.items()},
    )


def load_mapping(path: Path | None) -> dict[str, FileMapping]:
    """Parse and check the mapping file; a mistake in it is bad input naming the key."""
    if path is None:
        return {}
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInputError(f"{path}: no such file") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise BadInputError(f"{path}: expected file kinds ({', '.join(FILE_KINDS)}) at the top level")
    for kind in document:
        if kind not in FILE_KINDS:
            raise BadInputError(f"{path}: {kind}: unknown file kind (expected one of {', '.join(FILE_KINDS)})")
    return {kind: _file_mapping(path, kind, body) for kind, body in document.items()}
