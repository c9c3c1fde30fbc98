{{ config(unique_key=['option_ticker', 'trade_date']) }}

-- One row per option contract and trading day: the chain snapshot taken at the close of trade_date
-- (day bar, Greeks, implied volatility, open interest, last quote and trade, underlying price).
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_option_snapshots'), [json_field('record', 'details.ticker', 'varchar'), 'trade_date']) }}

),

renamed as (

    select
        {{ json_field('record', 'details.ticker', 'varchar') }} as option_ticker,
        trade_date,
        coalesce(underlying, {{ json_field('record', 'underlying_asset.ticker', 'varchar') }},
                 {{ json_field('record', '_meta.underlying', 'varchar') }}) as underlying,

        -- contract terms
        lower({{ json_field('record', 'details.contract_type', 'varchar') }}) as contract_type,
        lower({{ json_field('record', 'details.exercise_style', 'varchar') }}) as exercise_style,
        {{ json_field('record', 'details.expiration_date', 'date') }} as expiration_date,
        {{ json_field('record', 'details.strike_price', 'double') }} as strike_price,
        {{ json_field('record', 'details.shares_per_contract', 'double') }} as shares_per_contract,

        -- the contract's day bar
        {{ json_field('record', 'day.open', 'double') }} as open,
        {{ json_field('record', 'day.high', 'double') }} as high,
        {{ json_field('record', 'day.low', 'double') }} as low,
        {{ json_field('record', 'day.close', 'double') }} as close,
        {{ json_field('record', 'day.volume', 'double') }} as volume,
        {{ json_field('record', 'day.vwap', 'double') }} as vwap,
        {{ json_field('record', 'day.previous_close', 'double') }} as previous_close,
        {{ json_field('record', 'day.change', 'double') }} as change,
        {{ json_field('record', 'day.change_percent', 'double') }} as change_percent,
        {{ epoch_to_timestamp(json_field('record', 'day.last_updated', 'bigint'), 'ns') }} as day_updated_at,

        -- Greeks, volatility, open interest
        {{ json_field('record', 'greeks.delta', 'double') }} as delta,
        {{ json_field('record', 'greeks.gamma', 'double') }} as gamma,
        {{ json_field('record', 'greeks.theta', 'double') }} as theta,
        {{ json_field('record', 'greeks.vega', 'double') }} as vega,
        {{ json_field('record', 'implied_volatility', 'double') }} as implied_volatility,
        {{ json_field('record', 'open_interest', 'bigint') }} as open_interest,
        {{ json_field('record', 'fmv', 'double') }} as fair_market_value,
        {{ json_field('record', 'break_even_price', 'double') }} as break_even_price,

        -- last quote and trade
        {{ json_field('record', 'last_quote.bid', 'double') }} as bid,
        {{ json_field('record', 'last_quote.ask', 'double') }} as ask,
        {{ json_field('record', 'last_quote.bid_size', 'double') }} as bid_size,
        {{ json_field('record', 'last_quote.ask_size', 'double') }} as ask_size,
        {{ json_field('record', 'last_quote.midpoint', 'double') }} as midpoint,
        {{ json_field('record', 'last_quote.timeframe', 'varchar') }} as quote_timeframe,
        {{ epoch_to_timestamp(json_field('record', 'last_quote.last_updated', 'bigint'), 'ns') }} as quote_updated_at,
        {{ json_field('record', 'last_trade.price', 'double') }} as last_trade_price,
        {{ json_field('record', 'last_trade.size', 'double') }} as last_trade_size,
        {{ epoch_to_timestamp(json_field('record', 'last_trade.sip_timestamp', 'bigint'), 'ns') }} as last_trade_at,

        -- the underlying at snapshot time
        {{ json_field('record', 'underlying_asset.price', 'double') }} as underlying_price,
        {{ json_field('record', 'underlying_asset.timeframe', 'varchar') }} as underlying_timeframe,
        {{ epoch_to_timestamp(json_field('record', 'underlying_asset.last_updated', 'bigint'), 'ns') }}
            as underlying_updated_at,

        {{ landing_lineage() }}

    from source

)

select * from renamed
where option_ticker is not null
