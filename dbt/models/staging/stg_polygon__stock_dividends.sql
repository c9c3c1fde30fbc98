{{ config(unique_key=['ticker', 'ex_dividend_date', 'dividend_type', '_ingest_date']) }}

-- One row per dividend and landing day: each ingest lands an underlying's recent dividends again, so a dividend
-- appears once per day that fetched it; int_polygon__dividends keeps the newest copy.
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_stock_dividends'), [
        json_field('record', 'ticker', 'varchar'),
        json_field('record', 'ex_dividend_date', 'date'),
        "coalesce(" ~ json_field('record', 'dividend_type', 'varchar') ~ ", 'CD')",
        'trade_date',
    ]) }}

),

renamed as (

    select
        {{ json_field('record', 'id', 'varchar') }} as dividend_id,
        {{ json_field('record', 'ticker', 'varchar') }} as ticker,
        {{ json_field('record', 'ex_dividend_date', 'date') }} as ex_dividend_date,
        {{ json_field('record', 'declaration_date', 'date') }} as declaration_date,
        {{ json_field('record', 'record_date', 'date') }} as record_date,
        {{ json_field('record', 'pay_date', 'date') }} as pay_date,
        {{ json_field('record', 'cash_amount', 'double') }} as cash_amount,
        {{ json_field('record', 'frequency', 'bigint') }} as frequency,
        coalesce({{ json_field('record', 'dividend_type', 'varchar') }}, 'CD') as dividend_type,
        {{ json_field('record', 'currency', 'varchar') }} as currency,
        trade_date as _ingest_date,
        {{ landing_lineage() }}

    from source

)

select * from renamed
where ticker is not null and ex_dividend_date is not null
