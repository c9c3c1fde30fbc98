{{ config(unique_key=['option_ticker', 'trade_date']) }}

-- One row per option contract-day: the implied volatility and Greeks smelt computed for it (workflows/pricing),
-- NULL with a reason code where the row cannot be solved. The newest computation wins.
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_option_greeks'), [json_field('record', 'option_ticker', 'varchar'), 'trade_date']) }}

),

renamed as (

    select
        {{ json_field('record', 'option_ticker', 'varchar') }} as option_ticker,
        trade_date,
        coalesce(underlying, {{ json_field('record', 'underlying', 'varchar') }}) as underlying,
        {{ json_field('record', 'implied_volatility', 'double') }} as implied_volatility,
        {{ json_field('record', 'delta', 'double') }} as delta,
        {{ json_field('record', 'gamma', 'double') }} as gamma,
        {{ json_field('record', 'theta', 'double') }} as theta,
        {{ json_field('record', 'vega', 'double') }} as vega,
        {{ json_field('record', 'unsolved_reason', 'varchar') }} as unsolved_reason,
        {{ json_field('record', 'pricing_model', 'varchar') }} as pricing_model,
        {{ json_field('record', 'inputs_hash', 'varchar') }} as inputs_hash,
        {{ landing_lineage() }}

    from source

)

select * from renamed
where option_ticker is not null
