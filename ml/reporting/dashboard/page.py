"""Assemble the sections into one self-contained HTML page (plotly.js inlined once, so it opens offline) and
write it atomically to ``PMI_HOME/dashboard/index.html``."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from plotly.offline import get_plotlyjs

from ml.io.atomic import write_atomically
from ml.reporting.dashboard import opportunities, outlook, overview, risk, segments
from ml.reporting.dashboard.channels import channel_sections
from ml.reporting.dashboard.data import DashboardData, load_dashboard_data
from ml.reporting.dashboard.layout import Section
from ml.settings import PmiPaths

SECTION_BUILDERS = (
    overview.coverage_section,
    overview.portfolio_section,
    overview.users_section,
    opportunities.opportunities_section,
    outlook.forecast_section,
    outlook.scenarios_section,
    opportunities.response_curves_section,
    opportunities.before_after_section,
    outlook.profit_distribution_section,
    risk.risk_section,
    risk.accuracy_section,
    segments.segments_section,
)

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d232b}
header{background:#1d3557;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85;font-size:13px}nav{padding:8px 28px;background:#e8ecf2;font-size:13px}
nav a{margin-right:14px;color:#1d3557}main{padding:8px 28px 40px}
.pmi-section{background:#fff;border-radius:8px;padding:12px 20px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.pmi-section h2{font-size:18px;margin:4px 0 12px}.pmi-cards{display:flex;flex-wrap:wrap;gap:12px}
.pmi-card{flex:1 1 200px;border:1px solid #e1e5eb;border-radius:6px;padding:10px 14px}
.pmi-label{font-size:12px;color:#5b6675;text-transform:uppercase}.pmi-value{font-size:26px;font-weight:600}
.pmi-detail{font-size:12px;color:#3c4653}.pmi-note{font-size:12px;color:#5b6675}
.pmi-empty{font-style:italic;color:#8a5a00;background:#fff7e6;padding:8px 12px;border-radius:4px}
.pmi-table{border-collapse:collapse;font-size:13px;margin:8px 0;width:100%}
.pmi-table th,.pmi-table td{border-bottom:1px solid #e1e5eb;padding:4px 8px;text-align:left;vertical-align:top}
.pmi-insights li{margin:4px 0}
"""


@dataclass(frozen=True)
class DashboardPage:
    """Where the page was written and what it holds (for the CLI and the Dagster asset's metadata)."""

    path: Path
    sections: tuple[str, ...]
    charts: tuple[str, ...]
    n_bytes: int


def dashboard_path(paths: PmiPaths) -> Path:
    return paths.dashboard_page


def build_sections(data: DashboardData) -> list[Section]:
    return [builder(data) for builder in SECTION_BUILDERS]


def render(data: DashboardData, sections: list[Section]) -> str:
    """The full HTML document: header (data as-of, allocation run), navigation, sections, plotly.js once."""
    as_of = data["as_of"]
    as_of_text = str(pd.Timestamp(as_of["as_of"].iloc[0])) if len(as_of) else "unknown"
    nav = "".join(f'<a href="#{s.section_id}">{html.escape(s.title)}</a>' for s in sections)
    body = "".join(s.html() for s in sections)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>pmi executive dashboard</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style>'
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f"<header><h1>Predictive marketing intelligence: executive dashboard</h1>"
        f"<p>Data as of {html.escape(as_of_text)} &middot; allocation run {html.escape(str(data.run_id))} "
        f"&middot; generated {pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M} UTC</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>"
    )


def build_dashboard(paths: PmiPaths, out: Path | None = None) -> DashboardPage:
    """Read the warehouse, build every section and write the page; returns its path and contents summary."""
    data = load_dashboard_data(paths)
    sections = build_sections(data)
    sections[1:1] = channel_sections(paths)  # after "Data coverage", on channel-level homes only (else none)
    target = Path(out) if out is not None else dashboard_path(paths)
    n_bytes = write_atomically(target, render(data, sections))
    return DashboardPage(
        path=target,
        sections=tuple(s.section_id for s in sections),
        charts=tuple(c for s in sections for c in s.figures),
        n_bytes=n_bytes,
    )
