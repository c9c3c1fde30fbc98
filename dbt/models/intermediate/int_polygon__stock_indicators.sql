{{
    config(
        unique_key=['ticker', 'trade_date'],
    )
}}
-- Daily technical indicators on split-adjusted closes, one row per ticker and trading day.
--
-- Windows count trading rows of the ticker (not calendar days) and stay NULL until full: SMA n needs n closes,
-- the 20-day realized volatility needs 20 log returns (21 closes); it is the sample standard deviation of the
-- daily log returns times sqrt(var annualization_days).
--
-- Incremental runs recompute, per ticker, every row from the first adjusted bar written since the last run
-- (a new day, a re-ingested day, or the whole history after a split), reading var lookback_days calendar days
-- of earlier history so that the windows are full: the result equals a full refresh.

with

adjusted as (

    select * from {{ ref('int_polygon__stock_bars_adjusted') }}

),

{% if is_incremental() %}

changed_tickers as (

    select ticker, min(trade_date) as recompute_from
    from adjusted
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    group by ticker

),

history as (

    select a.*, c.recompute_from
    from adjusted as a
    inner join changed_tickers as c
        on c.ticker = a.ticker
    where a.trade_date >= {{ dbt.dateadd('day', -1 * var('lookback_days'), 'c.recompute_from') }}

),

{% else %}

history as (

    select a.*, cast(null as date) as recompute_from
    from adjusted as a

),

{% endif %}

returns as (

    select
        ticker,
        trade_date,
        source,
        recompute_from,
        close_adj,
        lag(close_adj) over (partition by ticker order by trade_date) as previous_close_adj
    from history

),

daily_returns as (

    select
        *,
        case when previous_close_adj > 0 and close_adj > 0
            then round(close_adj / previous_close_adj - 1, 10) end as daily_return,
        case when previous_close_adj > 0 and close_adj > 0
            then round(ln(close_adj / previous_close_adj), 10) end as log_return
    from returns

),

windows as (

    select
        *,
        count(close_adj) over (partition by ticker order by trade_date rows between 19 preceding and current row)
            as closes_20,
        avg(close_adj) over (partition by ticker order by trade_date rows between 19 preceding and current row)
            as avg_close_20,
        count(close_adj) over (partition by ticker order by trade_date rows between 49 preceding and current row)
            as closes_50,
        avg(close_adj) over (partition by ticker order by trade_date rows between 49 preceding and current row)
            as avg_close_50,
        count(close_adj) over (partition by ticker order by trade_date rows between 199 preceding and current row)
            as closes_200,
        avg(close_adj) over (partition by ticker order by trade_date rows between 199 preceding and current row)
            as avg_close_200,
        count(log_return) over (partition by ticker order by trade_date rows between 19 preceding and current row)
            as log_returns_20,
        stddev_samp(log_return) over (partition by ticker order by trade_date rows between 19 preceding and current row)
            as stddev_log_return_20
    from daily_returns

),

final as (

    select
        ticker,
        trade_date,
        source,
        close_adj,
        previous_close_adj,
        daily_return,
        log_return,
        case when closes_20 = 20 then round(avg_close_20, 6) end as sma_20,
        case when closes_50 = 50 then round(avg_close_50, 6) end as sma_50,
        case when closes_200 = 200 then round(avg_close_200, 6) end as sma_200,
        case when log_returns_20 = 20
            then round(stddev_log_return_20 * sqrt({{ var('annualization_days') }}), 8) end as realized_volatility_20d,
        {{ batch_timestamp() }} as _batch_at
    from windows
    where recompute_from is null or trade_date >= recompute_from

)

select * from final
