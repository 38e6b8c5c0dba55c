-- Spend, impressions, clicks, conversions and revenue of every campaign mart equal the raw totals exactly.

with

raw_totals as (

    select
        'raw' as relation,
        coalesce(sum(spend), 0) as spend,
        coalesce(sum(impressions), 0) as impressions,
        coalesce(sum(clicks), 0) as clicks,
        coalesce(sum(conversions), 0) as conversions,
        coalesce(sum(revenue), 0) as revenue
    from {{ source('raw', 'campaign_hourly') }}

),

mart_totals as (

    {%- for relation in ['fct_campaign_hourly', 'fct_campaign_daily', 'fct_campaign_day_features'] %}
    select
        '{{ relation }}' as relation,
        coalesce(sum(spend), 0) as spend,
        coalesce(sum(impressions), 0) as impressions,
        coalesce(sum(clicks), 0) as clicks,
        coalesce(sum(conversions), 0) as conversions,
        coalesce(sum(revenue), 0) as revenue
    from {{ ref(relation) }}
    union all
    {%- endfor %}
    select
        'dim_campaigns' as relation,
        coalesce(sum(lifetime_spend), 0) as spend,
        coalesce(sum(lifetime_impressions), 0) as impressions,
        coalesce(sum(lifetime_clicks), 0) as clicks,
        coalesce(sum(lifetime_conversions), 0) as conversions,
        coalesce(sum(lifetime_revenue), 0) as revenue
    from {{ ref('dim_campaigns') }}

)

select
    mart_totals.*,
    raw_totals.spend as raw_spend,
    raw_totals.conversions as raw_conversions,
    raw_totals.revenue as raw_revenue
from mart_totals
cross join raw_totals
where
    mart_totals.spend <> raw_totals.spend
    or mart_totals.impressions <> raw_totals.impressions
    or mart_totals.clicks <> raw_totals.clicks
    or mart_totals.conversions <> raw_totals.conversions
    or mart_totals.revenue <> raw_totals.revenue
