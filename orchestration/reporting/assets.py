"""The executive dashboard as an asset: rebuilt from the warehouse after every allocation and monitoring run."""

import dagster as dg

from ml.reporting.dashboard import build_dashboard
from orchestration.resources import PmiHomeResource

DASHBOARD_INPUTS = [
    dg.AssetKey("applied_allocation"),
    dg.AssetKey("campaign_alerts"),
    dg.AssetKey("model_accuracy"),
    dg.AssetKey("kpi_forecast_model"),
    dg.AssetKey("media_mix_model"),  # only in media_mix_pipeline: its channel section
]


@dg.asset(
    group_name="reporting",
    deps=DASHBOARD_INPUTS,
    kinds={"html", "plotly"},
    description="One self-contained HTML page (plotly.js inlined) with every executive section, "
    "rebuilt from the warehouse after each allocation run.",
)
def executive_dashboard(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Regenerate PMI_HOME/dashboard/index.html (written atomically) and report where it is and what it holds."""
    page = build_dashboard(pmi_home.paths())
    context.log.info(f"dashboard written to {page.path} ({page.n_bytes:,} bytes)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(page.path)),
            "sections": len(page.sections),
            "charts": len(page.charts),
            "bytes": page.n_bytes,
        }
    )
