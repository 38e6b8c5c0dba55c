-- campaign_hourly.hour_ts is the start of a UTC hour.

select
    campaign_id,
    hour_ts
from {{ ref('stg_campaign_hourly') }}
where hour_ts <> date_trunc('hour', hour_ts)
