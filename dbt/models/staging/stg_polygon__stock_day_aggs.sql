{{ config(unique_key=['ticker', 'trade_date']) }}

-- One row per ticker and trading day from the vendor's stock day-aggregates flat file (typed by the loader).
-- A republished file lands as a second version of the day: the newest object (its last-modified time at the
-- vendor), then the newest load, wins. The file has no VWAP; `bar_ts` is `window_start`, 00:00 New York.
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_stock_day_aggs'), ['ticker', 'trade_date'],
                           newest_by='source_last_modified') }}

),

renamed as (

    select
        ticker,
        trade_date,
        {{ day_aggs_fields() }}
        {{ flatfile_lineage() }}

    from source

)

select * from renamed
