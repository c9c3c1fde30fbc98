{#- Option-specific expressions: OCC symbols, moneyness, intrinsic value. -#}

{#-
    OCC option symbol, Polygon style: `O:` + root (1-6 chars, may hold digits after an adjustment, e.g. AAPL1)
    + expiry YYMMDD + C|P + strike x 1000 in 8 digits.  O:AAPL230616C00150000 = AAPL 2023-06-16 call 150.
    Symbols that do not fit (e.g. the vendor example O:AAPL211022C000150000) parse to NULL in every part.
-#}
{% macro occ_pattern() -%}^O:([A-Z0-9.]+)([0-9]{6})([CP])([0-9]{8})${%- endmacro %}

{% macro occ_root(symbol) -%}
    {{ smelt.regexp_group(symbol, smelt.occ_pattern(), 1) }}
{%- endmacro %}

{% macro occ_expiration_date(symbol) -%}
    {%- set yymmdd = smelt.regexp_group(symbol, smelt.occ_pattern(), 2) -%}
    cast('20' || substr({{ yymmdd }}, 1, 2) || '-' || substr({{ yymmdd }}, 3, 2) || '-' || substr({{ yymmdd }}, 5, 2) as date)
{%- endmacro %}

{% macro occ_contract_type(symbol) -%}
    {%- set cp = smelt.regexp_group(symbol, smelt.occ_pattern(), 3) -%}
    case {{ cp }} when 'C' then 'call' when 'P' then 'put' end
{%- endmacro %}

{% macro occ_strike_price(symbol) -%}
    (cast({{ smelt.regexp_group(symbol, smelt.occ_pattern(), 4) }} as double) / 1000)
{%- endmacro %}

{#-
    moneyness_bucket(log_moneyness, contract_type): ln(S/K) to deep_itm | itm | atm | otm | deep_otm.
    ATM when |ln(S/K)| <= var atm_log_moneyness_tolerance (edge included); deep when |ln(S/K)| is strictly beyond
    var deep_log_moneyness_threshold. Calls are ITM above the strike, puts below. ln(S/K) is rounded to 8 decimals
    first so that a value on the edge is not pushed across it by floating-point noise.
-#}
{% macro moneyness_bucket(log_moneyness, contract_type) -%}
    {%- set x = 'round(' ~ log_moneyness ~ ', 8)' -%}
    {%- set atm = var('atm_log_moneyness_tolerance') -%}
    {%- set deep = var('deep_log_moneyness_threshold') -%}
    case
        when {{ log_moneyness }} is null or {{ contract_type }} not in ('call', 'put') then null
        when abs({{ x }}) <= {{ atm }} then 'atm'
        when ({{ contract_type }} = 'call' and {{ x }} > {{ deep }})
          or ({{ contract_type }} = 'put' and {{ x }} < -{{ deep }}) then 'deep_itm'
        when ({{ contract_type }} = 'call' and {{ x }} > 0)
          or ({{ contract_type }} = 'put' and {{ x }} < 0) then 'itm'
        when abs({{ x }}) > {{ deep }} then 'deep_otm'
        else 'otm'
    end
{%- endmacro %}

{#- intrinsic_value(contract_type, underlying_price, strike_price): max(S-K, 0) for calls, max(K-S, 0) for puts. -#}
{% macro intrinsic_value(contract_type, underlying_price, strike_price) -%}
    case
        when {{ underlying_price }} is null or {{ strike_price }} is null then null
        when {{ contract_type }} = 'call' then case when {{ underlying_price }} > {{ strike_price }}
            then {{ underlying_price }} - {{ strike_price }} else 0 end
        when {{ contract_type }} = 'put' then case when {{ strike_price }} > {{ underlying_price }}
            then {{ strike_price }} - {{ underlying_price }} else 0 end
    end
{%- endmacro %}

{#- greeks_source_of_group(column): vendor or computed when every row of the group agrees, mixed otherwise. -#}
{% macro greeks_source_of_group(column) -%}
    case when min({{ column }}) = max({{ column }}) then min({{ column }}) when count({{ column }}) > 0 then 'mixed' end
{%- endmacro %}
