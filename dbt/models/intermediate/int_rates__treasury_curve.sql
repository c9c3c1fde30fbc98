{{ config(materialized='table') }}
-- The risk-free curve in long form, one row per curve date and maturity: the Treasury par yield (percent,
-- semi-annual bond-equivalent) and the same as a continuously compounded rate, r = 2 ln(1 + y / 200). The newest
-- copy of each date wins; _version_batch_at is when this version of the day's curve was first staged.
-- workflows/pricing/carry.py states the convention; int_options__pricing_inputs interpolates on it.

with

copies as (

    select
        *,
        min(_batch_at) over (
            partition by curve_date, yield_1_month, yield_3_month, yield_6_month, yield_1_year, yield_2_year,
                yield_3_year, yield_5_year, yield_7_year, yield_10_year, yield_20_year, yield_30_year
        ) as _version_batch_at
    from {{ ref('stg_polygon__treasury_yields') }}

),

newest as (

    select * from copies
    qualify row_number() over (partition by curve_date order by _fetched_at desc, _loaded_at desc, _ingest_date desc) = 1

),

points as (

    select curve_date, cast(1.0 / 12 as double) as maturity_years, yield_1_month as par_yield, source, _version_batch_at from newest where yield_1_month is not null
    union all
    select curve_date, cast(0.25 as double) as maturity_years, yield_3_month as par_yield, source, _version_batch_at from newest where yield_3_month is not null
    union all
    select curve_date, cast(0.5 as double) as maturity_years, yield_6_month as par_yield, source, _version_batch_at from newest where yield_6_month is not null
    union all
    select curve_date, cast(1.0 as double) as maturity_years, yield_1_year as par_yield, source, _version_batch_at from newest where yield_1_year is not null
    union all
    select curve_date, cast(2.0 as double) as maturity_years, yield_2_year as par_yield, source, _version_batch_at from newest where yield_2_year is not null
    union all
    select curve_date, cast(3.0 as double) as maturity_years, yield_3_year as par_yield, source, _version_batch_at from newest where yield_3_year is not null
    union all
    select curve_date, cast(5.0 as double) as maturity_years, yield_5_year as par_yield, source, _version_batch_at from newest where yield_5_year is not null
    union all
    select curve_date, cast(7.0 as double) as maturity_years, yield_7_year as par_yield, source, _version_batch_at from newest where yield_7_year is not null
    union all
    select curve_date, cast(10.0 as double) as maturity_years, yield_10_year as par_yield, source, _version_batch_at from newest where yield_10_year is not null
    union all
    select curve_date, cast(20.0 as double) as maturity_years, yield_20_year as par_yield, source, _version_batch_at from newest where yield_20_year is not null
    union all
    select curve_date, cast(30.0 as double) as maturity_years, yield_30_year as par_yield, source, _version_batch_at from newest where yield_30_year is not null

)

select
    curve_date,
    maturity_years,
    par_yield,
    2 * ln(1 + par_yield / 200) as risk_free_rate,
    source,
    _version_batch_at
from points
