-- Cumulative revenue by age never decreases: d0 <= d7 <= d14 <= d30 <= d90 <= d180 <= total.

select
    user_id,
    revenue_d0,
    revenue_d7,
    revenue_d14,
    revenue_d30,
    revenue_d90,
    revenue_d180,
    revenue_total
from {{ ref('fct_user_value') }}
where not (
    revenue_d0 <= revenue_d7
    and revenue_d7 <= revenue_d14
    and revenue_d14 <= revenue_d30
    and revenue_d30 <= revenue_d90
    and revenue_d90 <= revenue_d180
    and revenue_d180 <= revenue_total
)
