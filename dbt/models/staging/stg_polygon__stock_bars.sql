{{ config(unique_key=['ticker', 'trade_date']) }}

-- One row per ticker and trading day: the grouped daily bar (unadjusted), newest fetch wins.
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_stock_bars'), [json_field('record', 'T', 'varchar'), 'trade_date']) }}

),

renamed as (

    select
        {{ json_field('record', 'T', 'varchar') }} as ticker,
        trade_date,
        {{ json_field('record', 'o', 'double') }} as open,
        {{ json_field('record', 'h', 'double') }} as high,
        {{ json_field('record', 'l', 'double') }} as low,
        {{ json_field('record', 'c', 'double') }} as close,
        {{ json_field('record', 'v', 'double') }} as volume,
        {{ json_field('record', 'vw', 'double') }} as vwap,
        {{ json_field('record', 'n', 'bigint') }} as transactions,
        {{ epoch_to_timestamp(json_field('record', 't', 'bigint'), 'ms') }} as bar_ts,
        {{ landing_lineage() }}

    from source

)

select * from renamed
where ticker is not null
