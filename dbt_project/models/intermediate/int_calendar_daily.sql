-- One row per calendar date over the years of int_holiday_calendar (the data's years, one either side),
-- with day of week (0 = Monday .. 6 = Sunday), weekend and holiday flags, and days until the next holiday.

with

holidays as (

    select * from {{ ref('int_holiday_calendar') }}

),

bounds as (

    select
        make_date(cast(min(extract('year' from holiday_date)) as integer), 1, 1) as first_date,
        make_date(cast(max(extract('year' from holiday_date)) as integer), 12, 31) as last_date
    from holidays

),

dates as (

    select
        cast(
            {{ series_rows('cast(first_date as timestamp)', 'cast(last_date as timestamp)', "interval '1 day'") }}
            as date
        ) as date
    from bounds

),

next_holiday as (

    select
        dates.date,
        holidays.holiday_date as next_holiday_date
    from dates
    {{ asof_left_join('holidays', [], 'dates.date', '<=', 'holiday_date') }}

)

select
    dates.date,
    cast(extract(isodow from dates.date) - 1 as integer) as day_of_week,
    extract(isodow from dates.date) in (6, 7) as is_weekend,
    holidays.holiday_date is not null as is_holiday,
    holidays.holiday_name,
    {{ dbt.datediff('dates.date', 'next_holiday.next_holiday_date', 'day') | trim }} as days_to_next_holiday
from dates
left join holidays on dates.date = holidays.holiday_date
left join next_holiday on dates.date = next_holiday.date
