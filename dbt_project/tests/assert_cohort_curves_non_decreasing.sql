-- Along each cohort's curve: cumulative_revenue and the chained per-user curve never decrease, users_reached_age
-- never increases, and cumulative_revenue_per_user never decreases while the whole cohort has reached the age.

with

curves as (

    select
        *,
        lag(day_since_install) over cohort as prev_day,
        lag(cumulative_revenue) over cohort as prev_cumulative_revenue,
        lag(cumulative_revenue_per_user_chained) over cohort as prev_chained,
        lag(users_reached_age) over cohort as prev_users_reached_age,
        lag(cumulative_revenue_per_user) over cohort as prev_per_user
    from {{ ref('fct_cohort_curves') }}
    window cohort as (partition by campaign_id, install_week order by day_since_install)

)

select
    campaign_id,
    install_week,
    day_since_install,
    prev_day,
    cumulative_revenue,
    prev_cumulative_revenue,
    cumulative_revenue_per_user_chained,
    prev_chained,
    users_reached_age,
    prev_users_reached_age,
    cumulative_revenue_per_user,
    prev_per_user
from curves
where
    (prev_day is null and day_since_install <> 0)
    or (prev_day is not null and day_since_install <> prev_day + 1)
    or cumulative_revenue < prev_cumulative_revenue
    or cumulative_revenue_per_user_chained < prev_chained
    or users_reached_age > prev_users_reached_age
    or (users_reached_age = users_in_cohort and cumulative_revenue_per_user < prev_per_user)
