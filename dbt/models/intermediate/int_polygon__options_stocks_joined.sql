{{
    config(
        unique_key=['option_ticker', 'trade_date'],
    )
}}
-- Every option contract-day with its Greeks, implied volatility, open interest and bar, joined to the
-- underlying's bar of that day (unadjusted and split-adjusted) and its indicators: the original project's
-- query surface. Incremental runs take the contract-days rewritten upstream since the last run, and those
-- whose underlying's bar or indicators were rewritten (a new split rescales the adjusted history).

with

chain as (

    select * from {{ ref('int_options__option_greeks_daily') }}

),

adjusted as (

    select * from {{ ref('int_polygon__stock_bars_adjusted') }}

),

indicators as (

    select * from {{ ref('int_polygon__stock_indicators') }}

),

{% if is_incremental() %}

changed_underlying_days as (

    select ticker, trade_date from adjusted
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    union
    select ticker, trade_date from indicators
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}

),

batch as (

    select * from chain
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
       or exists (
            select 1 from changed_underlying_days as u
            where u.ticker = chain.underlying
              and u.trade_date = chain.trade_date
       )

),

{% else %}

batch as (

    select * from chain

),

{% endif %}

final as (

    select
        c.option_ticker,
        c.trade_date,
        c.underlying,
        c.contract_type,
        c.exercise_style,
        c.expiration_date,
        c.strike_price,
        c.shares_per_contract,
        c.days_to_expiry,
        c.data_origin,
        c.open,
        c.high,
        c.low,
        c.close,
        c.volume,
        c.vwap,
        c.transactions,
        c.bid,
        c.ask,
        c.midpoint,
        c.option_price,
        c.delta,
        c.gamma,
        c.theta,
        c.vega,
        c.implied_volatility,
        c.greeks_source,
        c.open_interest,
        c.moneyness,
        c.log_moneyness,
        c.moneyness_bucket,
        c.intrinsic_value,
        c.extrinsic_value,
        c.underlying_price,
        a.open as underlying_open,
        a.high as underlying_high,
        a.low as underlying_low,
        a.close as underlying_close,
        a.volume as underlying_volume,
        a.vwap as underlying_vwap,
        a.split_adjustment_factor as underlying_split_adjustment_factor,
        a.close_adj as underlying_close_adj,
        i.daily_return as underlying_daily_return,
        i.log_return as underlying_log_return,
        i.sma_20 as underlying_sma_20,
        i.sma_50 as underlying_sma_50,
        i.sma_200 as underlying_sma_200,
        i.realized_volatility_20d as underlying_realized_volatility_20d,
        {{ combine_source('c.source', 'a.source') }} as source,
        {{ batch_timestamp() }} as _batch_at
    from batch as c
    left join adjusted as a
        on a.ticker = c.underlying
        and a.trade_date = c.trade_date
    left join indicators as i
        on i.ticker = c.underlying
        and i.trade_date = c.trade_date

)

select * from final
