with

source as (

    select * from {{ source('raw', 'campaign_hourly') }}

),

renamed as (

    select
        ----------  ids
        campaign_id,

        ---------- timestamps
        hour_ts,
        cast(hour_ts as date) as date,
        cast(extract('hour' from hour_ts) as integer) as hour_of_day,

        ---------- numerics
        cast(spend as decimal(18, 2)) as spend,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(conversions as bigint) as conversions,
        cast(revenue as decimal(18, 2)) as revenue

    from source

)

select * from renamed
