with

source as (

    select * from {{ source('raw', 'market_daily') }}

),

renamed as (

    select
        ---------- keys
        cast(date as date) as date,
        network,
        geo,

        ---------- numerics
        cast(cpm_index as {{ type_double() }}) as cpm_index,
        cast(competition_index as {{ type_double() }}) as competition_index,
        cast(seasonality_index as {{ type_double() }}) as seasonality_index,
        cast(economic_index as {{ type_double() }}) as economic_index,
        cast(sentiment_index as {{ type_double() }}) as sentiment_index

    from source

)

select * from renamed
