{{
    config(
        unique_key=['option_ticker', 'trade_date'],
    )
}}
-- One row per option contract and trading day, with its terms, prices, Greeks, implied volatility, open
-- interest, and its moneyness against the underlying's unadjusted close of that day (the strikes' basis).
--
-- Days with a chain snapshot use it (data_origin = 'snapshot'). Backfill days, which have no snapshot, fall back
-- to the contract's daily aggregate bar with its reference terms as of that day (data_origin = 'aggregates'):
-- the REST range bar, else the flat file's (no VWAP; macros/day_bars.sql);
-- they have no Greeks, implied volatility, open interest or quotes. Terms missing from the API are parsed from
-- the OCC symbol. Incremental runs rebuild every (underlying, day) that received any input since the last run
-- (snapshots, option bars, contracts or the underlying's stock bar).

with

snapshots as (

    select * from {{ ref('stg_polygon__option_snapshots') }}

),

option_bars as (

    -- the REST range bar of a contract-day, else its flat-file bar (no VWAP): macros/day_bars.sql
    {{ option_day_bars() }}

),

contracts as (

    select * from {{ ref('stg_polygon__option_contracts') }}

),

stock_bars as (

    select ticker, trade_date, close, source, _loaded_at, _batch_at from ({{ stock_day_bars() }}) as bars

),

{% if is_incremental() %}

affected_days as (

    select underlying, trade_date from snapshots
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    union
    select underlying, trade_date from option_bars
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    union
    select underlying_ticker as underlying, as_of_date as trade_date from contracts
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    union
    select ticker as underlying, trade_date from stock_bars
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}

),

{% endif %}

snapshot_rows as (

    select
        s.option_ticker,
        s.trade_date,
        s.underlying,
        'snapshot' as data_origin,
        s.contract_type,
        s.exercise_style,
        s.expiration_date,
        s.strike_price,
        s.shares_per_contract,
        s.open,
        s.high,
        s.low,
        s.close,
        s.volume,
        s.vwap,
        cast(null as bigint) as transactions,
        s.bid,
        s.ask,
        s.midpoint,
        s.fair_market_value,
        s.break_even_price,
        s.delta,
        s.gamma,
        s.theta,
        s.vega,
        s.implied_volatility,
        s.open_interest,
        s.underlying_price as underlying_snapshot_price,
        s.source,
        s._loaded_at
    from snapshots as s
    {% if is_incremental() %}
    inner join affected_days as a
        on a.underlying = s.underlying
        and a.trade_date = s.trade_date
    {% endif %}

),

bar_rows as (

    select
        b.option_ticker,
        b.trade_date,
        b.underlying,
        'aggregates' as data_origin,
        c.contract_type,
        c.exercise_style,
        c.expiration_date,
        c.strike_price,
        c.shares_per_contract,
        b.open,
        b.high,
        b.low,
        b.close,
        b.volume,
        b.vwap,
        b.transactions,
        cast(null as double) as bid,
        cast(null as double) as ask,
        cast(null as double) as midpoint,
        cast(null as double) as fair_market_value,
        cast(null as double) as break_even_price,
        cast(null as double) as delta,
        cast(null as double) as gamma,
        cast(null as double) as theta,
        cast(null as double) as vega,
        cast(null as double) as implied_volatility,
        cast(null as bigint) as open_interest,
        cast(null as double) as underlying_snapshot_price,
        b.source,
        {{ greatest_ignore_nulls(['b._loaded_at', 'c._loaded_at']) }} as _loaded_at
    from option_bars as b
    {% if is_incremental() %}
    inner join affected_days as a
        on a.underlying = b.underlying
        and a.trade_date = b.trade_date
    {% endif %}
    -- the reference terms as of the bar's day: the latest as-of on or before it, else the earliest after it
    left join contracts as c
        on c.option_ticker = b.option_ticker
    where not exists (
        select 1 from snapshots as s
        where s.option_ticker = b.option_ticker
          and s.trade_date = b.trade_date
    )
    qualify row_number() over (
        partition by b.option_ticker, b.trade_date
        order by
            case when c.as_of_date <= b.trade_date then 0 else 1 end,
            abs({{ days_between('c.as_of_date', 'b.trade_date') }})
    ) = 1

),

