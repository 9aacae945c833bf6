"""``longpan ingest``: load a folder of exchange-format files into the lake.

Everything is read and validated before anything is written. --strict (the default)
writes nothing if any row is bad; --skip-bad writes the good rows and puts the bad ones
in a rejects file. Whole-file problems (encoding, header, unreadable file) always stop
the ingest. A file whose bytes were already ingested is skipped, so re-ingesting the
same folder is a no-op. Organisations are also synchronised into the database.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from longpan.core.errors import InputError
from longpan.resources.exchange.reader import SUFFIXES, read_file
from longpan.resources.exchange.tables import SPECS, TableSpec
from longpan.resources.exchange.validate import Validated, validate
from longpan.resources.organisations import sync_organisations
from longpan.store.db import audit, transaction
from longpan.store.lake import PendingWrite, Snapshot
from longpan.store.workspace import Workspace

Mode = Literal["strict", "skip-bad"]
Progress = Callable[[str], None]
MAX_ERRORS_SHOWN = 20


@dataclass
class TableResult:
    table: str
    file: str
    status: Literal["written", "unchanged"]
    rows: int = 0
    rejected: int = 0
    snapshot: str | None = None


@dataclass
class IngestReport:
    folder: str
    tables: list[TableResult] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    rejects_dir: str | None = None

    @property
    def changed(self) -> bool:
        return any(t.status == "written" for t in self.tables)


class IngestErrors(InputError):
    """Several bad rows; the message lists the first ones, each with file, line, column."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        hint = "nothing was written (use --skip-bad to load the good rows)"
        first = errors[0]
        if len(errors) == 1:
            super().__init__(
                f"{first}; {hint}", file=first.file, line=first.line, column=first.column
            )
            return
        shown = "\n".join(str(e) for e in errors[:MAX_ERRORS_SHOWN])
        more = len(errors) - MAX_ERRORS_SHOWN
        tail = f"\n… and {more} more bad rows" if more > 0 else ""
        super().__init__(
            f"{len(errors)} bad rows, {hint}:\n{shown}{tail}",
            file=first.file,
            line=first.line,
            column=first.column,
        )

    def _format(self) -> str:
        return self.message


def find_table_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Known table name → its file; the names of files that are not tables."""
    if not folder.is_dir():
        raise InputError(f"not a folder: {folder}", file=str(folder))
    found: dict[str, Path] = {}
    ignored: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUFFIXES or path.stem not in SPECS:
            ignored.append(path.name)
            continue
        if path.stem in found:
            raise InputError(
                f"table {path.stem} is given twice ({found[path.stem].name} and {path.name})",
                file=str(path),
            )
        found[path.stem] = path
    if not found:
        raise InputError(
            f"no exchange-format tables in {folder}; expected files named like "
            f"{', '.join(n + '.csv' for n in sorted(SPECS))} (or .parquet)",
            file=str(folder),
        )
    return found, ignored


def ingest_folder(
    ws: Workspace,
    folder: Path,
    *,
    mode: Mode = "strict",
    actor: str = "system:cli",
    progress: Progress | None = None,
) -> IngestReport:
    files, ignored = find_table_files(folder)
    report = IngestReport(str(folder), ignored=ignored)
    pending: list[tuple[TableSpec, Path, str, Validated]] = []
    for name, path in files.items():
        if progress:
            progress(path.name)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if ws.lake.has_source(SPECS[name].dataset, digest):
            report.tables.append(TableResult(name, str(path), "unchanged"))
            continue
        pending.append((SPECS[name], path, digest, validate(SPECS[name], read_file(path, data))))
    errors = [e for *_, checked in pending for e in checked.errors]
    if errors and mode == "strict":
        raise IngestErrors(errors)
    if errors:
        report.rejects_dir = str(_write_rejects(ws, pending))
    _commit(ws, pending, report, actor)
    return report


def _commit(
    ws: Workspace,
    pending: list[tuple[TableSpec, Path, str, Validated]],
    report: IngestReport,
    actor: str,
) -> None:
    if not pending:
        return
    writes = [
        PendingWrite(spec.dataset, v.table, digest, [path.name])
        for spec, path, digest, v in pending
    ]
    snapshots: dict[str, Snapshot] = {}
    try:
        with transaction(ws.sessions) as session:
            for spec, _path, _digest, checked in pending:
                if spec.name == "organisations":
                    sync_organisations(session, checked.table, actor=actor, clock=ws.clock)
            snapshots = ws.lake.commit(writes)
            for spec, path, _digest, checked in pending:
                report.tables.append(
                    TableResult(
                        spec.name,
                        str(path),
                        "written",
                        checked.table.num_rows,
                        len(checked.rejected),
                        snapshots[spec.name].id,
                    )
                )
            audit(
                session,
                actor=actor,
                action="lake.ingested",
                object_type="folder",
                object_id=report.folder,
                clock=ws.clock,
                details=_audit_details(report),
            )
    except BaseException:
        ws.lake.uncommit(snapshots)  # the database refused: take the lake back too
        raise


def _audit_details(report: IngestReport) -> dict[str, object]:
    return {
        t.table: {"rows": t.rows, "rejected": t.rejected, "snapshot": t.snapshot}
        for t in report.tables
        if t.status == "written"
    }


def _write_rejects(ws: Workspace, pending: list[tuple[TableSpec, Path, str, Validated]]) -> Path:
    folder = ws.settings.home / "rejects" / ws.clock().strftime("%Y%m%dT%H%M%S%fZ")
    folder.mkdir(parents=True, exist_ok=True)
    for spec, path, _digest, checked in pending:
        if not checked.rejected:
            continue
        header = list(checked.rejected[0][1])
        with open(folder / f"{spec.name}.csv", "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["_file", "_line", "_column", "_error", *header])
            for line, cells, error in checked.rejected:
                writer.writerow(
                    [
                        path.name,
                        line,
                        error.column,
                        error.message,
                        *(cells.get(h, "") for h in header),
                    ]
                )
    return folder
