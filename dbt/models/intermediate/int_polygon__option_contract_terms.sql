{{
    config(
        unique_key='option_ticker',
    )
}}
-- One row per option contract: its reference terms from the latest as-of date that listed it.
-- The contract-terms snapshot (SCD2) is taken from here.
--
-- Incremental: the contracts of the as-of rows staging wrote since this model's last run, each against its
-- stored terms, so a build reads the new as-of days and the stored row of their contracts, never every as-of
-- row of every contract ever listed (a year of 20 chains is millions of them). An older as-of day arriving
-- late does not displace newer stored terms.

with

contracts as (

    select * from {{ ref('stg_polygon__option_contracts') }}

),

candidates as (

    select
        option_ticker, underlying_ticker, contract_type, exercise_style, expiration_date, strike_price,
        shares_per_contract, primary_exchange, cfi, as_of_date, source, _fetched_at
    from contracts
    {% if is_incremental() %}
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}

    union all

    select
        option_ticker, underlying_ticker, contract_type, exercise_style, expiration_date, strike_price,
        shares_per_contract, primary_exchange, cfi, as_of_date, source, _fetched_at
    from {{ this }}
    where option_ticker in (
        select option_ticker from contracts where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    )
    {% endif %}

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
    source,
    _fetched_at,
    {{ batch_timestamp() }} as _batch_at
from candidates
qualify row_number() over (partition by option_ticker order by as_of_date desc, _fetched_at desc) = 1
