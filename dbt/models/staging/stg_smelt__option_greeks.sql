{{ config(unique_key=['option_ticker', 'trade_date']) }}

-- One row per option contract-day: the implied volatility and Greeks smelt computed for it (workflows/pricing),
-- NULL with a reason code where the row cannot be solved. The newest computation wins.
{% set answer = {
    'option_ticker': 'varchar', 'underlying': 'varchar', 'implied_volatility': 'double', 'delta': 'double',
    'gamma': 'double', 'theta': 'double', 'vega': 'double', 'unsolved_reason': 'varchar',
    'pricing_model': 'varchar', 'inputs_hash': 'varchar',
    '_meta': {'source': 'varchar', 'fetched_at': 'timestamp_tz'},
} %}
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_option_greeks'), [json_field('record', 'option_ticker', 'varchar'), 'trade_date']) }}

),

renamed as (

    select
        -- the record parsed once (json_parse), its fields read below
        {{ json_parse('record', answer) }} as parsed,
        {{ parsed_field('parsed', 'option_ticker', 'varchar') }} as option_ticker,
        trade_date,
        coalesce(underlying, {{ parsed_field('parsed', 'underlying', 'varchar') }}) as underlying,
        {{ parsed_field('parsed', 'implied_volatility', 'double') }} as implied_volatility,
        {{ parsed_field('parsed', 'delta', 'double') }} as delta,
        {{ parsed_field('parsed', 'gamma', 'double') }} as gamma,
        {{ parsed_field('parsed', 'theta', 'double') }} as theta,
        {{ parsed_field('parsed', 'vega', 'double') }} as vega,
        {{ parsed_field('parsed', 'unsolved_reason', 'varchar') }} as unsolved_reason,
        {{ parsed_field('parsed', 'pricing_model', 'varchar') }} as pricing_model,
        {{ parsed_field('parsed', 'inputs_hash', 'varchar') }} as inputs_hash,
        {{ landing_lineage('parsed') }}

    from source

)

select * exclude (parsed) from renamed
where option_ticker is not null
