{{
    config(
        unique_key=['option_ticker', 'trade_date'],
    )
}}
-- The option chain with both sets of Greeks, one row per contract and trading day: the vendor's (snapshot days)
-- and smelt's computed ones (every day with a usable price: workflows/pricing on int_options__pricing_inputs),
-- and the values to use: the vendor's where it gave them, else the computed ones (greeks_source says which).
-- A computed row counts only if it answers the current inputs (same inputs_hash); until the greeks step has
-- answered them, computed_status is 'pending'.

with

chain as (

    select * from {{ ref('int_polygon__option_chain_daily') }}

),

inputs as (

    select * from {{ ref('int_options__pricing_inputs') }}

),

computed as (

    select * from {{ ref('stg_smelt__option_greeks') }}

),

{% if is_incremental() %}

affected_days as (

    select underlying, trade_date from chain
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    union
    select underlying, trade_date from inputs
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}
    union
    select underlying, trade_date from computed
    where {{ is_newer_than_watermark('_batch_at', '_batch_at') }}

),

{% endif %}

joined as (

    select
        c.*,
        i.exercise_model,
        i.risk_free_rate,
        i.dividend_yield,
        i.inputs_hash,
        g.option_ticker is not null as has_computed,
        g.implied_volatility as computed_implied_volatility,
        g.delta as computed_delta,
        g.gamma as computed_gamma,
        g.theta as computed_theta,
        g.vega as computed_vega,
        g.unsolved_reason,
        g.pricing_model,
        coalesce(c.implied_volatility, c.delta) is not null as has_vendor
    from chain as c
    {% if is_incremental() %}
    inner join affected_days as a
        on a.underlying = c.underlying
        and a.trade_date = c.trade_date
    {% endif %}
    -- incremental: only the affected days' inputs and answers are hashed for the joins, not every day's
    left join (
        select * from inputs
        {% if is_incremental() %}where trade_date in (select trade_date from affected_days){% endif %}
    ) as i
        on i.option_ticker = c.option_ticker
        and i.trade_date = c.trade_date
    left join (
        select * from computed
        {% if is_incremental() %}where trade_date in (select trade_date from affected_days){% endif %}
    ) as g
        on g.option_ticker = c.option_ticker
        and g.trade_date = c.trade_date
        and g.inputs_hash = i.inputs_hash

),

final as (

    select
        option_ticker,
        trade_date,
        underlying,
        data_origin,
        contract_type,
        exercise_style,
        exercise_model,
        expiration_date,
        strike_price,
        shares_per_contract,
        days_to_expiry,
        years_to_expiry,
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
        -- the values to use: the vendor's where it gave them, else smelt's
        case when has_vendor then 'vendor' when computed_implied_volatility is not null then 'computed' end
            as greeks_source,
        case when has_vendor then implied_volatility else computed_implied_volatility end as implied_volatility,
        case when has_vendor then delta else computed_delta end as delta,
        case when has_vendor then gamma else computed_gamma end as gamma,
        case when has_vendor then theta else computed_theta end as theta,
        case when has_vendor then vega else computed_vega end as vega,
        implied_volatility as vendor_implied_volatility,
        delta as vendor_delta,
        gamma as vendor_gamma,
        theta as vendor_theta,
        vega as vendor_vega,
        round(computed_implied_volatility, 10) as computed_implied_volatility,
        round(computed_delta, 10) as computed_delta,
        round(computed_gamma, 10) as computed_gamma,
        round(computed_theta, 10) as computed_theta,
        round(computed_vega, 10) as computed_vega,
        case
            when inputs_hash is null or not has_computed then 'pending'
            when unsolved_reason is not null then unsolved_reason
            else 'solved'
        end as computed_status,
        pricing_model,
        round(risk_free_rate, 10) as risk_free_rate,
        round(dividend_yield, 10) as dividend_yield,
        open_interest,
        underlying_close,
        underlying_snapshot_price,
        underlying_price,
        moneyness,
        log_moneyness,
        moneyness_bucket,
        intrinsic_value,
        extrinsic_value,
        source,
        _loaded_at,
        {{ batch_timestamp() }} as _batch_at
    from joined

)

select * from final
