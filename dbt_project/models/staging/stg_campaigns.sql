with

source as (

    select * from {{ source('raw', 'campaigns') }}

),

renamed as (

    select
        ----------  ids
        campaign_id,

        ---------- text
        name as campaign_name,
        network,
        platform,
        geo,
        creative_format,
        targeting,

        ---------- booleans
        has_agency,
        auto_optimization_enabled,

        ---------- numerics
        cast(creative_production_cost as decimal(18, 2)) as creative_production_cost,

        ---------- timestamps
        launched_at,
        cast(launched_at as date) as launch_date

    from source

)

select * from renamed
