{{
    config(
        unique_key=['option_ticker', 'trade_date'],
    )
}}
-- Every input of the implied volatility of one option contract-day, one row per contract and trading day, so
-- every computed number traces to the rows it came from (workflows/pricing/carry.py states the conventions):
--
-- * price: the chain's option_price (quote midpoint, else the day's close, else its VWAP; option_price_basis);
-- * spot: the underlying's unadjusted close of the day (the strikes' basis); strike and contract type;
-- * time: calendar days to expiry / 365, zero on the expiry day (then no implied volatility exists);
-- * exercise: european for cash-settled index options (exercise_style european, or an I: underlying), else
--   american;
-- * rate: the latest Treasury curve of the 7 days up to the day, as continuous rates, interpolated linearly in
--   years to expiry between its maturities and flat beyond them;
-- * dividend yield: the indicated annual dividend (the latest regular cash dividend declared by the day and
--   with an ex-date in the 400 days before it, times its frequency, per share of the day after the splits
--   since its ex-date) as a continuous yield on the close, q = ln(1 + D / S); 0 without one.
--
-- inputs_hash identifies the inputs: the greeks step computes the rows whose hash it has not answered yet.
-- Incremental runs take the chain rows rewritten since the last run, and the days a newly loaded curve or a
-- new version of a dividend can change.

with

chain as (

    select * from {{ ref('int_polygon__option_chain_daily') }}

),

curve as (

    select * from {{ ref('int_rates__treasury_curve') }}

),

dividends as (

    select * from {{ ref('int_polygon__dividends') }}
    where dividend_type = 'CD' and frequency > 0

),

splits as (

    select ticker, execution_date, price_adjustment_factor
    from {{ ref('stg_polygon__stock_splits') }}
    where price_adjustment_factor > 0

),

{% if is_incremental() %}

new_curves as (

    select min(curve_date) as since from curve
    where _version_batch_at > (select max(_batch_at) from {{ this }})

),

new_dividends as (

    select ticker, min(known_from_date) as since from dividends
    where _version_batch_at > (select max(_batch_at) from {{ this }})
    group by ticker

),

batch as (

    select c.* from chain as c
    where {{ is_newer_than_watermark('c._batch_at', '_batch_at') }}
       or c.trade_date >= (select since from new_curves)
       or exists (select 1 from new_dividends as d where d.ticker = c.underlying and c.trade_date >= d.since)

),

{% else %}

batch as (

    select * from chain

),

{% endif %}

rows_ as (

    select
        option_ticker,
        trade_date,
        underlying,
        contract_type,
        case when lower(exercise_style) = 'european' or underlying like 'I:%' then 'european' else 'american' end
            as exercise_model,
        strike_price,
        underlying_close as underlying_price,
        days_to_expiry,
        case when days_to_expiry >= 0 then cast(days_to_expiry as double) / 365 end as years_to_expiry,
        option_price,
        option_price_basis,
        vwap,
        source
    from batch

),

curve_of_day as (

    select d.trade_date, c.curve_date
    from (select distinct trade_date from rows_) as d
    inner join (select distinct curve_date from curve) as c
        on c.curve_date <= d.trade_date
        and c.curve_date >= {{ dbt.dateadd('day', -7, 'd.trade_date') }}
    qualify row_number() over (partition by d.trade_date order by c.curve_date desc) = 1

),

maturities as (

    select distinct r.trade_date, cd.curve_date, r.years_to_expiry
    from rows_ as r
    inner join curve_of_day as cd on cd.trade_date = r.trade_date
    where r.years_to_expiry is not null

),

lower_points as (

    select m.trade_date, m.years_to_expiry, p.maturity_years, p.risk_free_rate
    from maturities as m
    inner join curve as p on p.curve_date = m.curve_date and p.maturity_years <= m.years_to_expiry
    qualify row_number() over (partition by m.trade_date, m.years_to_expiry order by p.maturity_years desc) = 1

),

upper_points as (

    select m.trade_date, m.years_to_expiry, p.maturity_years, p.risk_free_rate
    from maturities as m
    inner join curve as p on p.curve_date = m.curve_date and p.maturity_years >= m.years_to_expiry
    qualify row_number() over (partition by m.trade_date, m.years_to_expiry order by p.maturity_years) = 1

),

rates as (

    select
        m.trade_date,
        m.years_to_expiry,
        m.curve_date,
        case
            when lo.maturity_years is null then hi.risk_free_rate
            when hi.maturity_years is null or hi.maturity_years = lo.maturity_years then lo.risk_free_rate
            else lo.risk_free_rate + (hi.risk_free_rate - lo.risk_free_rate)
                * (m.years_to_expiry - lo.maturity_years) / (hi.maturity_years - lo.maturity_years)
        end as risk_free_rate
    from maturities as m
    left join lower_points as lo on lo.trade_date = m.trade_date and lo.years_to_expiry = m.years_to_expiry
    left join upper_points as hi on hi.trade_date = m.trade_date and hi.years_to_expiry = m.years_to_expiry

),

latest_dividend as (

    select u.underlying, u.trade_date, d.cash_amount, d.frequency, d.ex_dividend_date
    from (select distinct underlying, trade_date from rows_) as u
    inner join dividends as d
        on d.ticker = u.underlying
        and d.known_from_date <= u.trade_date
        and d.ex_dividend_date >= {{ dbt.dateadd('day', -400, 'u.trade_date') }}
    qualify row_number() over (
        partition by u.underlying, u.trade_date order by d.known_from_date desc, d.ex_dividend_date desc
    ) = 1

),

indicated_dividend as (

    select
        l.underlying,
        l.trade_date,
        l.cash_amount * l.frequency * coalesce(exp(sum(ln(s.price_adjustment_factor))), 1) as annual_dividend
    from latest_dividend as l
    left join splits as s
        on s.ticker = l.underlying
        and s.execution_date > l.ex_dividend_date
        and s.execution_date <= l.trade_date
    group by l.underlying, l.trade_date, l.cash_amount, l.frequency

),

final as (

    select
        r.*,
        rt.curve_date,
        round(rt.risk_free_rate, 10) as risk_free_rate,
        case when r.underlying_price > 0
            then round(ln(1 + coalesce(dv.annual_dividend, 0) / r.underlying_price), 10) end as dividend_yield,
        round(coalesce(dv.annual_dividend, 0), 8) as annual_dividend
    from rows_ as r
    left join rates as rt on rt.trade_date = r.trade_date and rt.years_to_expiry = r.years_to_expiry
    left join indicated_dividend as dv on dv.underlying = r.underlying and dv.trade_date = r.trade_date

)

select
    *,
    {{ dbt.hash(dbt.concat([
        "coalesce(cast(option_price as varchar), '-')", "'|'",
        "coalesce(cast(underlying_price as varchar), '-')", "'|'",
        "coalesce(cast(strike_price as varchar), '-')", "'|'",
        "coalesce(cast(days_to_expiry as varchar), '-')", "'|'",
        "coalesce(cast(risk_free_rate as varchar), '-')", "'|'",
        "coalesce(cast(dividend_yield as varchar), '-')", "'|'",
        "coalesce(contract_type, '-')", "'|'", "exercise_model",
    ])) }} as inputs_hash,
    {{ batch_timestamp() }} as _batch_at
from final
