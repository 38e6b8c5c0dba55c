-- Users, event counts and event revenue in the user and cohort marts equal the raw totals exactly.

with

raw_totals as (

    select
        (select count(*) as n_users from {{ source('raw', 'users') }}) as users,
        (select count(*) as n_events from {{ source('raw', 'revenue_events') }}) as events,
        (select coalesce(sum(revenue), 0) as revenue from {{ source('raw', 'revenue_events') }}) as revenue

),

mart_totals as (

    select
        'fct_user_value' as relation,
        count(*) as users,
        coalesce(sum(n_events), 0) as events,
        coalesce(sum(revenue_total), 0) as revenue
    from {{ ref('fct_user_value') }}
    union all
    select
        'fct_user_features' as relation,
        count(*) as users,
        null as events,
        coalesce(sum(revenue_total), 0) as revenue
    from {{ ref('fct_user_features') }}
    union all
    select
        'fct_campaign_daily' as relation,
        coalesce(sum(new_users), 0) as users,
        null as events,
        coalesce(sum(cohort_revenue), 0) as revenue
    from {{ ref('fct_campaign_daily') }}
    union all
    select
        'dim_campaigns' as relation,
        coalesce(sum(lifetime_users), 0) as users,
        null as events,
        coalesce(sum(lifetime_cohort_revenue), 0) as revenue
    from {{ ref('dim_campaigns') }}

)

select
    mart_totals.*,
    raw_totals.users as raw_users,
    raw_totals.events as raw_events,
    raw_totals.revenue as raw_revenue
from mart_totals
cross join raw_totals
where
    mart_totals.users <> raw_totals.users
    or mart_totals.events <> raw_totals.events
    or mart_totals.revenue <> raw_totals.revenue
