"""Validate raw exchange-format rows against their table spec.

Returns the canonical rows as an Arrow table plus one InputError per bad row (file,
line, column and reason), so that the caller can refuse the file (--strict) or keep
the good rows and write the bad ones to a rejects file (--skip-bad).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from longpan.core.errors import IdentifierError, InputError
from longpan.resources.exchange import parsers as p
from longpan.resources.exchange.reader import RawTable
from longpan.resources.exchange.tables import Row, TableSpec
from longpan.store.lake import KEY_SEPARATOR


@dataclass
class Validated:
    table: pa.Table
    errors: list[InputError]
    rejected: list[tuple[int, dict[str, Any], InputError]]


def check_columns(spec: TableSpec, raw: RawTable) -> None:
    """Every required column must be in the header (extra columns are fine)."""
    missing = [name for name in spec.required_columns if name not in raw.header]
    if missing:
        raise InputError(
            f"missing required column(s) {', '.join(missing)}; "
            f"table {spec.name} needs: {', '.join(spec.required_columns)}",
            file=str(raw.path),
            line=1,
            column=missing[0],
        )


def validate(spec: TableSpec, raw: RawTable) -> Validated:
    check_columns(spec, raw)
    extras = [h for h in raw.header if h not in spec.required_columns]
    positions = {name: index for index, name in enumerate(raw.header, start=1)}
    good: list[Row] = []
    result = Validated(pa.table({}), [], [])
    seen_keys: dict[str, int] = {}
    for line, values in raw.rows:
        cells = dict(zip(raw.header, values, strict=True))
        try:
            row = _parse_row(spec, cells, extras)
            _check_key(spec, row, line, seen_keys)
        except _CellError as exc:
            error = InputError(
                exc.reason,
                file=str(raw.path),
                line=line,
                column=f"{positions[exc.column]} ({exc.column})",
            )
            result.errors.append(error)
            result.rejected.append((line, cells, error))
            continue
        good.append(row)
    result.table = _to_arrow(spec, good, extras)
    return result


class _CellError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def _parse_row(spec: TableSpec, cells: dict[str, Any], extras: list[str]) -> Row:
    row: Row = {}
    for field in spec.fields:
        row[field.name] = _parse_cell(
            spec, field.name, field.parse, field.required, cells[field.name]
        )
    for rule in spec.rules:
        problem = rule(row)
        if problem is not None:
            raise _CellError(*problem)
    row.update(spec.derive(row))
    for name in extras:
        value = cells[name]
        row[name] = None if p.is_empty(value) else str(value)
    return row


def _parse_cell(spec: TableSpec, name: str, parse: p.Parser, required: bool, value: Any) -> Any:
    if p.is_empty(value):
        if required:
            raise _CellError(name, "a value is required")
        return [] if pa.types.is_list(spec.dataset.column(name).type) else None
    try:
        return parse(value)
    except IdentifierError as exc:
        raise _CellError(name, f"{exc.kind} {exc.value!r}: {exc.reason}") from None
    except ValueError as exc:
        raise _CellError(name, str(exc)) from None


def _check_key(spec: TableSpec, row: Row, line: int, seen: dict[str, int]) -> None:
    key_columns = spec.dataset.key
    key = KEY_SEPARATOR.join("" if row[k] is None else str(row[k]) for k in key_columns)
    if key in seen:
        shown = ", ".join(f"{k}={row[k]}" for k in key_columns)
        raise _CellError(key_columns[0], f"duplicate key ({shown}); first on line {seen[key]}")
    seen[key] = line


def _to_arrow(spec: TableSpec, rows: list[Row], extras: list[str]) -> pa.Table:
    schema = spec.dataset.schema
    for name in extras:
        if name not in schema.names:
            schema = schema.append(pa.field(name, pa.string()))
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.table(columns, schema=schema)
