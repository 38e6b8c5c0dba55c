-- At day N - 1 a cohort curve agrees with fct_user_value: the users who reached it are the is_mature_dN users
-- and their revenue is their revenue_dN (N = 1 via revenue_d0, then 7, 14, 30, 90, 180).
{%- set horizons = [(1, 'd0')] %}
{%- for n in revenue_horizons() %}{%- do horizons.append((n, 'd' ~ n)) %}{%- endfor %}
{%- set curve_days = [] %}
{%- for n, suffix in horizons %}{%- do curve_days.append(n - 1) %}{%- endfor %}

with

users as (

    select
        *,
        cast(date_trunc('week', install_ts) as date) as install_week
    from {{ ref('fct_user_value') }}

),

expected as (

    {%- for n, suffix in horizons %}
    select
        campaign_id,
        install_week,
        {{ n - 1 }} as day_since_install,
        count(*) filter (where is_mature_{{ suffix }}) as users_reached_age,
        coalesce(sum(revenue_{{ suffix }}) filter (where is_mature_{{ suffix }}), 0) as revenue_reached
    from users
    group by campaign_id, install_week
    having count(*) filter (where is_mature_{{ suffix }}) > 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

curves as (

    select
        campaign_id,
        install_week,
        day_since_install,
        users_reached_age,
        revenue_reached
    from {{ ref('fct_cohort_curves') }}
    where day_since_install in ({{ curve_days | join(', ') }})

)

select
    coalesce(expected.campaign_id, curves.campaign_id) as campaign_id,
    coalesce(expected.install_week, curves.install_week) as install_week,
    coalesce(expected.day_since_install, curves.day_since_install) as day_since_install,
    expected.users_reached_age as expected_users,
    curves.users_reached_age as curve_users,
    expected.revenue_reached as expected_revenue,
    curves.revenue_reached as curve_revenue
from expected
full outer join curves
    on expected.campaign_id = curves.campaign_id
    and expected.install_week = curves.install_week
    and expected.day_since_install = curves.day_since_install
where
    expected.campaign_id is null
    or curves.campaign_id is null
    or expected.users_reached_age <> curves.users_reached_age
    or expected.revenue_reached <> curves.revenue_reached
