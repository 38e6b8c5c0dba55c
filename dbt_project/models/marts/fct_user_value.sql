-- One row per user (also users without events): revenue by age, maturity flags and lifetime totals.
--
-- Conventions (days_since_install = floor((event_ts - install_ts) / 24h)):
--   revenue_d0        = revenue of day 0, the first 24 hours (days_since_install = 0)
--   revenue_dN (N>=1) = cumulative revenue with days_since_install < N, i.e. event_ts < install_ts + N days
--                       (revenue_d7 covers days 0..6)
--   age_days          = (as_of_ts - install_ts) in days, as_of_ts = int_warehouse_as_of.as_of_ts
--   is_mature_dN      = age_days >= N (install_ts + N days <= as_of_ts): the window of revenue_dN is fully
--                       observed; is_mature_d0 uses the 1-day window of revenue_d0 (age_days >= 1).
{%- set horizons = revenue_horizons() %}

with

users as (

    select * from {{ ref('stg_users') }}

),

campaigns as (

    select * from {{ ref('stg_campaigns') }}

),

events as (

    select * from {{ ref('int_user_revenue') }}

),

as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

user_events as (

    select
        user_id,
        sum(revenue) filter (where days_since_install < 1) as revenue_d0,
        {%- for n in horizons %}
        sum(revenue) filter (where days_since_install < {{ n }}) as revenue_d{{ n }},
        {%- endfor %}
        sum(revenue) as revenue_total,
        count(*) as n_events,
        min(event_ts) as first_event_ts,
        bool_or(is_purchase and revenue > 0) as is_purchaser
    from events
    group by user_id

),

joined as (

    select
        users.user_id,
        users.campaign_id,
        users.install_ts,
        users.install_date,
        users.platform,
        users.geo,
        campaigns.network,
        campaigns.creative_format,
        campaigns.targeting,
        as_of.as_of_ts,
        {{ seconds_between('users.install_ts', 'as_of.as_of_ts') }} / 86400.0 as age_days,
        user_events.revenue_d0,
        {%- for n in horizons %}
        user_events.revenue_d{{ n }},
        {%- endfor %}
        user_events.revenue_total,
        user_events.n_events,
        user_events.first_event_ts,
        user_events.is_purchaser
    from users
    left join campaigns on users.campaign_id = campaigns.campaign_id
    cross join as_of
    left join user_events on users.user_id = user_events.user_id

)

select
    user_id,
    campaign_id,
    install_ts,
    install_date,
    platform,
    geo,
    network,
    creative_format,
    targeting,
    as_of_ts,
    age_days,
    cast(coalesce(revenue_d0, 0) as decimal(18, 2)) as revenue_d0,
    {%- for n in horizons %}
    cast(coalesce(revenue_d{{ n }}, 0) as decimal(18, 2)) as revenue_d{{ n }},
    {%- endfor %}
    {{ dbt.dateadd('day', 1, 'install_ts') }} <= as_of_ts as is_mature_d0,
    {%- for n in horizons %}
    {{ dbt.dateadd('day', n, 'install_ts') }} <= as_of_ts as is_mature_d{{ n }},
    {%- endfor %}
    cast(coalesce(revenue_total, 0) as decimal(18, 2)) as revenue_total,
    coalesce(n_events, 0) as n_events,
    first_event_ts,
    coalesce(revenue_total, 0) > 0 as is_payer,
    coalesce(is_purchaser, false) as is_purchaser
from joined
