{{
    config(
        unique_key=['underlying', 'trade_date'],
    )
}}
-- One row per underlying, trading day and expiry: the max pain strike, the listed strike at which the
-- options of that expiry would pay their holders the least at expiration:
--     payout(X) = sum over strikes K of multiplier * (call OI(K) * max(X - K, 0) + put OI(K) * max(K - X, 0))
-- Ties go to the lowest strike. NULL when the expiry has no open interest (every strike would tie at 0).
-- Incremental runs replace whole (underlying, day) groups.

with

strikes as (

    select * from {{ ref('int_polygon__option_strikes_daily') }}

),

{% if is_incremental() %}

affected_days as (

    select distinct underlying, trade_date
    from strikes
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}

),

{% endif %}

open_interest as (

    select
        s.underlying,
        s.trade_date,
        s.expiration_date,
        s.strike_price,
        s.days_to_expiry,
        s.underlying_price,
        s.source,
        coalesce(s.call_open_interest, 0) * s.contract_multiplier as call_open_interest_shares,
        coalesce(s.put_open_interest, 0) * s.contract_multiplier as put_open_interest_shares,
        coalesce(s.call_open_interest, 0) as call_open_interest,
        coalesce(s.put_open_interest, 0) as put_open_interest
    from strikes as s
    {% if is_incremental() %}
    inner join affected_days as a
        on a.underlying = s.underlying
        and a.trade_date = s.trade_date
    {% endif %}

),

payouts as (

    select
        settle.underlying,
        settle.trade_date,
        settle.expiration_date,
        settle.strike_price as settlement_price,
        sum(
            oi.call_open_interest_shares
                * case when settle.strike_price > oi.strike_price then settle.strike_price - oi.strike_price else 0 end
            + oi.put_open_interest_shares
                * case when oi.strike_price > settle.strike_price then oi.strike_price - settle.strike_price else 0 end
        ) as total_payout
    from open_interest as settle
    inner join open_interest as oi
        on oi.underlying = settle.underlying
        and oi.trade_date = settle.trade_date
        and oi.expiration_date = settle.expiration_date
    group by settle.underlying, settle.trade_date, settle.expiration_date, settle.strike_price

),

min_payout as (

    select *
    from payouts
    qualify row_number() over (
        partition by underlying, trade_date, expiration_date
        order by total_payout, settlement_price
    ) = 1

),

expiries as (

    select
        underlying,
        trade_date,
        expiration_date,
        max(days_to_expiry) as days_to_expiry,
        max(underlying_price) as underlying_price,
        sum(call_open_interest) as call_open_interest,
        sum(put_open_interest) as put_open_interest,
        count(*) as strike_count,
        {{ aggregate_source('source') }} as source
    from open_interest
    group by underlying, trade_date, expiration_date

),

final as (

    select
        e.underlying,
        e.trade_date,
        e.expiration_date,
        e.days_to_expiry,
        e.underlying_price,
        e.call_open_interest,
        e.put_open_interest,
        e.strike_count,
        case when e.call_open_interest + e.put_open_interest > 0 then m.settlement_price end as max_pain_strike,
        case when e.call_open_interest + e.put_open_interest > 0 then round(m.total_payout, 2) end
            as max_pain_payout,
        case when e.call_open_interest + e.put_open_interest > 0 and e.underlying_price > 0
            then round(m.settlement_price / e.underlying_price - 1, 8) end as max_pain_distance,
        e.source,
        {{ batch_timestamp() }} as _batch_at
    from expiries as e
    inner join min_payout as m
        on m.underlying = e.underlying
        and m.trade_date = e.trade_date
        and m.expiration_date = e.expiration_date

)

select * from final
