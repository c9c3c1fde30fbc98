{{ config(unique_key='manifest_key') }}

-- The load ledger's keys, each stamped with the first build that saw it (`_batch_at`). Staging models rebuild
-- the trading days of the keys stamped after their own newest `_batch_at` (see newest_landing_rows), so a
-- manifest is picked up by ledger key, never by comparing load times: a load that commits while a build runs
-- is not among this build's keys and is taken by the next one. A ledger row commits in the same transaction
-- as its landing rows, so every key copied here has all its rows visible to the models that follow.
select
    manifest_key,
    dataset,
    trade_date,
    files,
    loaded_at as _loaded_at,
    {{ batch_timestamp() }} as _batch_at
from {{ source('polygon', 'smelt_loads') }}
{% if is_incremental() %}
where manifest_key not in (select manifest_key from {{ this }})
{% endif %}
