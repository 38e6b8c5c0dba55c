-- The recurring holidays of the `marketing_holidays` seed expanded to dated rows, one year either side of the data.

with

holidays as (

    select * from {{ ref('marketing_holidays') }}

),

data_years as (

    select extract('year' from date) as data_year from {{ ref('stg_market_daily') }}
    union all
    select extract('year' from hour_ts) as data_year from {{ ref('stg_campaign_hourly') }}
    union all
    select extract('year' from install_ts) as data_year from {{ ref('stg_users') }}

),

year_bounds as (

    select
        coalesce(min(data_year), extract('year' from current_date)) - 1 as first_year,
        coalesce(max(data_year), extract('year' from current_date)) + 1 as last_year
    from data_years

),

years as (

    select {{ series_rows('cast(first_year as integer)', 'cast(last_year as integer)') }} as calendar_year
    from year_bounds

),

-- The month's first day plus (day - 1) days; a day the month does not have (Feb 29 outside leap years) spills into
-- the next month and is dropped below.
dated as (

    select
        holidays.month,
        holidays.holiday_name,
        cast(
            make_date(cast(years.calendar_year as integer), cast(holidays.month as integer), 1)
            + cast(holidays.day - 1 as integer) as date
        ) as holiday_date
    from years
    cross join holidays
    where holidays.month between 1 and 12 and holidays.day between 1 and 31

)

select
    holiday_date,
    string_agg(holiday_name, ' / ' order by holiday_name) as holiday_name
from dated
where extract(month from holiday_date) = month
group by holiday_date
