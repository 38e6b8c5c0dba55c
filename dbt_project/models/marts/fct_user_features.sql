-- Features per user for LTV models: acquisition source, early behaviour in the first 1/3/7 days, and labels.
--
-- Early windows follow the user-value convention: *_dN covers days_since_install < N (event_ts < install_ts +
-- N days), so revenue_d1 is the first 24 hours (= fct_user_value.revenue_d0). An early window is complete when
-- is_mature_dN (age_days >= N); for immature users it holds what has been seen so far.
-- hours_to_first_purchase / hours_to_first_event only look inside the first 7 days (NULL when none happened
-- by then), so no feature ever reads past day 7. Labels: revenue_d30/d90/d180 with their maturity flags
-- (train only on mature rows).
{%- set early = [1, 3, 7] %}

with

user_value as (

    select * from {{ ref('fct_user_value') }}

),

campaigns as (

    select * from {{ ref('stg_campaigns') }}

),

events as (

    select * from {{ ref('int_user_revenue') }}
    where days_since_install < 7

),

early as (

    select
        user_id,
        {%- for n in early %}
        sum(revenue) filter (where days_since_install < {{ n }}) as revenue_d{{ n }},
        count(*) filter (where days_since_install < {{ n }}) as events_d{{ n }},
        {%- endfor %}
        count(*) filter (where is_purchase) as purchases_d7,
        sum(revenue) filter (where event_type = 'ad') as ad_revenue_d7,
        sum(revenue) filter (where event_type = 'subscription') as subscription_revenue_d7,
        min(seconds_since_install) filter (where is_purchase and revenue > 0) / 3600.0 as hours_to_first_purchase,
        min(seconds_since_install) / 3600.0 as hours_to_first_event
    from events
    group by user_id

)

select
    ---------- ids and acquisition source
    user_value.user_id,
    user_value.campaign_id,
    user_value.install_ts,
    user_value.install_date,
    cast(extract('hour' from user_value.install_ts) as integer) as install_hour,
    cast(extract(isodow from user_value.install_date) - 1 as integer) as install_day_of_week,
    user_value.platform,
    user_value.geo,
    user_value.network,
    user_value.creative_format,
    user_value.targeting,
    campaigns.has_agency,
    campaigns.auto_optimization_enabled,
    user_value.as_of_ts,
    user_value.age_days,

    ---------- early behaviour
    {%- for n in early %}
    cast(coalesce(early.revenue_d{{ n }}, 0) as decimal(18, 2)) as revenue_d{{ n }},
    coalesce(early.events_d{{ n }}, 0) as events_d{{ n }},
    {{ dbt.dateadd('day', n, 'user_value.install_ts') }} <= user_value.as_of_ts as is_mature_d{{ n }},
    {%- endfor %}
    coalesce(early.purchases_d7, 0) as purchases_d7,
    cast(coalesce(early.ad_revenue_d7, 0) as decimal(18, 2)) as ad_revenue_d7,
    cast(coalesce(early.subscription_revenue_d7, 0) as decimal(18, 2)) as subscription_revenue_d7,
    coalesce(early.revenue_d7, 0) > 0 as is_payer_d7,
    early.hours_to_first_purchase,
    early.hours_to_first_event,

    ---------- labels
    user_value.revenue_d30,
    user_value.is_mature_d30,
    user_value.revenue_d90,
    user_value.is_mature_d90,
    user_value.revenue_d180,
    user_value.is_mature_d180,
    user_value.revenue_total
from user_value
left join campaigns on user_value.campaign_id = campaigns.campaign_id
left join early on user_value.user_id = early.user_id
