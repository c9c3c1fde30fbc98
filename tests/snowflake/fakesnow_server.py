"""Runs fakesnow's Snowflake emulator as a server for the ``snowflake`` tests, with three emulator fixes.

``python -m tests.snowflake.fakesnow_server --port N`` serves the Snowflake REST API on 127.0.0.1:N until it
is terminated. fakesnow 0.12 lacks four things Snowflake does, and the loader's production SQL needs them;
they are added here, on the emulator's side, so that the loader runs its real statements unchanged:

1. ``COPY INTO t (cols) FROM (SELECT $1, METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, … FROM @stage)
   FILES = (…)``: a COPY transformation reading the whole JSON line and the file metadata. fakesnow only
   rewrites ``$1:path`` selections. Here each file becomes ``read_json_objects(file) WITH ORDINALITY`` with
   ``$1`` the line, ``METADATA$FILENAME`` the file's path in the stage (Snowflake's documented meaning) and
   ``METADATA$FILE_ROW_NUMBER`` its line number from 1.
2. ``FILES = (…)`` on an internal stage: fakesnow only accepts it on URL stages. Here the listed names are
   joined to the internal stage's folder, as for a URL stage.
3. A DuckDB error fakesnow does not translate (a corrupt gzip file, a write conflict, an aborted transaction,
   a NULL in a NOT NULL column)
   reaches the client as HTTP 500, which the connector retries for minutes. Snowflake answers such a
   statement with a SQL error, so it is raised as a ``ProgrammingError`` here and the client fails at once.

4. The same COPY transformation over a CSV file format (a flat file): ``$1``..``$N`` are the fields of a
   record, read as text as Snowflake does and cast by the target columns' types on insert (a value that does
   not convert fails the COPY); ``METADATA$FILE_ROW_NUMBER`` is the record's number after the skipped header.
   Here each file becomes ``read_csv(file, all_varchar = true, skip = SKIP_HEADER, strict_mode = true) WITH
   ORDINALITY``, so a record with another number of fields fails the COPY too. Snowflake's documentation
   does not say whether that number counts the skipped header; ``SMELT_FAKESNOW_ROW_NUMBER_OFFSET=1`` makes
   the server count it (any N adds N), so the loader's renumbering is tested both ways.

They are listed in docs/snowflake.md with why they hide no production bug.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import duckdb
import fakesnow.copy_into as copy_into
import fakesnow.cursor as cursor
import fakesnow.server
import snowflake.connector.errors
import uvicorn
from sqlglot import exp

_inserts = copy_into._inserts

#: Added to a CSV COPY's METADATA$FILE_ROW_NUMBER: 1 counts the header line SKIP_HEADER skipped.
ROW_NUMBER_OFFSET = "SMELT_FAKESNOW_ROW_NUMBER_OFFSET"


def _is_dollar_one(node: exp.Parameter) -> bool:
    return isinstance(node.this, exp.Literal) and str(node.this.this) == "1"


def _metadata_column(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Column) and not node.table and node.name.upper().startswith("METADATA$"):
        return node.name.upper()
    return None


def _transform_inserts(
    expr: exp.Copy, params: copy_into.CopyParams, urls: list[str], parquet_info: Any = None
) -> list[Any]:
    """COPY transformations over whole JSON lines and file metadata; anything else as fakesnow does it."""
    source = expr.args["files"][0]
    select = source.this if isinstance(source, exp.Subquery) else None
    uses_line = select is not None and any(
        _is_dollar_one(p) and not isinstance(p.parent, exp.JSONExtract)
        for p in select.find_all(exp.Parameter)
    )
    uses_metadata = select is not None and any(_metadata_column(c) for c in select.find_all(exp.Column))
    if select is not None and isinstance(params.file_format, copy_into.ReadCSV) and uses_metadata:
        return _csv_inserts(expr, params, urls, select)
    if (
        select is None
        or not isinstance(params.file_format, copy_into.ReadJSON)
        or not (uses_line or uses_metadata)
    ):
        return _inserts(expr, params, urls, parquet_info)
    if len(params.files) != len(urls):
        raise NotImplementedError("COPY transformations with file metadata need an explicit FILES list")

    inserts: list[Any] = []
    for url, name in zip(urls, params.files, strict=True):

        def rewrite(node: exp.Expr, name: str = name) -> exp.Expr:
            if isinstance(node, exp.Parameter) and _is_dollar_one(node):
                return exp.column("json", table="_f")
            kind = _metadata_column(node)
            if kind == "METADATA$FILENAME":
                return exp.Literal.string(name)
            if kind == "METADATA$FILE_ROW_NUMBER":
                return exp.column("ordinality", table="_f")
            if kind:
                raise NotImplementedError(f"{kind} in a COPY transformation")
            return node

        columns = [column.transform(rewrite) for column in select.expressions]
        read = exp.Table(
            this=exp.func("read_json_objects", copy_into.FileTypeHandler.file_literal(url)),
            alias=exp.TableAlias(this=exp.to_identifier("_f")),
        )
        query = exp.Select(expressions=columns).from_(read).sql(dialect="duckdb")
        # DuckDB numbers a table function's rows WITH ORDINALITY, which sqlglot cannot express.
        query = query.replace(") AS _f", ") WITH ORDINALITY AS _f", 1)
        inserts.append(_RawInsert(f"INSERT INTO {expr.this.sql(dialect='duckdb')} {query}"))
    return inserts


def _field_number(node: exp.Expr) -> int | None:
    if isinstance(node, exp.Parameter) and isinstance(node.this, exp.Literal) and node.this.this.isdigit():
        return int(node.this.this)
    return None


def _csv_inserts(
    expr: exp.Copy, params: copy_into.CopyParams, urls: list[str], select: exp.Select
) -> list[Any]:
    """COPY transformations over CSV fields ($1..$N) and file metadata, one INSERT per listed file."""
    if len(params.files) != len(urls):
        raise NotImplementedError("COPY transformations with file metadata need an explicit FILES list")
    fmt = params.file_format
    assert isinstance(fmt, copy_into.ReadCSV)
    inserts: list[Any] = []
    for url, name in zip(urls, params.files, strict=True):

        def rewrite(node: exp.Expr, name: str = name) -> exp.Expr:
            number = _field_number(node)
            if number is not None:
                return exp.column(f"column{number - 1}")  # unqualified: read_csv's alias is ambiguous
            kind = _metadata_column(node)
            if kind == "METADATA$FILENAME":
                return exp.Literal.string(name)
            if kind == "METADATA$FILE_ROW_NUMBER":
                offset = int(os.environ.get(ROW_NUMBER_OFFSET, "0"))
                return exp.Add(this=exp.column("ordinality"), expression=exp.Literal.number(offset))
            if kind:
                raise NotImplementedError(f"{kind} in a COPY transformation")
            return node

        columns = [column.transform(rewrite) for column in select.expressions]
        options = {"header": False, "all_varchar": True, "strict_mode": True, "skip": fmt.skip_header,
                   "sep": fmt.sep, "quote": fmt.quote or "", "nullstr": fmt.null_if or []}  # fmt: skip
        read = exp.func(
            "read_csv",
            copy_into.FileTypeHandler.file_literal(url),
            *(copy_into.FileTypeHandler.make_eq(k, v) for k, v in options.items()),
        )
        table = exp.Table(this=read, alias=exp.TableAlias(this=exp.to_identifier("_f")))
        query = exp.Select(expressions=columns).from_(table).sql(dialect="duckdb")
        query = query.replace(") AS _f", ") WITH ORDINALITY AS _f", 1)
        inserts.append(_RawInsert(f"INSERT INTO {expr.this.sql(dialect='duckdb')} {query}"))
    return inserts


class _RawInsert:
    """An INSERT already written in DuckDB's SQL; copy_into only asks for its text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def sql(self, dialect: str | None = None, **_: Any) -> str:
        return self.text


