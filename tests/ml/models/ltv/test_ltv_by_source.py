"""By-source LTV: one row per source with counts, confidence from mature users, and value concentration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.ltv.by_source import confidence_label, ltv_by_source


def _frames(n_by_source: dict[str, tuple[int, int]]):
    now = pd.Timestamp("2026-10-01")
    rows, preds = [], []
    for source, (n, n_mature) in n_by_source.items():
        for i in range(n):
            age = 120 if i < n_mature else 30
            paid = 10.0 if i == 0 else 0.0  # the source's one payer pays everything on day 0
            rows.append(
                {
                    "network": source,
                    "platform": "ios",
                    "install_ts": now - pd.Timedelta(days=age),
                    "as_of_ts": now,
                    "revenue_d90": paid,
                    **{f"revenue_d{d}": paid for d in (1, 3, 7, 30)},
                }
            )
            preds.append(
                {
                    "ltv_d90_mean": 100.0 if i == 0 else 1.0,
                    "ltv_d90_median": 0.0,
                    "ltv_d90_p10": 0.0,
                    "ltv_d90_p90": 2.0,
                    "p_payer": 0.1,
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(preds)


def test_confidence_labels_by_mature_count():
    assert confidence_label([0, 20, 21, 100, 101, 5000]).tolist() == ["low", "low", "medium", "medium", "high", "high"]
    users, preds = _frames({"a": (300, 101), "b": (300, 100), "c": (50, 21), "d": (50, 20)})
    out = ltv_by_source(users, preds, ("network",)).set_index("network")
    assert out["n_users"].tolist() == [300, 300, 50, 50]
    assert out["n_mature"].tolist() == [101, 100, 21, 20]
    assert out["confidence"].tolist() == ["high", "medium", "medium", "low"]
    assert np.isclose(out.loc["a", "ltv_d90_mean"], (100 + 299) / 300)
    assert np.isclose(out.loc["a", "observed_ltv_d90"], 10 / 101)
    # top 10% of 300 users = 30 users: the whale (100) and 29 users at 1
    assert np.isclose(out.loc["a", "top10_value_share"], (100 + 29) / (100 + 299))


def test_by_source_on_model_predictions(ltv_frames, trained_ltv):
    df = ltv_frames["features"]
    pred = trained_ltv.model.predict_distribution(df)
    out = ltv_by_source(df, pred)
    assert out["n_users"].sum() == len(df)
    assert set(out["confidence"]) <= {"high", "medium", "low"}
    assert out["top10_value_share"].between(0.1, 1.0).all()
    by_campaign = ltv_by_source(df, pred, ("campaign_id",))
    assert len(by_campaign) == df["campaign_id"].nunique()
