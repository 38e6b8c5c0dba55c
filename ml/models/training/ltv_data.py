"""Which users the LTV step reads, and in what pieces, so its memory does not grow with the number of users.

Training reads a bounded, stratified sample: within every stratum (campaign x install week) the same share of
users, picked by a seeded hash of the user id, so each campaign and cohort keeps its weight and the same
warehouse always gives the same sample. Below the budget the sample is every user (the default portfolio is
trained exactly as before). Scoring reads whole campaigns in groups of at most ``score_chunk_users`` users (a
campaign larger than that is one group), so per-campaign statistics are computed on complete campaigns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from ml.io.sql_text import sql_literal
from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql

USERS = "marts.fct_user_features"


@dataclass(frozen=True)
class LtvDataConfig:
    """How many users the LTV step holds in memory at once."""

    train_user_budget: int = 500_000  # above the default portfolio's 412k users: it is trained on every user
    sample_seed: int = 0
    score_chunk_users: int = 500_000
    duckdb_memory_limit: str = "2GB"  # DuckDB's share while it samples, joins and groups users (it spills beyond)


def sample_share(n_users: int, budget: int) -> float:
    """Share of every stratum to keep so that about ``budget`` users are sampled (1.0 when all fit)."""
    if budget <= 0:
        raise ValueError(f"train_user_budget must be positive, got {budget}")
    return min(1.0, budget / max(n_users, 1))


def stratified_sample_sql(share: float, seed: int) -> str:
    """SQL of the sampled user ids: in each campaign x install-week stratum, the ``ceil(share * n)`` users with
    the smallest seeded hash (ties by user id), so the sample is deterministic and proportional."""
    return f"""
        SELECT user_id FROM (
            SELECT user_id,
                   row_number() OVER (PARTITION BY campaign_id, date_trunc('week', install_ts)
                                      ORDER BY hash('{int(seed)}:' || user_id), user_id) AS rank_in_stratum,
                   count(*) OVER (PARTITION BY campaign_id, date_trunc('week', install_ts)) AS stratum_users
            FROM {USERS})
        WHERE rank_in_stratum <= ceil({float(share)!r} * stratum_users)"""


def training_user_filter(paths: PmiPaths, config: LtvDataConfig) -> tuple[str, float]:
    """A WHERE clause selecting the training sample, and the share of users it keeps."""
    n_users = int(read_sql(paths, f"SELECT count(*) AS n FROM {USERS}")["n"].iloc[0])
    share = sample_share(n_users, config.train_user_budget)
    if share >= 1.0:
        return "TRUE", 1.0
    return f"user_id IN ({stratified_sample_sql(share, config.sample_seed)})", share


def campaign_groups(counts: pd.DataFrame, max_users: int) -> list[list[str]]:
    """Campaigns packed in order into groups of at most ``max_users`` users (a bigger campaign is alone)."""
    if max_users <= 0:
        raise ValueError(f"score_chunk_users must be positive, got {max_users}")
    groups: list[list[str]] = []
    size = max_users
    for campaign, n in zip(counts["campaign_id"], counts["n"], strict=True):
        if size + n > max_users:
            groups.append([])
            size = 0
        groups[-1].append(str(campaign))
        size += int(n)
    return groups


def scoring_chunks(paths: PmiPaths, config: LtvDataConfig) -> Iterator[list[str]]:
    """The campaign groups scoring reads one at a time."""
    counts = read_sql(
        paths,
        f"SELECT campaign_id, count(*) AS n FROM {USERS} GROUP BY 1 ORDER BY 1",
        memory_limit=config.duckdb_memory_limit,
    )
    yield from campaign_groups(counts, config.score_chunk_users)


def campaign_filter(campaigns: list[str]) -> str:
    """A WHERE clause for the users of these campaigns (ids quoted as SQL literals)."""
    quoted = ", ".join(sql_literal(c) for c in campaigns)
    return f"campaign_id IN ({quoted})" if campaigns else "FALSE"
