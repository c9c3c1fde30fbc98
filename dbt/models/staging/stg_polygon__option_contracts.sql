{{ config(unique_key=['option_ticker', 'as_of_date']) }}

-- One row per option contract and as-of date: reference terms from /v3/reference/options/contracts?as_of=D.
{% set contract = {
    'ticker': 'varchar', 'underlying_ticker': 'varchar', 'contract_type': 'varchar', 'exercise_style': 'varchar',
    'expiration_date': 'date', 'strike_price': 'double', 'shares_per_contract': 'double',
    'primary_exchange': 'varchar', 'cfi': 'varchar',
    '_meta': {'source': 'varchar', 'fetched_at': 'timestamp_tz'},
} %}
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_option_contracts'), [json_field('record', 'ticker', 'varchar'), 'trade_date']) }}

),

renamed as (

    select
        -- the record parsed once (json_parse), its fields read below
        {{ json_parse('record', contract) }} as parsed,
        {{ parsed_field('parsed', 'ticker', 'varchar') }} as option_ticker,
        trade_date as as_of_date,
        coalesce({{ parsed_field('parsed', 'underlying_ticker', 'varchar') }}, underlying) as underlying_ticker,
        lower({{ parsed_field('parsed', 'contract_type', 'varchar') }}) as contract_type,
        lower({{ parsed_field('parsed', 'exercise_style', 'varchar') }}) as exercise_style,
        {{ parsed_field('parsed', 'expiration_date', 'date') }} as expiration_date,
        {{ parsed_field('parsed', 'strike_price', 'double') }} as strike_price,
        {{ parsed_field('parsed', 'shares_per_contract', 'double') }} as shares_per_contract,
        {{ parsed_field('parsed', 'primary_exchange', 'varchar') }} as primary_exchange,
        {{ parsed_field('parsed', 'cfi', 'varchar') }} as cfi,
        {{ landing_lineage('parsed') }}

    from source

)

select * exclude (parsed) from renamed
where option_ticker is not null
