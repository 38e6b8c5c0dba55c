with

source as (

    select * from {{ source('raw', 'budgets') }}

),

renamed as (

    select
        ----------  ids
        campaign_id,

        ---------- text
        source.source as budget_source,

        ---------- numerics
        cast(daily_budget as decimal(18, 2)) as daily_budget,

        ---------- timestamps
        effective_ts

    from source

)

select * from renamed
