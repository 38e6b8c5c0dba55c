-- Campaign facts per UTC day: delivery summed from hours, KPIs, the day's install cohort and its revenue to date,
-- and the daily budget in effect.
--
-- Rows: every campaign-day with hourly delivery or with installs (a full outer join, so cohort revenue always
-- reconciles with raw.revenue_events). Measures of a side without rows are 0.
-- Budget: `daily_budget` is the budget in effect at the START of the day (latest raw.budgets row with
-- effective_ts <= date 00:00 UTC), i.e. the budget known before the day's delivery; `daily_budget_end_of_day`
-- is the one in effect at the end (latest effective_ts < date + 1 day). They differ only on days with an
-- intraday budget change (`n_budget_changes` > 0 counts rows with date 00:00 < effective_ts < date + 1 day).

with

delivery as (

    select * from {{ ref('int_campaign_daily') }}

),

cohorts as (

    select * from {{ ref('int_user_cohort_daily') }}

),

campaigns as (

    select * from {{ ref('stg_campaigns') }}

),

budgets as (

    select * from {{ ref('stg_budgets') }}

),

as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

campaign_days as (

    select
        coalesce(delivery.campaign_id, cohorts.campaign_id) as campaign_id,
        coalesce(delivery.date, cohorts.date) as date,
        coalesce(delivery.n_active_hours, 0) as n_active_hours,
        coalesce(delivery.spend, 0) as spend,
        coalesce(delivery.impressions, 0) as impressions,
        coalesce(delivery.clicks, 0) as clicks,
        coalesce(delivery.conversions, 0) as conversions,
        coalesce(delivery.revenue, 0) as revenue,
        coalesce(cohorts.new_users, 0) as new_users,
        coalesce(cohorts.cohort_revenue, 0) as cohort_revenue,
        coalesce(cohorts.cohort_revenue_d7, 0) as cohort_revenue_d7,
        coalesce(cohorts.cohort_revenue_d30, 0) as cohort_revenue_d30
    from delivery
    full outer join cohorts
        on delivery.campaign_id = cohorts.campaign_id
        and delivery.date = cohorts.date

),

day_bounds as (

    select
        *,
        cast(date as timestamp) as day_start_ts,
        {{ dbt.dateadd('day', 1, 'cast(date as timestamp)') }} as day_end_ts
    from campaign_days

),

start_budget as (

    select
        day_bounds.campaign_id,
        day_bounds.date,
        budgets.daily_budget,
        budgets.budget_source
    from day_bounds
    {{ asof_left_join('budgets', [('day_bounds.campaign_id', 'campaign_id')], 'day_bounds.day_start_ts', '>=',
                      'effective_ts') }}

),

end_budget as (

    select
        day_bounds.campaign_id,
        day_bounds.date,
        budgets.daily_budget
    from day_bounds
    {{ asof_left_join('budgets', [('day_bounds.campaign_id', 'campaign_id')], 'day_bounds.day_end_ts', '>',
                      'effective_ts') }}

),

budget_changes as (

    select
        day_bounds.campaign_id,
        day_bounds.date,
        count(budgets.effective_ts) as n_budget_changes
    from day_bounds
    inner join budgets
        on day_bounds.campaign_id = budgets.campaign_id
        and day_bounds.day_start_ts < budgets.effective_ts
        and day_bounds.day_end_ts > budgets.effective_ts
    group by day_bounds.campaign_id, day_bounds.date

)

select
    day_bounds.campaign_id,
    day_bounds.date,
    campaigns.network,
    campaigns.platform,
    campaigns.geo,
    day_bounds.n_active_hours,
    day_bounds.day_end_ts <= as_of.as_of_ts as is_complete_day,
    day_bounds.spend,
    day_bounds.impressions,
    day_bounds.clicks,
    day_bounds.conversions,
    day_bounds.revenue,
    {{ campaign_kpis(spend='day_bounds.spend', impressions='day_bounds.impressions', clicks='day_bounds.clicks',
                     conversions='day_bounds.conversions', revenue='day_bounds.revenue') }},
    day_bounds.new_users,
    day_bounds.cohort_revenue,
    {{ safe_divide('day_bounds.cohort_revenue', 'day_bounds.spend') }} as cohort_roas,
    day_bounds.cohort_revenue_d7,
    {{ safe_divide('day_bounds.cohort_revenue_d7', 'day_bounds.spend') }} as cohort_roas_d7,
    -- every user installed that day has reached age 7 days (the day's last possible install is day_end_ts)
    {{ dbt.dateadd('day', 7, 'day_bounds.day_end_ts') }} <= as_of.as_of_ts as is_cohort_mature_d7,
    day_bounds.cohort_revenue_d30,
    {{ safe_divide('day_bounds.cohort_revenue_d30', 'day_bounds.spend') }} as cohort_roas_d30,
    {{ dbt.dateadd('day', 30, 'day_bounds.day_end_ts') }} <= as_of.as_of_ts as is_cohort_mature_d30,
    start_budget.daily_budget,
    end_budget.daily_budget as daily_budget_end_of_day,
    start_budget.budget_source,
    coalesce(budget_changes.n_budget_changes, 0) as n_budget_changes,
    {{ safe_divide('day_bounds.spend', 'start_budget.daily_budget') }} as budget_utilization
from day_bounds
left join campaigns on day_bounds.campaign_id = campaigns.campaign_id
cross join as_of
left join start_budget
    on day_bounds.campaign_id = start_budget.campaign_id and day_bounds.date = start_budget.date
left join end_budget
    on day_bounds.campaign_id = end_budget.campaign_id and day_bounds.date = end_budget.date
left join budget_changes
    on day_bounds.campaign_id = budget_changes.campaign_id and day_bounds.date = budget_changes.date
