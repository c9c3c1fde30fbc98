-- Stock daily: one row per ticker and trading day with the unadjusted and split-adjusted bar, daily and log
-- returns, moving averages (20/50/200) and the 20-day annualised realized volatility.
-- A view over the incremental intermediate tables (joined one to one on the key).

with

adjusted as (

    select * from {{ ref('int_polygon__stock_bars_adjusted') }}

),

indicators as (

    select * from {{ ref('int_polygon__stock_indicators') }}

)

select
    a.ticker,
    a.trade_date,
    a.open,
    a.high,
    a.low,
    a.close,
    a.volume,
    a.vwap,
    a.transactions,
    a.split_adjustment_factor,
    a.open_adj,
    a.high_adj,
    a.low_adj,
    a.close_adj,
    a.volume_adj,
    a.vwap_adj,
    i.daily_return,
    i.log_return,
    i.sma_20,
    i.sma_50,
    i.sma_200,
    i.realized_volatility_20d,
    a.source
from adjusted as a
left join indicators as i
    on i.ticker = a.ticker
    and i.trade_date = a.trade_date
