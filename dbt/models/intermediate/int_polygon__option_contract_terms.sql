{{
    config(
        materialized='view',
    )
}}
-- One row per option contract: its reference terms from the latest as-of date that listed it.
-- The contract-terms snapshot (SCD2) is taken from here.

with

contracts as (

    select * from {{ ref('stg_polygon__option_contracts') }}

)

select
    option_ticker,
    underlying_ticker,
    contract_type,
    exercise_style,
    expiration_date,
    strike_price,
    shares_per_contract,
    primary_exchange,
    cfi,
    as_of_date,
    source
from contracts
qualify row_number() over (partition by option_ticker order by as_of_date desc, _fetched_at desc) = 1
