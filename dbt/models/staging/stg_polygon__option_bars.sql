{{ config(unique_key=['option_ticker', 'trade_date']) }}

-- One row per option contract and bar day: daily range aggregates fetched for backfill days (no snapshot).
-- The aggregates item carries no ticker: the pipeline adds it as _meta.ticker. The bar's day comes from `t`
-- (ms, 00:00 New York of that day), not from the ingest's trade_date, since one request covers a date range.
with

source as (

    -- the landing trade_date is the ingest's day; the bar's own day is computed from `t` below
    select
        record,
        trade_date as ingest_date,
        underlying,
        source_file,
        source_row,
        loaded_at
    from (
        {{ newest_landing_rows(source('polygon', 'polygon_option_bars'), [
            json_field('record', '_meta.ticker', 'varchar'),
            to_exchange_date(epoch_to_timestamp(json_field('record', 't', 'bigint'), 'ms')),
        ]) }}
    ) as newest

),

renamed as (

    select
        {{ json_field('record', '_meta.ticker', 'varchar') }} as option_ticker,
        {{ to_exchange_date(epoch_to_timestamp(json_field('record', 't', 'bigint'), 'ms')) }} as trade_date,
        coalesce(underlying, {{ json_field('record', '_meta.underlying', 'varchar') }}) as underlying,
        {{ json_field('record', 'o', 'double') }} as open,
        {{ json_field('record', 'h', 'double') }} as high,
        {{ json_field('record', 'l', 'double') }} as low,
        {{ json_field('record', 'c', 'double') }} as close,
        {{ json_field('record', 'v', 'double') }} as volume,
        {{ json_field('record', 'vw', 'double') }} as vwap,
        {{ json_field('record', 'n', 'bigint') }} as transactions,
        {{ epoch_to_timestamp(json_field('record', 't', 'bigint'), 'ms') }} as bar_ts,
        ingest_date as _ingest_date,
        {{ landing_lineage() }}

    from source

)

select * from renamed
where option_ticker is not null and trade_date is not null
