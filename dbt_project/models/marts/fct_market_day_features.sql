-- Market features per date x network x geo: the day's indices, their change over 7 days and calendar signals.
-- index_change_7d = index(date) / index(date - 7 days) - 1 (NULL when that earlier row is missing or 0);
-- cpm_index_ma_7d / competition_index_ma_7d = mean over the rows dated date - 6 .. date (inclusive).
{%- set indices = ['cpm_index', 'competition_index', 'seasonality_index', 'economic_index', 'sentiment_index'] %}

with

market as (

    select * from {{ ref('fct_market_daily') }}

),

with_windows as (

    select
        market.*,
        avg(market.cpm_index) over trailing_7d as cpm_index_ma_7d,
        avg(market.competition_index) over trailing_7d as competition_index_ma_7d
    from market
    window trailing_7d as (
        partition by market.network, market.geo order by market.date
        range between interval '6 days' preceding and current row
    )

)

select
    current_day.date,
    current_day.network,
    current_day.geo,
    {%- for index in indices %}
    current_day.{{ index }},
    {%- endfor %}
    {%- for index in indices %}
    case
        when week_ago.{{ index }} is null or week_ago.{{ index }} = 0 then null
        else current_day.{{ index }} / week_ago.{{ index }} - 1
    end as {{ index }}_change_7d,
    {%- endfor %}
    current_day.cpm_index_ma_7d,
    current_day.competition_index_ma_7d,
    current_day.day_of_week,
    current_day.is_holiday,
    current_day.holiday_name,
    current_day.days_to_next_holiday
from with_windows as current_day
left join market as week_ago
    on week_ago.date = current_day.date - 7
    and current_day.network = week_ago.network
    and current_day.geo = week_ago.geo
