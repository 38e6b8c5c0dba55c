-- Features per campaign-day (the rows of fct_campaign_daily) for KPI forecasting and saturation models.
--
-- No same-day leakage: every trailing_{N}d_* column aggregates the campaign's rows dated date - N .. date - 1
-- (calendar days; the day itself is never included; missing days contribute nothing). Ratios are ratios of the
-- window's sums. trailing_{N}d_mean_daily_spend = trailing spend / trailing active days (days with hourly rows).
-- The same-day columns (spend .. roas, new_users, cohort_revenue_d7) are the day's outcomes: labels, or the
-- decision variable (spend) of a response curve, never inputs to a forecast of the same day.
-- daily_budget is the budget in effect at the start of the day (known before delivery).
-- day_of_week: 0 = Monday .. 6 = Sunday (pandas convention). Market indices: the campaign's network x geo
-- on that date (NULL when the market feed has no row).
{%- set windows = [7, 14, 28] %}

with

daily as (

    select * from {{ ref('fct_campaign_daily') }}

),

campaigns as (

    select * from {{ ref('stg_campaigns') }}

),

market as (

    select * from {{ ref('fct_market_day_features') }}

),

calendar as (

    select * from {{ ref('int_calendar_daily') }}

),

numbered as (

    select
        *,
        {{ dbt.datediff("date '1970-01-01'", 'date', 'day') | trim }} as day_number,
        case when n_active_hours > 0 then 1 else 0 end as is_active_day
    from daily

),

windowed as (

    select
        numbered.*,
        {%- for n in windows %}
        {%- for measure in ['spend', 'impressions', 'clicks', 'conversions', 'revenue', 'is_active_day'] %}
        sum(numbered.{{ measure }}) over prior_{{ n }}d as trailing_{{ n }}d_sum_{{ measure }},
        {%- endfor %}
        {%- endfor %}
        sum(numbered.spend) over prior_1d as prev_day_spend,
        sum(numbered.daily_budget) over prior_1d as prev_day_budget
    from numbered
    window
        {%- for n in windows %}
        prior_{{ n }}d as (
            partition by campaign_id order by day_number range between {{ n }} preceding and 1 preceding
        ),
        {%- endfor %}
        prior_1d as (partition by campaign_id order by day_number range between 1 preceding and 1 preceding)

),

features as (

    select
        windowed.campaign_id,
        windowed.date,
        windowed.network,
        windowed.platform,
        windowed.geo,
        campaigns.creative_format,
        campaigns.targeting,
        campaigns.has_agency,
        campaigns.auto_optimization_enabled,

        ---------- same-day outcomes and decision (labels, not features)
        windowed.is_complete_day,
        windowed.n_active_hours,
        windowed.spend,
        windowed.impressions,
        windowed.clicks,
        windowed.conversions,
        windowed.revenue,
        windowed.cpm,
        windowed.ctr,
        windowed.cvr,
        windowed.cpa,
        windowed.roas,
        windowed.new_users,
        windowed.cohort_revenue_d7,
        windowed.is_cohort_mature_d7,
        windowed.daily_budget,

        ---------- trailing windows over prior days only
        {%- for n in windows %}
        cast(coalesce(windowed.trailing_{{ n }}d_sum_is_active_day, 0) as integer) as trailing_{{ n }}d_active_days,
        cast(coalesce(windowed.trailing_{{ n }}d_sum_spend, 0) as decimal(18, 2)) as trailing_{{ n }}d_spend,
        cast(coalesce(windowed.trailing_{{ n }}d_sum_conversions, 0) as bigint) as trailing_{{ n }}d_conversions,
        cast(coalesce(windowed.trailing_{{ n }}d_sum_revenue, 0) as decimal(18, 2)) as trailing_{{ n }}d_revenue,
        {{ campaign_kpis(spend='windowed.trailing_' ~ n ~ 'd_sum_spend',
                         impressions='windowed.trailing_' ~ n ~ 'd_sum_impressions',
                         clicks='windowed.trailing_' ~ n ~ 'd_sum_clicks',
                         conversions='windowed.trailing_' ~ n ~ 'd_sum_conversions',
                         revenue='windowed.trailing_' ~ n ~ 'd_sum_revenue',
                         prefix='trailing_' ~ n ~ 'd_') }},
        {{ safe_divide('windowed.trailing_' ~ n ~ 'd_sum_spend', 'windowed.trailing_' ~ n ~ 'd_sum_is_active_day') }}
            as trailing_{{ n }}d_mean_daily_spend,
        {%- endfor %}
        windowed.prev_day_spend,
        {{ safe_divide('windowed.prev_day_spend', 'windowed.prev_day_budget') }} as prev_day_budget_utilization,

        ---------- calendar
        {{ dbt.datediff('campaigns.launch_date', 'windowed.date', 'day') | trim }} as days_since_launch,
        calendar.day_of_week,
        calendar.is_weekend,
        calendar.is_holiday,
        calendar.holiday_name,
        calendar.days_to_next_holiday,

        ---------- market of the campaign's network x geo that day
        market.cpm_index,
        market.competition_index,
        market.seasonality_index,
        market.economic_index,
        market.sentiment_index,
        market.cpm_index_change_7d,
        market.competition_index_change_7d
    from windowed
    left join campaigns on windowed.campaign_id = campaigns.campaign_id
    left join calendar on windowed.date = calendar.date
    left join market
        on windowed.date = market.date
        and windowed.network = market.network
        and windowed.geo = market.geo

)

select
    *,
    ---------- saturation signals: today's spend / budget against the prior 7 days' mean daily spend
    {{ safe_divide('spend', 'trailing_7d_mean_daily_spend') }} as spend_vs_trailing_7d_mean,
    {{ safe_divide('daily_budget', 'trailing_7d_mean_daily_spend') }} as budget_vs_trailing_7d_mean,
    {{ safe_divide('trailing_7d_cpa', 'trailing_28d_cpa') }} as cpa_trend_7d_vs_28d,
    {{ safe_divide('trailing_7d_roas', 'trailing_28d_roas') }} as roas_trend_7d_vs_28d
from features
