-- Max pain by expiry: one row per underlying, trading day and expiry.

select
    underlying,
    trade_date,
    expiration_date,
    days_to_expiry,
    underlying_price,
    cast(call_open_interest as bigint) as call_open_interest,
    cast(put_open_interest as bigint) as put_open_interest,
    strike_count,
    max_pain_strike,
    max_pain_payout,
    max_pain_distance,
    source
from {{ ref('int_polygon__option_max_pain') }}
