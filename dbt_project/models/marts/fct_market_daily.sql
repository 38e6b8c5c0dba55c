-- Market indices per date x network x geo, with the calendar of the day.

with

market as (

    select * from {{ ref('stg_market_daily') }}

),

calendar as (

    select * from {{ ref('int_calendar_daily') }}

)

select
    market.date,
    market.network,
    market.geo,
    market.cpm_index,
    market.competition_index,
    market.seasonality_index,
    market.economic_index,
    market.sentiment_index,
    calendar.day_of_week,
    calendar.is_holiday,
    calendar.holiday_name,
    calendar.days_to_next_holiday
from market
left join calendar on market.date = calendar.date
