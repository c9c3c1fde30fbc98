{{
    config(
        unique_key=['ticker', 'trade_date'],
    )
}}
-- Split-adjusted daily bars, one row per ticker and trading day, from the REST grouped bars or, for a day only
-- a flat file landed, the vendor's day aggregates (vwap and vwap_adj are then null).
--
-- A bar before a split's execution date is multiplied by split_from / split_to (prices) or divided by it
-- (volume), for every split executed up to the newest bar date in the data (splits announced for later dates
-- do not apply yet). Incremental runs take the bars staging rewrote since the last run, plus every bar of a ticker whose
-- adjustment changed: a split that has just executed, or a split that arrived late, changes the factor of the
-- ticker's first stored row, and then all of that ticker's history is recomputed.

with

bars as (

    -- the REST grouped bar of a ticker-day, else its flat-file bar (no VWAP): macros/day_bars.sql
    {{ stock_day_bars() }}

),

as_of as (

    select max(trade_date) as as_of_date from bars

),

splits as (

    select
        ticker,
        execution_date,
        price_adjustment_factor
    from {{ ref('stg_polygon__stock_splits') }}
    where price_adjustment_factor > 0
      and execution_date <= (select as_of_date from as_of)

),

{% if is_incremental() %}

first_stored_rows as (

    select ticker, trade_date, split_adjustment_factor
    from {{ this }}
    qualify row_number() over (partition by ticker order by trade_date) = 1

),

first_stored_factors as (

    select
        f.ticker,
        f.split_adjustment_factor as stored_factor,
        coalesce(round(exp(sum(ln(s.price_adjustment_factor))), 12), 1) as current_factor
    from first_stored_rows as f
    left join splits as s
        on s.ticker = f.ticker
        and s.execution_date > f.trade_date
    group by f.ticker, f.split_adjustment_factor

),

tickers_to_reprocess as (

    select ticker
    from first_stored_factors
    where abs(current_factor - stored_factor) > 1e-9 * stored_factor

),

{% endif %}

batch as (

    select * from bars
    {% if is_incremental() %}
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
       or ticker in (select ticker from tickers_to_reprocess)
    {% endif %}

),

factors as (

    select
        b.ticker,
        b.trade_date,
        coalesce(round(exp(sum(ln(s.price_adjustment_factor))), 12), 1) as split_adjustment_factor
    from batch as b
    left join splits as s
        on s.ticker = b.ticker
        and s.execution_date > b.trade_date
    group by b.ticker, b.trade_date

),

adjusted as (

    select
        b.ticker,
        b.trade_date,
        b.source,
        b.open,
        b.high,
        b.low,
        b.close,
        b.volume,
        b.vwap,
        b.transactions,
        b.bar_ts,
        f.split_adjustment_factor,
        round(b.open * f.split_adjustment_factor, 6) as open_adj,
        round(b.high * f.split_adjustment_factor, 6) as high_adj,
        round(b.low * f.split_adjustment_factor, 6) as low_adj,
        round(b.close * f.split_adjustment_factor, 6) as close_adj,
        round(b.vwap * f.split_adjustment_factor, 6) as vwap_adj,
        round(b.volume / f.split_adjustment_factor, 4) as volume_adj,
        b._loaded_at,
        {{ batch_timestamp() }} as _batch_at
    from batch as b
    inner join factors as f
        on f.ticker = b.ticker
        and f.trade_date = b.trade_date

)

select * from adjusted
