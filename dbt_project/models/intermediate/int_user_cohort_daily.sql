-- Users acquired per campaign and UTC install date, with the revenue they have generated so far.

with

users as (

    select * from {{ ref('stg_users') }}

),

user_revenue as (

    select
        user_id,
        sum(revenue) as revenue_total,
        sum(revenue) filter (where days_since_install < 7) as revenue_d7,
        sum(revenue) filter (where days_since_install < 30) as revenue_d30
    from {{ ref('int_user_revenue') }}
    group by user_id

),

cohorts as (

    select
        users.campaign_id,
        users.install_date as date,
        count(*) as new_users,
        max(users.install_ts) as last_install_ts,
        coalesce(sum(user_revenue.revenue_total), 0) as cohort_revenue,
        coalesce(sum(user_revenue.revenue_d7), 0) as cohort_revenue_d7,
        coalesce(sum(user_revenue.revenue_d30), 0) as cohort_revenue_d30
    from users
    left join user_revenue on users.user_id = user_revenue.user_id
    group by users.campaign_id, users.install_date

)

select
    campaign_id,
    date,
    new_users,
    last_install_ts,
    cast(cohort_revenue as decimal(18, 2)) as cohort_revenue,
    cast(cohort_revenue_d7 as decimal(18, 2)) as cohort_revenue_d7,
    cast(cohort_revenue_d30 as decimal(18, 2)) as cohort_revenue_d30
from cohorts
