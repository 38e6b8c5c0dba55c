with

source as (

    select * from {{ source('raw', 'revenue_events') }}

),

renamed as (

    select
        ----------  ids
        event_id,
        user_id,

        ---------- text
        event_type,

        ---------- numerics
        cast(revenue as decimal(18, 2)) as revenue,

        ---------- timestamps
        event_ts

    from source

)

select * from renamed
