"""The per-campaign d90 value that ``predictions.campaign_ltv`` holds, with no LTV model trained (benchmarks, tests).

Every user's revenue so far is developed along the campaign's value curve, as on the production path; the few users
under a day old, whom production values with the ensemble, take their campaign's settled mean instead (the settled
users' mean where a campaign has none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.ltv.development import developed_ltv_by_source
from ml.models.ltv.features import is_mature, label_column


def campaign_value_without_model(users: pd.DataFrame, horizon: int = 90) -> pd.DataFrame:
    """campaign_id-indexed ``n_users``, ``blended_ltv_d{h}`` and ``settled_ltv_d{h}``: what ``portfolio_value`` sums."""
    label = label_column(horizon)
    mature = is_mature(users, horizon)
    settled_mean = users[mature].groupby("campaign_id")[label].mean()
    stand_in = users["campaign_id"].map(settled_mean).fillna(users.loc[mature, label].mean()).to_numpy(dtype=float)
    developed = developed_ltv_by_source(users, np.nan_to_num(stand_in), ("campaign_id",), horizon)
    return developed.rename(columns={f"developed_ltv_d{horizon}": f"blended_ltv_d{horizon}"}).assign(
        n_users=users.groupby("campaign_id").size()
    )
