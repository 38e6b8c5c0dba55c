"""Small HTML building blocks shared by the dashboard sections: cards, tables, notes and figure embedding."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go


@dataclass
class Section:
    """One dashboard section: an anchor id, a title, its HTML body and the figures it embeds (for counting)."""

    section_id: str
    title: str
    body: str
    figures: list[str] = field(default_factory=list)

    def html(self) -> str:
        return (
            f'<section id="{self.section_id}" class="pmi-section"><h2>{html.escape(self.title)}</h2>'
            f"{self.body}</section>"
        )


CURRENCY = "USD"


def money(value: float, signed: bool = False) -> str:
    """Money with its currency and thousands separators; a missing value shows as a dash, never as 'nan'."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:+,.0f} {CURRENCY}" if signed else f"{value:,.0f} {CURRENCY}"


def count(value: float) -> str:
    """A count of users or conversions: a whole number, never money."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{round(value):,}"


def pct(value: float, signed: bool = False, digits: int = 0) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:+.{digits}%}" if signed else f"{value:.{digits}%}"


def ratio(value: float, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:+.2f}x" if signed else f"{value:.2f}x"


def card(label: str, value: str, detail: str = "") -> str:
    """A KPI card: label, big value, one line comparing it with its baseline."""
    return (
        f'<div class="pmi-card"><div class="pmi-label">{html.escape(label)}</div>'
        f'<div class="pmi-value">{html.escape(value)}</div>'
        f'<div class="pmi-detail">{html.escape(detail)}</div></div>'
    )


def cards(items: list[str]) -> str:
    return f'<div class="pmi-cards">{"".join(items)}</div>'


def note(text: str) -> str:
    return f'<p class="pmi-note">{html.escape(text)}</p>'


def empty(text: str) -> str:
    """What a section says when the pipeline has not produced its data yet (never an empty chart)."""
    return f'<p class="pmi-empty">{html.escape(text)}</p>'


def table(frame: pd.DataFrame) -> str:
    """An HTML table of pre-formatted values (strings), escaped."""
    return frame.to_html(index=False, escape=True, classes="pmi-table", border=0)


def figure(fig: go.Figure, div_id: str, height: int = 360) -> str:
    """Embed a figure without its own copy of plotly.js (the page inlines it once)."""
    top = 80 if fig.layout.title.text else 40  # room for a title above the subplot titles
    fig.update_layout(height=height, margin={"l": 50, "r": 20, "t": top, "b": 40}, template="plotly_white")
    return fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False, "responsive": True}
    )
