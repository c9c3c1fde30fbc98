{{ config(materialized='table') }}
-- One row per cash dividend (ticker, ex-date, type): the newest copy of all the days that fetched it, and when
-- this version of it (amount, dates, frequency) was first staged, so that re-fetching an unchanged dividend
-- every day does not make int_options__pricing_inputs recompute its days.

with

copies as (

    select * from {{ ref('stg_polygon__stock_dividends') }}
    where cash_amount > 0

),

versions as (

    select
        *,
        min(_batch_at) over (
            partition by ticker, ex_dividend_date, dividend_type, cash_amount, declaration_date, frequency
        ) as _version_batch_at
    from copies

)

select
    dividend_id,
    ticker,
    ex_dividend_date,
    declaration_date,
    coalesce(declaration_date, ex_dividend_date) as known_from_date,
    record_date,
    pay_date,
    cash_amount,
    frequency,
    dividend_type,
    source,
    _version_batch_at
from versions
qualify row_number() over (
    partition by ticker, ex_dividend_date, dividend_type
    order by _fetched_at desc, _loaded_at desc, _ingest_date desc
) = 1
