-- Sparse user x day-since-install revenue (only days with events), with the user's running total by age.

with

events as (

    select * from {{ ref('int_user_revenue') }}

),

by_age as (

    select
        user_id,
        campaign_id,
        install_ts,
        days_since_install,
        sum(revenue) as revenue,
        count(*) as n_events
    from events
    group by user_id, campaign_id, install_ts, days_since_install

)

select
    user_id,
    campaign_id,
    install_ts,
    days_since_install,
    cast(revenue as decimal(18, 2)) as revenue,
    n_events,
    cast(sum(revenue) over (
        partition by user_id order by days_since_install rows between unbounded preceding and current row
    ) as decimal(18, 2)) as cumulative_revenue
from by_age
