"""Streaming table exports: CSV (UTF-8 with BOM, so Excel reads Chinese) and Excel.

Both take a header and an iterable of rows that is consumed lazily; the CSV streams as
it is produced, the Excel file is written row by row (openpyxl write-only mode) into a
spooled temporary file and then streamed.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Cells starting with these are formulas to spreadsheet programs: neutralise them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str
) -> StreamingResponse:
    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(header)
        for n, row in enumerate(rows, 1):
            writer.writerow([_cell(v) for v in row])
            if n % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        chunks(), media_type=CSV_TYPE, headers={"Content-Disposition": _disposition(filename)}
    )


def xlsx_response(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    filename: str,
    sheet_title: str = "Sheet1",
) -> StreamingResponse:
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by the task
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([_excel_cell(v) for v in row])
    workbook.save(spool)
    spool.seek(0)
    return StreamingResponse(
        _read_chunks(spool.read),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": _disposition(filename)},
        background=BackgroundTask(spool.close),
    )


def _excel_cell(value: Any) -> Any:
    value = _cell(value)
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones; values are UTC
    return value


def _read_chunks(read: Callable[[int], bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    while chunk := read(size):
        yield chunk
