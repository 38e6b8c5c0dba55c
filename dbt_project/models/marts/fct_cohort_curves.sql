-- Cumulative revenue per user by campaign x install week x day since install (0..180).
--
-- A user has REACHED day d when day d is fully observed: age_days >= d + 1, i.e. install_ts + (d + 1) days
-- <= as_of_ts. Rows exist for d = 0 .. min(180, the oldest user's last reached day): only ages reached by at
-- least one user of the cohort. At day d:
--   users_reached_age                 users of the cohort who reached day d
--   revenue_reached                   revenue with days_since_install <= d of those users
--   cumulative_revenue_per_user       revenue_reached / users_reached_age (so at d = 6 it is the mean revenue_d7
--                                     of the cohort's d7-mature users). The set of users shrinks with d, so
--                                     at ages not reached by everyone the curve can dip.
--   cumulative_revenue_per_user_chained  sum over k <= d of (day-k revenue of users who reached k / users who
--                                     reached k): uses every observed user-day, never decreases.
--   cumulative_revenue                revenue with days_since_install <= d of ALL cohort users (never decreases)
-- install_week = date_trunc('week', install_ts): the Monday (UTC) of the install week.

with

users as (

    select * from {{ ref('stg_users') }}

),

by_age as (

    select * from {{ ref('int_user_value_by_age') }}

),

campaigns as (

    select * from {{ ref('stg_campaigns') }}

),

as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

user_reach as (

    select
        users.user_id,
        users.campaign_id,
        cast(date_trunc('week', users.install_ts) as date) as install_week,
        least(
            180,
            cast(floor({{ seconds_between('users.install_ts', 'as_of.as_of_ts') }} / 86400.0) as integer) - 1
        ) as max_reached_day
    from users
    cross join as_of

),

cohorts as (

    select
        campaign_id,
        install_week,
        count(*) as users_in_cohort,
        max(max_reached_day) as max_day
    from user_reach
    group by campaign_id, install_week
    having max(max_reached_day) >= 0

),

spine as (

    select
        campaign_id,
        install_week,
        users_in_cohort,
        {{ series_rows('0', 'max_day') }} as day_since_install
    from cohorts

),

reach_counts as (

    select
        campaign_id,
        install_week,
        max_reached_day as day_since_install,
        count(*) as n_users
    from user_reach
    where max_reached_day >= 0
    group by campaign_id, install_week, max_reached_day

),

user_days as (

    select
        user_reach.campaign_id,
        user_reach.install_week,
        user_reach.max_reached_day,
        by_age.days_since_install,
        by_age.revenue
    from by_age
    inner join user_reach on by_age.user_id = user_reach.user_id
    where by_age.days_since_install between 0 and 180

),

-- revenue of every cohort user by the day it happened
day_revenue as (

    select
        campaign_id,
        install_week,
        days_since_install as day_since_install,
        sum(revenue) as revenue
    from user_days
    group by campaign_id, install_week, days_since_install

),

-- revenue of users who reached the day it happened on (enters revenue_reached at d = k ...)
reached_revenue_in as (

    select
        campaign_id,
        install_week,
        days_since_install as day_since_install,
        sum(revenue) as revenue
    from user_days
    where days_since_install <= max_reached_day
    group by campaign_id, install_week, days_since_install

),

-- (... and leaves it at d = max_reached_day + 1, when its user no longer counts as reached)
reached_revenue_out as (

    select
        campaign_id,
        install_week,
        max_reached_day + 1 as day_since_install,
        sum(revenue) as revenue
    from user_days
    where days_since_install <= max_reached_day
    group by campaign_id, install_week, max_reached_day

),

curves as (

    select
        spine.campaign_id,
        spine.install_week,
        spine.day_since_install,
        spine.users_in_cohort,
        sum(coalesce(reach_counts.n_users, 0)) over cohort_desc as users_reached_age,
        sum(coalesce(reached_revenue_in.revenue, 0) - coalesce(reached_revenue_out.revenue, 0)) over cohort_asc
            as revenue_reached,
        coalesce(reached_revenue_in.revenue, 0) as day_revenue_reached,
        sum(coalesce(day_revenue.revenue, 0)) over cohort_asc as cumulative_revenue
    from spine
    left join reach_counts
        on spine.campaign_id = reach_counts.campaign_id
        and spine.install_week = reach_counts.install_week
        and spine.day_since_install = reach_counts.day_since_install
    left join reached_revenue_in
        on spine.campaign_id = reached_revenue_in.campaign_id
        and spine.install_week = reached_revenue_in.install_week
        and spine.day_since_install = reached_revenue_in.day_since_install
    left join reached_revenue_out
        on spine.campaign_id = reached_revenue_out.campaign_id
        and spine.install_week = reached_revenue_out.install_week
        and spine.day_since_install = reached_revenue_out.day_since_install
    left join day_revenue
        on spine.campaign_id = day_revenue.campaign_id
        and spine.install_week = day_revenue.install_week
        and spine.day_since_install = day_revenue.day_since_install
    window
        cohort_asc as (
            partition by spine.campaign_id, spine.install_week order by spine.day_since_install
            rows between unbounded preceding and current row
        ),
        cohort_desc as (
            partition by spine.campaign_id, spine.install_week order by spine.day_since_install desc
            rows between unbounded preceding and current row
        )

)

select
    curves.campaign_id,
    curves.install_week,
    cast(curves.day_since_install as integer) as day_since_install,
    campaigns.network,
    campaigns.platform,
    campaigns.geo,
    curves.users_in_cohort,
    cast(curves.users_reached_age as bigint) as users_reached_age,
    cast(curves.users_reached_age as {{ type_double() }}) / curves.users_in_cohort as share_reached_age,
    cast(curves.revenue_reached as decimal(18, 2)) as revenue_reached,
    {{ safe_divide('curves.revenue_reached', 'curves.users_reached_age') }} as cumulative_revenue_per_user,
    -- increments summed as DECIMAL(38, 12): exact, so the running total can never step down by float rounding
    cast(
        sum(cast({{ safe_divide('curves.day_revenue_reached', 'curves.users_reached_age') }} as decimal(38, 12)))
            over cohort_running
        as {{ type_double() }}
    ) as cumulative_revenue_per_user_chained,
    cast(curves.cumulative_revenue as decimal(18, 2)) as cumulative_revenue,
    cast(curves.cumulative_revenue as {{ type_double() }}) / curves.users_in_cohort
        as cumulative_revenue_per_cohort_user
from curves
left join campaigns on curves.campaign_id = campaigns.campaign_id
window cohort_running as (
    partition by curves.campaign_id, curves.install_week order by curves.day_since_install
    rows between unbounded preceding and current row
)
