"""Validate raw exchange-format rows against their table spec, one row at a time.

Returns the canonical rows as an Arrow table plus one InputError per bad row (file,
line, column and reason), so that the caller can refuse the file (--strict) or keep
the good rows and write the bad ones to a rejects file (--skip-bad).

This per-row path is the reference: the batch path (``fast.py``) must give the same
rows, values and errors, and uses ``check_row`` here to word the error of each bad row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
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


class CellError(Exception):
    """One bad cell (or row rule): the column it is about and the reason."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def check_columns(spec: TableSpec, path: Path, header: Sequence[str]) -> None:
    """Every required column must be in the header (extra columns are fine)."""
    missing = [name for name in spec.required_columns if name not in header]
    if missing:
        raise InputError(
            f"missing required column(s) {', '.join(missing)}; "
            f"table {spec.name} needs: {', '.join(spec.required_columns)}",
            file=str(path),
            line=1,
            column=missing[0],
        )


def extra_columns(spec: TableSpec, header: Sequence[str]) -> list[str]:
    return [h for h in header if h not in spec.required_columns]


def output_schema(spec: TableSpec, extras: Sequence[str]) -> pa.Schema:
    """The dataset's schema, then the extra columns as strings (what the lake stores)."""
    schema = spec.dataset.schema
    for name in extras:
        if name not in schema.names:
            schema = schema.append(pa.field(name, pa.string()))
    return schema


def validate(spec: TableSpec, raw: RawTable) -> Validated:
    check_columns(spec, raw.path, raw.header)
    extras = extra_columns(spec, raw.header)
    positions = {name: index for index, name in enumerate(raw.header, start=1)}
    good: list[Row] = []
    result = Validated(pa.table({}), [], [])
    seen_keys: dict[str, int] = {}
    for line, values in raw.rows:
        cells = dict(zip(raw.header, values, strict=True))
        try:
            row = check_row(spec, cells, extras)
            _check_key(spec, row, line, seen_keys)
        except CellError as exc:
            error = row_error(raw.path, positions, line, exc)
            result.errors.append(error)
            result.rejected.append((line, cells, error))
            continue
        good.append(row)
    result.table = _to_arrow(spec, good, extras)
    return result


def row_error(path: Path, positions: dict[str, int], line: int, exc: CellError) -> InputError:
    return InputError(
        exc.reason, file=str(path), line=line, column=f"{positions[exc.column]} ({exc.column})"
    )


def check_row(spec: TableSpec, cells: dict[str, Any], extras: Sequence[str]) -> Row:
    """The canonical row (derived columns and extras included); CellError if it is bad."""
    row: Row = {}
    for field in spec.fields:
        row[field.name] = _parse_cell(
            spec, field.name, field.parse, field.required, cells[field.name]
        )
    for rule in spec.rules:
        problem = rule(row)
        if problem is not None:
            raise CellError(*problem)
    if spec.derive is not None:
        row.update(spec.derive(row))
    for name in extras:
        value = cells[name]
        row[name] = None if p.is_empty(value) else str(value)
    return row


def _parse_cell(spec: TableSpec, name: str, parse: p.Parser, required: bool, value: Any) -> Any:
    if p.is_empty(value):
        if required:
            raise CellError(name, "a value is required")
        return [] if pa.types.is_list(spec.dataset.column(name).type) else None
    try:
        return parse(value)
    except IdentifierError as exc:
        raise CellError(name, f"{exc.kind} {exc.value!r}: {exc.reason}") from None
    except ValueError as exc:
        raise CellError(name, str(exc)) from None


def duplicate_key(spec: TableSpec, row: Row, first_line: int) -> CellError:
    key_columns = spec.dataset.key
    shown = ", ".join(f"{k}={row[k]}" for k in key_columns)
    return CellError(key_columns[0], f"duplicate key ({shown}); first on line {first_line}")


def _check_key(spec: TableSpec, row: Row, line: int, seen: dict[str, int]) -> None:
    key = KEY_SEPARATOR.join("" if row[k] is None else str(row[k]) for k in spec.dataset.key)
    if key in seen:
        raise duplicate_key(spec, row, seen[key])
    seen[key] = line


def _to_arrow(spec: TableSpec, rows: list[Row], extras: list[str]) -> pa.Table:
    schema = output_schema(spec, extras)
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.table(columns, schema=schema)
