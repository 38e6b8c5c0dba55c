with

source as (

    select * from {{ source('raw', 'budgets') }}

),

renamed as (

    select
        ----------  ids
        source.campaign_id,

        ---------- text
        source.source as budget_source,

        ---------- numerics
        cast(source.daily_budget as decimal(18, 2)) as daily_budget,

        ---------- timestamps
        source.effective_ts

    from source

)

select * from renamed
