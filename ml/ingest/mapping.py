"""The `--mapping` YAML: how a user's columns become the contract's, per file kind.

```yaml
daily:                                   # file kind: campaigns, hourly, daily, users, revenue_events, market
  columns: {spend: Spent, campaign_id: ad_id}   # contract column: column in your file
  constants: {revenue: 0}                # contract column: the same value on every row
  view_through_conversions: true         # conversions may exceed clicks (warned, not refused)
  campaigns_from_columns:                # a wide file: one campaign per group of columns
    tv: {spend: mdsp_tv, impressions: mdip_tv}
  total_outcome: sales                   # daily only: the business's total per period (media-mix data)
  controls: ["hldy_*", "me_*"]           # daily only: columns (fnmatch patterns) kept as that model's controls
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ml.ingest.specs import FILE_KINDS
from ml.io.errors import BadInputError
from ml.io.yaml_safe import YamlRefused, load_small_yaml
from ml.quality.plausibility import CONTROL_CHARACTERS, printable

_KEYS = {"columns", "constants", "view_through_conversions", "campaigns_from_columns", "total_outcome", "controls"}
_DAILY_ONLY = ("total_outcome", "controls")


@dataclass(frozen=True)
class FileMapping:
    """How one file kind's columns are found in the user's file (empty = the file already uses contract names)."""

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    view_through_conversions: bool = False
    campaigns_from_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    total_outcome: str = ""
    controls: tuple[str, ...] = ()


def _string_map(path: Path, where: str, value: object, contract: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInputError(f"{path}: {where}: expected a mapping of contract column to value")
    for name, given in value.items():
        if name not in contract:
            raise BadInputError(
                f"{path}: {where}.{printable(str(name))[:60]}: not a contract column "
                f"(expected one of {', '.join(contract)})"
            )
        if given is None or isinstance(given, dict | list) or re.search(CONTROL_CHARACTERS, str(given)):
            raise BadInputError(
                f"{path}: {where}.{name}: expected a column name or a value on one line, "
                f"got {printable(repr(given))[:80]}"
            )
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


def _one_source_each(path: Path, kind: str, mapping: FileMapping) -> None:
    """Refuse a contract column given two sources, or one file column feeding two contract columns."""
    shared = {name: f"{kind}.columns.{name}" for name in mapping.columns}
    for name in mapping.constants:
        if name in shared:
            raise BadInputError(
                f"{path}: {kind}.constants.{name}: {kind}.columns.{name} gives it too (column "
                f"{mapping.columns[name]}); keep one"
            )
        shared[name] = f"{kind}.constants.{name}"
    if mapping.campaigns_from_columns and "campaign_id" in shared:
        raise BadInputError(
            f"{path}: {shared['campaign_id']}: campaigns_from_columns names the campaigns already; drop one"
        )
    for campaign, overrides in (mapping.campaigns_from_columns or {"": {}}).items():
        group = f"{kind}.campaigns_from_columns.{campaign}"
        for name in overrides:
            if name in shared:
                raise BadInputError(f"{path}: {group}.{name}: {shared[name]} gives it too; keep one")
        sources: dict[str, str] = {}
        for where, columns in ((f"{kind}.columns", mapping.columns), (group, overrides)):
            for name, source in columns.items():
                if source in sources:
                    raise BadInputError(
                        f"{path}: {where}.{name}: column {source} is already {sources[source]}; "
                        "a column of your file maps to one contract column"
                    )
                sources[source] = f"{where}.{name}"


def _outcome_keys(path: Path, kind: str, body: dict) -> tuple[str, tuple[str, ...]]:
    """``total_outcome`` (a column name) and ``controls`` (column-name patterns) of a channel-level daily file."""
    for key in _DAILY_ONLY:
        if key in body and kind != "daily":
            raise BadInputError(f"{path}: {kind}.{key}: only a daily file carries a total outcome and controls")
    outcome = body.get("total_outcome") or ""
    if not isinstance(outcome, str) or re.search(CONTROL_CHARACTERS, outcome):
        raise BadInputError(f"{path}: {kind}.total_outcome: expected one column name")
    controls = body.get("controls") or []
    if isinstance(controls, str):
        controls = [controls]
    if not isinstance(controls, list) or not all(isinstance(c, str) and c.strip() for c in controls):
        raise BadInputError(f"{path}: {kind}.controls: expected a list of column names or patterns such as hldy_*")
    if controls and not outcome:
        raise BadInputError(f"{path}: {kind}.controls: controls need a total_outcome to explain")
    return outcome, tuple(controls)


def _file_mapping(path: Path, kind: str, body: object) -> FileMapping:
    if not isinstance(body, dict):
        raise BadInputError(f"{path}: {kind}: expected a mapping with columns / constants")
    unknown = [str(k) for k in body if k not in _KEYS]
    if unknown:
        raise BadInputError(
            f"{path}: {kind}.{printable(unknown[0])[:60]}: unknown key (expected {', '.join(sorted(_KEYS))})"
        )
    contract = FILE_KINDS[kind].column_names
    wide = body.get("campaigns_from_columns") or {}
    if not isinstance(wide, dict):
        raise BadInputError(f"{path}: {kind}.campaigns_from_columns: expected campaign id: {{column: source}}")
    if any(isinstance(c, bool) for c in wide):
        raise BadInputError(
            f"{path}: {kind}.campaigns_from_columns: a campaign id YAML reads as true/false "
            "(on, off, yes, no): put it in quotes"
        )
    for campaign in wide:
        if re.search(CONTROL_CHARACTERS, str(campaign)) or not str(campaign).strip():
            raise BadInputError(
                f"{path}: {kind}.campaigns_from_columns: {printable(repr(campaign))[:60]} is not a "
                "printable campaign id"
            )
    total_outcome, controls = _outcome_keys(path, kind, body)
    view_through = body.get("view_through_conversions", False)
    if not isinstance(view_through, bool):
        raise BadInputError(f"{path}: {kind}.view_through_conversions: expected true or false")
    mapping = FileMapping(
        columns=_string_map(path, f"{kind}.columns", body.get("columns"), contract),
        constants=_string_map(path, f"{kind}.constants", body.get("constants"), contract),
        view_through_conversions=view_through,
        campaigns_from_columns={
            str(c): _string_map(path, f"{kind}.campaigns_from_columns.{c}", cols, contract) for c, cols in wide.items()
        },
        total_outcome=total_outcome,
        controls=controls,
    )
    _one_source_each(path, kind, mapping)
    return mapping


def load_mapping(path: Path | None) -> dict[str, FileMapping]:
    """Parse and check the mapping file; a mistake in it is bad input naming the key."""
    if path is None:
        return {}
    try:
        document = load_small_yaml(Path(path))
    except YamlRefused as exc:
        raise BadInputError(printable(str(exc))) from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise BadInputError(f"{path}: expected file kinds ({', '.join(FILE_KINDS)}) at the top level")
    for kind in document:
        if kind not in FILE_KINDS:
            raise BadInputError(
                f"{path}: {printable(str(kind))[:60]}: unknown file kind (expected one of {', '.join(FILE_KINDS)})"
            )
    return {kind: _file_mapping(path, kind, body) for kind, body in document.items()}
