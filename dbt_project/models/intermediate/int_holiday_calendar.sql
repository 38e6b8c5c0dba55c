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

    select unnest(range(cast(first_year as bigint), cast(last_year as bigint) + 1)) as calendar_year
    from year_bounds

),

dated as (

    select
        cast(try_strptime(
            cast(years.calendar_year as varchar) || '-' || cast(holidays.month as varchar) || '-'
            || cast(holidays.day as varchar), '%Y-%m-%d'
        ) as date) as holiday_date,
        holidays.holiday_name
    from years
    cross join holidays

)

select
    holiday_date,
    string_agg(holiday_name, ' / ' order by holiday_name) as holiday_name
from dated
where holiday_date is not null
group by holiday_date
