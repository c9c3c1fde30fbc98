{{ config(unique_key=['option_ticker', 'trade_date']) }}

-- One row per option contract and trading day from the vendor's options day-aggregates flat file (typed by the
-- loader); the newest object, then the newest load, wins. The file names a contract only by its OCC ticker, so
-- its terms are parsed from it here and a flat-file bar stands alone: underlying root, expiration, call/put,
-- strike. The root is the underlying for standard contracts; an adjusted contract's root carries a digit
-- (BRKB1), as in the OCC symbol. The file has no VWAP; `bar_ts` is `window_start`, 00:00 New York.
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_option_day_aggs'), ['ticker', 'trade_date'],
                           newest_by='source_last_modified') }}

),

renamed as (

    select
        ticker as option_ticker,
        trade_date,
        {{ occ_root('ticker') }} as underlying,
        {{ occ_expiration_date('ticker') }} as expiration_date,
        {{ occ_contract_type('ticker') }} as contract_type,
        {{ occ_strike_price('ticker') }} as strike_price,
        {{ day_aggs_fields() }}
        {{ flatfile_lineage() }}

    from source

)

select * from renamed
