-- fct_campaign_daily.daily_budget is the budget of the latest raw.budgets row with effective_ts <= date 00:00,
-- and daily_budget_end_of_day that of the latest row with effective_ts < date + 1 day (recomputed here).

with

days as (

    select
        campaign_id,
        date,
        daily_budget,
        daily_budget_end_of_day
    from {{ ref('fct_campaign_daily') }}

),

budgets as (

    select * from {{ ref('stg_budgets') }}

),

expected as (

    select
        days.campaign_id,
        days.date,
        {{ arg_max(
            'budgets.daily_budget', 'budgets.effective_ts', 'budgets.effective_ts <= cast(days.date as timestamp)'
        ) }} as start_budget,
        {{ arg_max('budgets.daily_budget', 'budgets.effective_ts') }} as end_budget
    from days
    left join budgets
        on days.campaign_id = budgets.campaign_id
        and budgets.effective_ts < {{ dbt.dateadd('day', 1, 'cast(days.date as timestamp)') }}
    group by days.campaign_id, days.date

)

select
    days.*,
    expected.start_budget,
    expected.end_budget
from days
inner join expected on days.campaign_id = expected.campaign_id and days.date = expected.date
where
    days.daily_budget is distinct from expected.start_budget
    or days.daily_budget_end_of_day is distinct from expected.end_budget
