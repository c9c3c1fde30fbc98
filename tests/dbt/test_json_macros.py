"""The cross-database JSON macros on DuckDB: one list of field types, the same values either way.

json_field reads one field; json_parse + parsed_field parse the record once and read many. Staging uses both,
so they must agree on every type, on a missing key and on a JSON null, and reject the same unknown types.
"""

from __future__ import annotations

import json

import pytest

from tests.dbt.support import DbtProject

RECORD = {"s": "SPY", "day": {"close": 601.25, "n": 7, "d": "2026-11-27", "t": "2026-11-27T21:00:00Z",
                              "ok": True, "none": None}}  # fmt: skip
FIELDS = [("s", "varchar"), ("day.close", "double"), ("day.n", "bigint"), ("day.d", "date"),
          ("day.t", "timestamp_tz"), ("day.ok", "boolean"), ("day.none", "double"), ("day.gone", "bigint")]  # fmt: skip
STRUCTURE = {"s": "varchar", "day": {"close": "double", "n": "bigint", "d": "date", "t": "timestamp_tz",
                                     "ok": "boolean", "none": "double", "gone": "bigint"}}  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    work = tmp_path_factory.mktemp("json-macros")
    return DbtProject(work / "warehouse.duckdb", work)


def show(project: DbtProject, sql: str) -> tuple[bool, list[object], str]:
    result, _ = project.invoke("show", "--inline", sql, "--limit", "1")
    if not result.success:
        return False, [], str(result.exception or [r.message for r in result.result or []])
    table = result.result.results[0].agate_table
    return True, list(table.rows[0]), ""


def test_json_field_and_parsed_field_read_the_same_values(project: DbtProject) -> None:
    record = "(select cast('" + json.dumps(RECORD) + "' as json) as record)"
    one_by_one = ", ".join(
        f"{{{{ json_field('record', '{p}', '{t}') }}}} as f{i}" for i, (p, t) in enumerate(FIELDS)
    )
    parsed = ", ".join(
        f"{{{{ parsed_field('parsed', '{p}', '{t}') }}}} as f{i}" for i, (p, t) in enumerate(FIELDS)
    )
    ok_a, by_field, err_a = show(project, f"select {one_by_one} from {record}")
    ok_b, by_parse, err_b = show(
        project,
        f"select {parsed} from (select {{{{ json_parse('record', {STRUCTURE!r}) }}}} as parsed from {record})",
    )
    assert ok_a and ok_b, err_a or err_b
    assert by_field == by_parse
    assert by_field[:3] == ["SPY", 601.25, 7] and by_field[5] is True
    assert by_field[6] is None and by_field[7] is None  # a JSON null and a missing key are both NULL


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("select {{ json_field('x', 'a', 'float') }}", "json_field: type 'float'"),
        ("select {{ parsed_field('x', 'a', 'float') }}", "parsed_field: type 'float'"),
        ("select {{ json_parse('x', {'a': {'b': 'float'}}) }}", "json_parse: type 'float' of key 'b'"),
    ],
)
def test_an_unknown_type_is_a_compile_error_naming_the_macro(
    project: DbtProject, sql: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ok, _, _ = show(project, sql)
    assert not ok
    error = capsys.readouterr().out  # dbt prints the compiler's message; the exception says only "parsing"
    assert named in error and "varchar, double, bigint, date, timestamp_tz, boolean" in error
