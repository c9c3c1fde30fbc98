{{ config(unique_key=['option_ticker', 'trade_date']) }}

-- One row per option contract and trading day: the chain snapshot taken at the close of trade_date
-- (day bar, Greeks, implied volatility, open interest, last quote and trade, underlying price).
{% set snapshot = {
    'details': {'ticker': 'varchar', 'contract_type': 'varchar', 'exercise_style': 'varchar',
                'expiration_date': 'date', 'strike_price': 'double', 'shares_per_contract': 'double'},
    'day': {'open': 'double', 'high': 'double', 'low': 'double', 'close': 'double', 'volume': 'double',
            'vwap': 'double', 'previous_close': 'double', 'change': 'double', 'change_percent': 'double',
            'last_updated': 'bigint'},
    'greeks': {'delta': 'double', 'gamma': 'double', 'theta': 'double', 'vega': 'double'},
    'implied_volatility': 'double', 'open_interest': 'bigint', 'fmv': 'double', 'break_even_price': 'double',
    'last_quote': {'bid': 'double', 'ask': 'double', 'bid_size': 'double', 'ask_size': 'double',
                   'midpoint': 'double', 'timeframe': 'varchar', 'last_updated': 'bigint'},
    'last_trade': {'price': 'double', 'size': 'double', 'sip_timestamp': 'bigint'},
    'underlying_asset': {'ticker': 'varchar', 'price': 'double', 'timeframe': 'varchar', 'last_updated': 'bigint'},
    '_meta': {'underlying': 'varchar', 'source': 'varchar', 'fetched_at': 'timestamp_tz'},
} %}
with

source as (

    {{ newest_landing_rows(source('polygon', 'polygon_option_snapshots'), [json_field('record', 'details.ticker', 'varchar'), 'trade_date']) }}

),

renamed as (

    select
        -- the record parsed once (json_parse), its fields read below
        {{ json_parse('record', snapshot) }} as parsed,
        {{ parsed_field('parsed', 'details.ticker', 'varchar') }} as option_ticker,
        trade_date,
        coalesce(underlying, {{ parsed_field('parsed', 'underlying_asset.ticker', 'varchar') }},
                 {{ parsed_field('parsed', '_meta.underlying', 'varchar') }}) as underlying,

        -- contract terms
        lower({{ parsed_field('parsed', 'details.contract_type', 'varchar') }}) as contract_type,
        lower({{ parsed_field('parsed', 'details.exercise_style', 'varchar') }}) as exercise_style,
        {{ parsed_field('parsed', 'details.expiration_date', 'date') }} as expiration_date,
        {{ parsed_field('parsed', 'details.strike_price', 'double') }} as strike_price,
        {{ parsed_field('parsed', 'details.shares_per_contract', 'double') }} as shares_per_contract,

        -- the contract's day bar
        {{ parsed_field('parsed', 'day.open', 'double') }} as open,
        {{ parsed_field('parsed', 'day.high', 'double') }} as high,
        {{ parsed_field('parsed', 'day.low', 'double') }} as low,
        {{ parsed_field('parsed', 'day.close', 'double') }} as close,
        {{ parsed_field('parsed', 'day.volume', 'double') }} as volume,
        {{ parsed_field('parsed', 'day.vwap', 'double') }} as vwap,
        {{ parsed_field('parsed', 'day.previous_close', 'double') }} as previous_close,
        {{ parsed_field('parsed', 'day.change', 'double') }} as change,
        {{ parsed_field('parsed', 'day.change_percent', 'double') }} as change_percent,
        {{ epoch_to_timestamp(parsed_field('parsed', 'day.last_updated', 'bigint'), 'ns') }} as day_updated_at,

        -- Greeks, volatility, open interest
        {{ parsed_field('parsed', 'greeks.delta', 'double') }} as delta,
        {{ parsed_field('parsed', 'greeks.gamma', 'double') }} as gamma,
        {{ parsed_field('parsed', 'greeks.theta', 'double') }} as theta,
        {{ parsed_field('parsed', 'greeks.vega', 'double') }} as vega,
        {{ parsed_field('parsed', 'implied_volatility', 'double') }} as implied_volatility,
        {{ parsed_field('parsed', 'open_interest', 'bigint') }} as open_interest,
        {{ parsed_field('parsed', 'fmv', 'double') }} as fair_market_value,
        {{ parsed_field('parsed', 'break_even_price', 'double') }} as break_even_price,

        -- last quote and trade
        {{ parsed_field('parsed', 'last_quote.bid', 'double') }} as bid,
        {{ parsed_field('parsed', 'last_quote.ask', 'double') }} as ask,
        {{ parsed_field('parsed', 'last_quote.bid_size', 'double') }} as bid_size,
        {{ parsed_field('parsed', 'last_quote.ask_size', 'double') }} as ask_size,
        {{ parsed_field('parsed', 'last_quote.midpoint', 'double') }} as midpoint,
        {{ parsed_field('parsed', 'last_quote.timeframe', 'varchar') }} as quote_timeframe,
        {{ epoch_to_timestamp(parsed_field('parsed', 'last_quote.last_updated', 'bigint'), 'ns') }} as quote_updated_at,
        {{ parsed_field('parsed', 'last_trade.price', 'double') }} as last_trade_price,
        {{ parsed_field('parsed', 'last_trade.size', 'double') }} as last_trade_size,
        {{ epoch_to_timestamp(parsed_field('parsed', 'last_trade.sip_timestamp', 'bigint'), 'ns') }} as last_trade_at,

        -- the underlying at snapshot time
        {{ parsed_field('parsed', 'underlying_asset.price', 'double') }} as underlying_price,
        {{ parsed_field('parsed', 'underlying_asset.timeframe', 'varchar') }} as underlying_timeframe,
        {{ epoch_to_timestamp(parsed_field('parsed', 'underlying_asset.last_updated', 'bigint'), 'ns') }}
            as underlying_updated_at,

        {{ landing_lineage('parsed') }}

    from source

)

select * exclude (parsed) from renamed
where option_ticker is not null
