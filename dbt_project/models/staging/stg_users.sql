with

source as (

    select * from {{ source('raw', 'users') }}

),

renamed as (

    select
        ----------  ids
        user_id,
        campaign_id,

        ---------- text
        platform,
        geo,

        ---------- timestamps
        install_ts,
        cast(install_ts as date) as install_date

    from source

)

select * from renamed
