-- The implied volatility surface: one row per underlying, trading day, expiry and strike, with moneyness.
-- `implied_volatility` is the out-of-the-money side's (puts below the underlying's price, calls at or above
-- it), the usual choice because OTM quotes are the liquid ones; it falls back to the other side when missing.
-- Volatilities are the vendor's where it gave them, else smelt's computed ones (greeks_source), so backfilled
-- days without a snapshot have a surface too.

with

strikes as (

    select * from {{ ref('int_polygon__option_strikes_daily') }}

)

select
    underlying,
    trade_date,
    expiration_date,
    strike_price,
    days_to_expiry,
    round(cast(days_to_expiry as double) / 365, 8) as years_to_expiry,
    underlying_price,
    moneyness,
    log_moneyness,
    case
        when strike_price < underlying_price then coalesce(put_implied_volatility, call_implied_volatility)
        else coalesce(call_implied_volatility, put_implied_volatility)
    end as implied_volatility,
    case
        when strike_price < underlying_price and put_implied_volatility is not null then 'put'
        when strike_price < underlying_price and call_implied_volatility is not null then 'call'
        when call_implied_volatility is not null then 'call'
        when put_implied_volatility is not null then 'put'
    end as implied_volatility_contract_type,
    call_implied_volatility,
    put_implied_volatility,
    cast(call_open_interest as bigint) as call_open_interest,
    cast(put_open_interest as bigint) as put_open_interest,
    greeks_source,
    source
from strikes
