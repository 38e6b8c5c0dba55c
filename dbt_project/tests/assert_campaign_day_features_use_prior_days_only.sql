-- The trailing windows equal sums recomputed independently over fct_campaign_daily rows dated date - N .. date - 1
-- (never the day itself).

with

days as (

    select * from {{ ref('fct_campaign_daily') }}

),

features as (

    select * from {{ ref('fct_campaign_day_features') }}

),

recomputed as (

    select
        {%- for n in [7, 14, 28] %}
        coalesce(sum(prior_days.spend) filter (where prior_days.date >= days.date - {{ n }}), 0) as spend_{{ n }}d,
        coalesce(sum(prior_days.conversions) filter (where prior_days.date >= days.date - {{ n }}), 0)
            as conversions_{{ n }}d,
        count(prior_days.date) filter (where prior_days.date >= days.date - {{ n }} and prior_days.n_active_hours > 0)
            as active_days_{{ n }}d,
        {%- endfor %}
        days.campaign_id,
        days.date
    from days
    left join days as prior_days
        on days.campaign_id = prior_days.campaign_id
        and prior_days.date between days.date - 28 and days.date - 1
    group by days.campaign_id, days.date

)

select
    features.campaign_id,
    features.date
from features
inner join recomputed
    on features.campaign_id = recomputed.campaign_id and features.date = recomputed.date
where
    false
    {%- for n in [7, 14, 28] %}
    or features.trailing_{{ n }}d_spend <> recomputed.spend_{{ n }}d
    or features.trailing_{{ n }}d_conversions <> recomputed.conversions_{{ n }}d
    or features.trailing_{{ n }}d_active_days <> recomputed.active_days_{{ n }}d
    {%- endfor %}
