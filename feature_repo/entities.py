"""Entities: the things features describe — a user, a campaign, a market (network x geo)."""

from feast import Entity, ValueType

user = Entity(
    name="user",
    join_keys=["user_id"],
    value_type=ValueType.STRING,
    description="An acquired user (one per conversion).",
)
campaign = Entity(
    name="campaign",
    join_keys=["campaign_id"],
    value_type=ValueType.STRING,
    description="A paid campaign (network x platform x geo x creative x targeting).",
)
market = Entity(
    name="market",
    join_keys=["market_id"],
    value_type=ValueType.STRING,
    description="A network x geo market, id 'network:geo'.",
)