_source_urls = copy_into._source_urls


def _source_urls_internal(source: str, files: list[str]) -> list[str]:
    """An internal stage is a local folder (no URL scheme): its listed files are paths in it."""
    if "://" not in source and source.startswith("/"):
        return [f"{source.rstrip('/')}/{name}" for name in files] or [source]
    return _source_urls(source, files)


_execute = cursor.FakeSnowflakeCursor._execute


def _execute_with_sql_errors(self: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return _execute(self, *args, **kwargs)
    except duckdb.TransactionException as exc:
        raise snowflake.connector.errors.ProgrammingError(msg=str(exc), errno=625, sqlstate="40001") from exc
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise snowflake.connector.errors.ProgrammingError(
            msg=str(exc), errno=100069, sqlstate="22000"
        ) from exc
    except duckdb.ConstraintException as exc:  # Snowflake: 100072 "NULL result in a non-nullable column"
        raise snowflake.connector.errors.ProgrammingError(
            msg=str(exc), errno=100072, sqlstate="22000"
        ) from exc


def install() -> None:
    copy_into._inserts = _transform_inserts  # type: ignore[assignment]
    copy_into._source_urls = _source_urls_internal  # type: ignore[assignment]
    cursor.FakeSnowflakeCursor._execute = _execute_with_sql_errors  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    install()
    uvicorn.run(fakesnow.server.app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
