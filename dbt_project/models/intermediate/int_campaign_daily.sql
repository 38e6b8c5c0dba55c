-- Hourly delivery summed to UTC days (exact DECIMAL sums).
-- Incremental: a run rebuilds the recent days whole (delete+insert by date, macros/incremental.sql); a day's sums
-- depend only on that day's hours.

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

daily as (

    select
        campaign_id,
        date,
        count(*) as n_active_hours,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(revenue) as revenue
    from hourly
    group by campaign_id, date

)

select
    campaign_id,
    date,
    n_active_hours,
    cast(spend as decimal(18, 2)) as spend,
    cast(impressions as bigint) as impressions,
    cast(clicks as bigint) as clicks,
    cast(conversions as bigint) as conversions,
    cast(revenue as decimal(18, 2)) as revenue
from daily
