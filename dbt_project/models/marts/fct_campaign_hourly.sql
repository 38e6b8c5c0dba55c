-- Campaign delivery per UTC hour with KPIs, campaign attributes and the daily budget in effect at the hour's start.
-- Incremental: a run rebuilds the recent days whole (delete+insert by date, macros/incremental.sql); an hour's row
-- depends only on that hour's delivery, its campaign and the budgets effective by then, which the allocation only
-- ever adds for hours not yet delivered.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='date',
        on_schema_change='fail',
    )
}}

with

hourly as (

    select * from {{ ref('stg_campaign_hourly') }}
    {{ incremental_lookback('date') }}

),

campaigns as (

    select * from {{ ref('stg_campaigns') }}

),

budgets as (

    select * from {{ ref('stg_budgets') }}

),

with_budget as (

    select
        hourly.*,
        budgets.daily_budget
    from hourly
    {{ asof_left_join('budgets', [('hourly.campaign_id', 'campaign_id')], 'hourly.hour_ts', '>=', 'effective_ts') }}

)

select
    with_budget.campaign_id,
    with_budget.hour_ts,
    with_budget.date,
    with_budget.hour_of_day,
    campaigns.network,
    campaigns.platform,
    campaigns.geo,
    with_budget.spend,
    with_budget.impressions,
    with_budget.clicks,
    with_budget.conversions,
    with_budget.revenue,
    {{ campaign_kpis() }},
    with_budget.daily_budget
from with_budget
left join campaigns on with_budget.campaign_id = campaigns.campaign_id
