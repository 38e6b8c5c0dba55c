-- Contract invariant: a revenue event never happens before its user's install (at the install instant is fine).

select
    events.event_id,
    events.user_id,
    events.event_ts,
    users.install_ts
from {{ ref('stg_revenue_events') }} as events
inner join {{ ref('stg_users') }} as users on events.user_id = users.user_id
where events.event_ts < users.install_ts
