-- Each revenue event with its user's acquisition and the user's age at the event.
-- days_since_install = floor((event_ts - install_ts) / 24h): day 0 is the first 24 hours after install.
-- Incremental: a run rebuilds the events of the recent days (delete+insert by event_id, macros/incremental.sql);
-- an event's row depends only on the event and its user, and neither changes once loaded.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='fail',
    )
}}

with

events as (

    select * from {{ ref('stg_revenue_events') }}
    {{ incremental_lookback('cast(event_ts as date)') }}

),

users as (

    select * from {{ ref('stg_users') }}

),

joined as (

    select
        events.event_id,
        events.user_id,
        users.campaign_id,
        users.install_ts,
        users.install_date,
        events.event_ts,
        events.event_type,
        events.revenue,
        events.event_type in ('purchase', 'subscription') as is_purchase,
        {{ seconds_between('users.install_ts', 'events.event_ts') }} as seconds_since_install
    from events
    inner join users on events.user_id = users.user_id

)

select
    *,
    cast(floor(seconds_since_install / 86400.0) as integer) as days_since_install
from joined
