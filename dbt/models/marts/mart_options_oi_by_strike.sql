-- Open interest, volume and gamma exposure by strike: one row per underlying, trading day, expiry and strike.

select
    underlying,
    trade_date,
    expiration_date,
    strike_price,
    days_to_expiry,
    underlying_price,
    moneyness,
    cast(call_open_interest as bigint) as call_open_interest,
    cast(put_open_interest as bigint) as put_open_interest,
    cast(coalesce(call_open_interest, 0) + coalesce(put_open_interest, 0) as bigint) as total_open_interest,
    call_volume,
    put_volume,
    call_gamma_exposure,
    put_gamma_exposure,
    net_gamma_exposure,
    net_volume_gamma_exposure,
    greeks_source,
    source
from {{ ref('int_polygon__option_strikes_daily') }}
