"""How long PyMC-Marketing's MMM takes on the retail file here: the measurement behind using a scipy fit instead.

PyMC-Marketing is not a pmi dependency; run this in a separate virtualenv, never in .venv:
    python3.11 -m venv /tmp/pmm && /tmp/pmm/bin/pip install pymc-marketing
    /tmp/pmm/bin/python benchmarks/mmm_pymc_timing.py
Same form as ml/models/mmm (geometric adstock, 8-week maximum lag; logistic saturation, PyMC-Marketing's default;
yearly Fourier order 2; the retail file's 10 spend channels; controls: sentiment, gas price, store count, markdowns
and holiday flags), 2 chains x 1,000 draws after 1,000 tuning steps on 2 cores. Prints the wall time of model
build + compilation + sampling and the largest R-hat.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pandas as pd

RETAIL_CSV = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "retail_mmm" / "weekly_sales_media.csv"
)


def main() -> None:
    warnings.filterwarnings("ignore")
    import arviz as az
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    frame = pd.read_csv(RETAIL_CSV)
    frame["date"] = pd.to_datetime(frame["wk_strt_dt"])
    channels = [c for c in frame if c.startswith("mdsp_")]
    controls = [
        "me_ics_all",
        "me_gas_dpg",
        "st_ct",
        "mrkdn_valadd_edw",
        "mrkdn_pdm",
        *[c for c in frame if c.startswith("hldy_")],
    ]
    model = MMM(
        date_column="date",
        channel_columns=channels,
        control_columns=controls,
        adstock=GeometricAdstock(l_max=8),
        saturation=LogisticSaturation(),
        yearly_seasonality=2,
    )
    start = time.perf_counter()
    model.fit(
        frame[["date", *channels, *controls]],
        frame["sales"],
        chains=2,
        cores=2,
        draws=1000,
        tune=1000,
        progressbar=False,
        random_seed=1,
    )
    print(
        f"PyMC-Marketing MMM on the retail file ({len(channels)} channels, {len(controls)} controls): "
        f"{time.perf_counter() - start:.0f} s; largest R-hat {float(az.summary(model.idata)['r_hat'].max()):.3f}"
    )


if __name__ == "__main__":
    main()
