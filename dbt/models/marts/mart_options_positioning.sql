-- Options positioning per underlying and trading day: put/call ratios by volume and by open interest (NULL when
-- there are no calls), total open interest, net gamma exposure, and the nearest expiry's max pain.

select
    underlying,
    trade_date,
    underlying_price,
    call_volume,
    put_volume,
    total_volume,
    put_call_volume_ratio,
    cast(call_open_interest as bigint) as call_open_interest,
    cast(put_open_interest as bigint) as put_open_interest,
    cast(total_open_interest as bigint) as total_open_interest,
    put_call_open_interest_ratio,
    call_gamma_exposure,
    put_gamma_exposure,
    net_gamma_exposure,
    net_volume_gamma_exposure,
    expiration_count,
    cast(contract_count as bigint) as contract_count,
    nearest_expiration_date,
    nearest_expiry_max_pain_strike,
    nearest_expiry_max_pain_distance,
    greeks_source,
    source
from {{ ref('int_polygon__option_positioning_daily') }}
