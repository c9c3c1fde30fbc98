{{ config(unique_key=['option_ticker', 'as_of_date']) }}

-- One row per option contract and as-of date: reference terms from /v3/reference/options/contracts?as_of=D.
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_option_contracts'), [json_field('record', 'ticker', 'varchar'), 'trade_date']) }}

),

renamed as (

    select
        {{ json_field('record', 'ticker', 'varchar') }} as option_ticker,
        trade_date as as_of_date,
        coalesce({{ json_field('record', 'underlying_ticker', 'varchar') }}, underlying) as underlying_ticker,
        lower({{ json_field('record', 'contract_type', 'varchar') }}) as contract_type,
        lower({{ json_field('record', 'exercise_style', 'varchar') }}) as exercise_style,
        {{ json_field('record', 'expiration_date', 'date') }} as expiration_date,
        {{ json_field('record', 'strike_price', 'double') }} as strike_price,
        {{ json_field('record', 'shares_per_contract', 'double') }} as shares_per_contract,
        {{ json_field('record', 'primary_exchange', 'varchar') }} as primary_exchange,
        {{ json_field('record', 'cfi', 'varchar') }} as cfi,
        {{ landing_lineage() }}

    from source

)

select * from renamed
where option_ticker is not null
