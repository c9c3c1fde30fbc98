-- IV rank and percentile per underlying and trading day: the 30-day at-the-money implied volatility against its
-- own last 252 trading days (the day included). rank = (iv - min) / (max - min); percentile = the share of those
-- days with a lower IV. NULL until 20 days exist. Computed IVs stand in on days without vendor values
-- (greeks_source), so a backfilled history has an IV rank from its first weeks on.

with

atm as (

    select * from {{ ref('int_options__atm_iv_daily') }}
    where atm_implied_volatility_30d is not null

),

windows as (

    select
        *,
        row_number() over (partition by underlying order by trade_date) as day_number,
        count(*) over (partition by underlying order by trade_date rows between 251 preceding and current row) as window_days,
        min(atm_implied_volatility_30d) over (partition by underlying order by trade_date rows between 251 preceding and current row) as window_low,
        max(atm_implied_volatility_30d) over (partition by underlying order by trade_date rows between 251 preceding and current row) as window_high
    from atm

),

below as (

    select
        a.underlying,
        a.trade_date,
        count(b.trade_date) as days_below
    from windows as a
    left join windows as b
        on b.underlying = a.underlying
        and b.day_number between a.day_number - 251 and a.day_number - 1
        and b.atm_implied_volatility_30d < a.atm_implied_volatility_30d
    group by a.underlying, a.trade_date

)

select
    w.underlying,
    w.trade_date,
    w.atm_implied_volatility_30d,
    w.window_days,
    w.window_low,
    w.window_high,
    case when w.window_days >= 20 and w.window_high > w.window_low
        then round((w.atm_implied_volatility_30d - w.window_low) / (w.window_high - w.window_low), 6) end as iv_rank,
    case when w.window_days >= 20
        then round(cast(b.days_below as double) / (w.window_days - 1), 6) end as iv_percentile,
    w.greeks_source,
    w.source
from windows as w
inner join below as b
    on b.underlying = w.underlying
    and b.trade_date = w.trade_date
