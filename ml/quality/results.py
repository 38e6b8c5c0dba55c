"""What a quality run says, in the domain's words: which rule failed on which table, how often, on which rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

ERROR, WARNING = "error", "warning"


@dataclass
class RuleResult:
    """The outcome of one expectation on one table."""

    table: str
    rule: str
    expectation: str
    severity: str  # ERROR or WARNING
    success: bool
    failing_count: int
    checked_count: int
    failing_rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # first failing rows, keys first
    observed: str = ""  # table-level rules (freshness, row count) and exceptions say what they saw


@dataclass
class TableReport:
    """All rule outcomes of one table; ERROR failures block, WARNING failures are reported."""

    table: str
    results: list[RuleResult]

    @property
    def errors(self) -> list[RuleResult]:
        return [r for r in self.results if not r.success and r.severity == ERROR]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.results if not r.success and r.severity == WARNING]

    @property
    def passed(self) -> bool:
        return not self.errors and not self.warnings

    def failing_rules(self) -> pd.DataFrame:
        """One row per failed rule, errors first, for a check summary."""
        failed = self.errors + self.warnings
        return pd.DataFrame(
            {
                "rule": [r.rule for r in failed],
                "severity": [r.severity for r in failed],
                "expectation": [r.expectation for r in failed],
                "failing_rows": [r.failing_count for r in failed],
                "checked_rows": [r.checked_count for r in failed],
                "observed": [r.observed for r in failed],
            }
        )

    def markdown(self, max_rows: int = 10) -> str:
        """The failed rules and, for each, its first failing rows as Markdown tables."""
        if self.passed:
            return f"All {len(self.results)} expectations on {self.table} passed."
        parts = [self.failing_rules().to_markdown(index=False)]
        for failed in self.errors + self.warnings:
            if not failed.failing_rows.empty:
                parts.append(
                    f"**{failed.rule}** ({failed.severity}, {failed.failing_count:,} rows), first rows:\n\n"
                    + failed.failing_rows.head(max_rows).to_markdown(index=False)
                )
        return "\n\n".join(parts)
