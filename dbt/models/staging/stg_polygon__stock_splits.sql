{{ config(unique_key=['ticker', 'execution_date']) }}

-- One row per ticker and execution date: a stock split (split_from old shares become split_to new shares).
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_stock_splits'), [json_field('record', 'ticker', 'varchar'), json_field('record', 'execution_date', 'date')]) }}

),

renamed as (

    select
        {{ json_field('record', 'id', 'varchar') }} as split_id,
        {{ json_field('record', 'ticker', 'varchar') }} as ticker,
        {{ json_field('record', 'execution_date', 'date') }} as execution_date,
        {{ json_field('record', 'split_from', 'double') }} as split_from,
        {{ json_field('record', 'split_to', 'double') }} as split_to,
        -- Multiply a price from before the execution date by this to put it on the post-split basis.
        {{ safe_divide(json_field('record', 'split_from', 'double'), json_field('record', 'split_to', 'double')) }}
            as price_adjustment_factor,
        trade_date as _ingest_date,
        {{ landing_lineage() }}

    from source

)

select * from renamed
where ticker is not null and execution_date is not null