contract_days as (

    select * from snapshot_rows
    union all
    select * from bar_rows

),

parsed as (

    select
        d.*,
        {{ occ_root('d.option_ticker') }} as occ_root,
        {{ occ_expiration_date('d.option_ticker') }} as occ_expiration_date,
        {{ occ_contract_type('d.option_ticker') }} as occ_contract_type,
        {{ occ_strike_price('d.option_ticker') }} as occ_strike_price
    from contract_days as d

),

with_terms as (

    select
        p.option_ticker,
        p.trade_date,
        p.underlying,
        p.data_origin,
        p.occ_root,
        p.occ_expiration_date,
        p.occ_contract_type,
        p.occ_strike_price,
        coalesce(p.contract_type, p.occ_contract_type) as contract_type,
        p.exercise_style,
        coalesce(p.expiration_date, p.occ_expiration_date) as expiration_date,
        coalesce(p.strike_price, p.occ_strike_price) as strike_price,
        coalesce(p.shares_per_contract, {{ var('default_contract_multiplier') }}) as shares_per_contract,
        p.open,
        p.high,
        p.low,
        p.close,
        p.volume,
        p.vwap,
        p.transactions,
        p.bid,
        p.ask,
        p.midpoint,
        -- the usable price: the quote's midpoint, else the day's close, else its VWAP (the basis says which)
        case when p.midpoint > 0 then p.midpoint when p.close > 0 then p.close when p.vwap > 0 then p.vwap end
            as option_price,
        case when p.midpoint > 0 then 'midpoint' when p.close > 0 then 'close' when p.vwap > 0 then 'vwap' end
            as option_price_basis,
        p.fair_market_value,
        p.break_even_price,
        p.delta,
        p.gamma,
        p.theta,
        p.vega,
        p.implied_volatility,
        p.open_interest,
        sb.close as underlying_close,
        p.underlying_snapshot_price,
        coalesce(sb.close, p.underlying_snapshot_price) as underlying_price,
        {{ combine_source('p.source', 'sb.source') }} as source,
        {{ greatest_ignore_nulls(['p._loaded_at', 'sb._loaded_at']) }} as _loaded_at
    from parsed as p
    left join stock_bars as sb
        on sb.ticker = p.underlying
        and sb.trade_date = p.trade_date

),

moneyness as (

    select
        *,
        {{ days_between('trade_date', 'expiration_date') }} as days_to_expiry,
        case when strike_price > 0 then round(underlying_price / strike_price, 8) end as moneyness,
        case when strike_price > 0 and underlying_price > 0
            then round(ln(underlying_price / strike_price), 8) end as log_moneyness
    from with_terms

),

final as (

    select
        option_ticker,
        trade_date,
        underlying,
        data_origin,
        contract_type,
        exercise_style,
        expiration_date,
        strike_price,
        shares_per_contract,
        days_to_expiry,
        round(cast(days_to_expiry as double) / 365, 8) as years_to_expiry,
        occ_root,
        occ_expiration_date,
        occ_contract_type,
        occ_strike_price,
        open,
        high,
        low,
        close,
        volume,
        vwap,
        transactions,
        bid,
        ask,
        midpoint,
        option_price,
        option_price_basis,
        fair_market_value,
        break_even_price,
        delta,
        gamma,
        theta,
        vega,
        implied_volatility,
        open_interest,
        underlying_close,
        underlying_snapshot_price,
        underlying_price,
        moneyness,
        log_moneyness,
        {{ moneyness_bucket('log_moneyness', 'contract_type') }} as moneyness_bucket,
        round({{ intrinsic_value('contract_type', 'underlying_price', 'strike_price') }}, 6) as intrinsic_value,
        round(option_price - {{ intrinsic_value('contract_type', 'underlying_price', 'strike_price') }}, 6)
            as extrinsic_value,
        source,
        _loaded_at,
        {{ batch_timestamp() }} as _batch_at
    from moneyness

)

select * from final
