{{
    config(
        unique_key=['underlying', 'trade_date'],
    )
}}
-- The 30-day at-the-money implied volatility, one row per underlying and trading day: for each expiry the strike
-- nearest the money (its out-of-the-money side's IV, as the vol surface), then the expiries either side of 30
-- calendar days interpolated in total variance (iv^2 x t), or the nearer one alone. Volatilities are the
-- vendor's where it gave them, else smelt's computed ones (greeks_source), so backfilled days have one too.
-- Incremental runs rebuild the underlying-days whose strikes were rewritten.

with

strikes as (

    select * from {{ ref('int_polygon__option_strikes_daily') }}

),

{% if is_incremental() %}

affected_days as (

    select distinct underlying, trade_date from strikes
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}

),

{% endif %}

quoted as (

    select
        s.underlying,
        s.trade_date,
        s.expiration_date,
        s.days_to_expiry,
        s.log_moneyness,
        s.greeks_source,
        s.source,
        case
            when s.strike_price < s.underlying_price then coalesce(s.put_implied_volatility, s.call_implied_volatility)
            else coalesce(s.call_implied_volatility, s.put_implied_volatility)
        end as implied_volatility
    from strikes as s
    {% if is_incremental() %}
    inner join affected_days as a
        on a.underlying = s.underlying
        and a.trade_date = s.trade_date
    {% endif %}
    where s.days_to_expiry > 0 and s.log_moneyness is not null

),

atm as (

    select *
    from quoted
    where implied_volatility is not null
    qualify row_number() over (
        partition by underlying, trade_date, expiration_date order by abs(log_moneyness), expiration_date
    ) = 1

),

near as (

    select * from atm where days_to_expiry <= 30
    qualify row_number() over (partition by underlying, trade_date order by days_to_expiry desc) = 1

),

far as (

    select * from atm where days_to_expiry >= 30
    qualify row_number() over (partition by underlying, trade_date order by days_to_expiry) = 1

),

days as (

    select underlying, trade_date, {{ aggregate_source('source') }} as source from atm
    group by underlying, trade_date

),

final as (

    select
        d.underlying,
        d.trade_date,
        round(case
            when n.days_to_expiry is not null and f.days_to_expiry is not null and f.days_to_expiry > n.days_to_expiry
                then sqrt((
                    n.implied_volatility * n.implied_volatility * n.days_to_expiry
                    + (f.implied_volatility * f.implied_volatility * f.days_to_expiry
                       - n.implied_volatility * n.implied_volatility * n.days_to_expiry)
                      * (30 - n.days_to_expiry) / (f.days_to_expiry - n.days_to_expiry)
                ) / 30)
            else coalesce(n.implied_volatility, f.implied_volatility)
        end, 8) as atm_implied_volatility_30d,
        n.expiration_date as near_expiration_date,
        f.expiration_date as far_expiration_date,
        case
            when f.greeks_source is null or n.greeks_source = f.greeks_source then n.greeks_source
            when n.greeks_source is null then f.greeks_source
            else 'mixed'
        end as greeks_source,
        d.source,
        {{ batch_timestamp() }} as _batch_at
    from days as d
    left join near as n on n.underlying = d.underlying and n.trade_date = d.trade_date
    left join far as f on f.underlying = d.underlying and f.trade_date = d.trade_date

)

select * from final
