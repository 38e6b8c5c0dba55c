-- The warehouse's "now": the latest moment covered by the data (one row).
-- An hourly row covers [hour_ts, hour_ts + 1h); events and installs are instants.
-- A view (three max() scans of raw), so it counts raw rows appended since the last build: the hourly job reads it
-- before its build to decide whether the user-level marts of the data day can be kept (ml/warehouse/user_marts.py).
{{ config(materialized='view') }}

with

hourly as (

    select {{ dbt.dateadd('hour', 1, 'max(hour_ts)') }} as max_ts from {{ ref('stg_campaign_hourly') }}

),

events as (

    select max(event_ts) as max_ts from {{ ref('stg_revenue_events') }}

),

installs as (

    select max(install_ts) as max_ts from {{ ref('stg_users') }}

),

as_of as (

    select greatest(hourly.max_ts, events.max_ts, installs.max_ts) as as_of_ts
    from hourly
    cross join events
    cross join installs

)

select
    as_of_ts,
    -- A day D is complete when D + 1 day <= as_of_ts.
    cast(as_of_ts as date) - 1 as last_complete_date
from as_of
