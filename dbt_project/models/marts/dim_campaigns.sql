-- One row per campaign: attributes, active period, lifetime totals and the budget currently in effect.
-- A day is "active" when the campaign has at least one hourly row with spend > 0 or impressions > 0.

with

campaigns as (

    select * from {{ ref('stg_campaigns') }}

),

daily as (

    select * from {{ ref('int_campaign_daily') }}

),

cohorts as (

    select * from {{ ref('int_user_cohort_daily') }}

),

budgets as (

    select * from {{ ref('stg_budgets') }}

),

as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

active_days as (

    select distinct
        campaign_id,
        date
    from {{ ref('stg_campaign_hourly') }}
    where spend > 0 or impressions > 0

),

activity as (

    select
        campaign_id,
        min(date) as first_active_date,
        max(date) as last_active_date,
        count(*) as n_active_days
    from active_days
    group by campaign_id

),

lifetime as (

    select
        campaign_id,
        sum(spend) as lifetime_spend,
        sum(impressions) as lifetime_impressions,
        sum(clicks) as lifetime_clicks,
        sum(conversions) as lifetime_conversions,
        sum(revenue) as lifetime_revenue
    from daily
    group by campaign_id

),

acquired as (

    select
        campaign_id,
        sum(new_users) as lifetime_users,
        sum(cohort_revenue) as lifetime_cohort_revenue
    from cohorts
    group by campaign_id

),

budgets_newest_first as (

    select
        campaign_id,
        daily_budget,
        budget_source,
        effective_ts,
        row_number() over (partition by campaign_id order by effective_ts desc) as budget_rank
    from budgets

),

latest_budget as (

    select
        campaign_id,
        daily_budget as current_daily_budget,
        budget_source as current_budget_source,
        effective_ts as current_budget_effective_ts
    from budgets_newest_first
    where budget_rank = 1

),

joined as (

    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.network,
        campaigns.platform,
        campaigns.geo,
        campaigns.creative_format,
        campaigns.targeting,
        campaigns.has_agency,
        campaigns.auto_optimization_enabled,
        campaigns.creative_production_cost,
        campaigns.launched_at,
        campaigns.launch_date,
        {{ dbt.datediff('campaigns.launch_date', 'cast(as_of.as_of_ts as date)', 'day') | trim }}
            as days_since_launch,
        activity.first_active_date,
        activity.last_active_date,
        coalesce(activity.n_active_days, 0) as n_active_days,
        cast(coalesce(lifetime.lifetime_spend, 0) as decimal(18, 2)) as lifetime_spend,
        cast(coalesce(lifetime.lifetime_impressions, 0) as bigint) as lifetime_impressions,
        cast(coalesce(lifetime.lifetime_clicks, 0) as bigint) as lifetime_clicks,
        cast(coalesce(lifetime.lifetime_conversions, 0) as bigint) as lifetime_conversions,
        cast(coalesce(lifetime.lifetime_revenue, 0) as decimal(18, 2)) as lifetime_revenue,
        cast(coalesce(acquired.lifetime_users, 0) as bigint) as lifetime_users,
        cast(coalesce(acquired.lifetime_cohort_revenue, 0) as decimal(18, 2)) as lifetime_cohort_revenue,
        latest_budget.current_daily_budget,
        latest_budget.current_budget_source,
        latest_budget.current_budget_effective_ts
    from campaigns
    cross join as_of
    left join activity on campaigns.campaign_id = activity.campaign_id
    left join lifetime on campaigns.campaign_id = lifetime.campaign_id
    left join acquired on campaigns.campaign_id = acquired.campaign_id
    left join latest_budget on campaigns.campaign_id = latest_budget.campaign_id

)

select
    *,
    {{ safe_divide('lifetime_spend', 'lifetime_conversions') }} as lifetime_cpa,
    {{ safe_divide('lifetime_revenue', 'lifetime_spend') }} as lifetime_roas,
    {{ safe_divide('lifetime_cohort_revenue', 'lifetime_spend') }} as lifetime_cohort_roas
from joined
