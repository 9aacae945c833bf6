"""``longpan ingest``: load a folder of exchange-format files into the lake.

Everything is read and validated before anything is written. --strict (the default)
writes nothing if any row is bad; --skip-bad writes the good rows and puts the bad ones
in a rejects file. Whole-file problems (encoding, header, unreadable file) always stop
the ingest. A file whose bytes were already ingested is skipped, so re-ingesting the
same folder is a no-op. Organisations are also synchronised into the database.

Files are checked in batches (``exchange/fast.py``): the good rows stream to Parquet
files in the lake's staging folder and are moved into the new snapshots on commit, so
a file of tens of millions of rows is never held in memory.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow.parquet as pq

from longpan.core.errors import InputError
from longpan.resources.exchange.fast import Staged, stage_file
from longpan.resources.exchange.reader import SUFFIXES
from longpan.resources.exchange.tables import SPECS
from longpan.resources.organisations import sync_organisations
from longpan.store.db import audit, transaction
from longpan.store.lake import Snapshot, StagedWrite
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
    """Several bad rows; the message lists the first ones, each with file, line, column.

    ``errors`` may hold only the first bad rows of a big file; ``total`` counts them all.
    """

    def __init__(self, errors: list[InputError], total: int | None = None) -> None:
        self.errors = errors
        self.total = len(errors) if total is None else total
        hint = "nothing was written (use --skip-bad to load the good rows)"
        first = errors[0]
        if self.total == 1:
            super().__init__(
                f"{first}; {hint}", file=first.file, line=first.line, column=first.column
            )
            return
        shown = "\n".join(str(e) for e in errors[:MAX_ERRORS_SHOWN])
        more = self.total - MAX_ERRORS_SHOWN
        tail = f"\n… and {more} more bad rows" if more > 0 else ""
        super().__init__(
            f"{self.total} bad rows, {hint}:\n{shown}{tail}",
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


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


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
    staging = ws.lake.staging_dir()
    try:
        pending: list[tuple[Staged, str]] = []
        for name, path in files.items():
            if progress:
                progress(path.name)
            digest = file_sha256(path)
            if ws.lake.has_source(SPECS[name].dataset, digest):
                report.tables.append(TableResult(name, str(path), "unchanged"))
                continue
            staged = stage_file(SPECS[name], path, staging, keep_rejects=mode == "skip-bad")
            pending.append((staged, digest))
        errors = [e for staged, _ in pending for e in staged.errors]
        total = sum(staged.error_count for staged, _ in pending)
        if total and mode == "strict":
            raise IngestErrors(errors, total)
        if total:
            report.rejects_dir = str(_move_rejects(ws, pending))
        _commit(ws, pending, report, actor)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def _commit(
    ws: Workspace, pending: list[tuple[Staged, str]], report: IngestReport, actor: str
) -> None:
    if not pending:
        return
    writes = [
        StagedWrite(s.spec.dataset, s.output, s.rows, digest, [s.path.name])
        for s, digest in pending
    ]
    snapshots: dict[str, Snapshot] = {}
    try:
        with transaction(ws.sessions) as session:
            for staged, _ in pending:
                if staged.spec.name == "organisations":
                    table = pq.read_table(staged.output)
                    sync_organisations(session, table, actor=actor, clock=ws.clock)
            snapshots = ws.lake.commit(writes)
            for staged, _ in pending:
                name = staged.spec.name
                report.tables.append(
                    TableResult(
                        name,
                        str(staged.path),
                        "written",
                        staged.rows,
                        staged.error_count,
                        snapshots[name].id,
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


def _move_rejects(ws: Workspace, pending: list[tuple[Staged, str]]) -> Path:
    """Put each table's rejects file (written while checking) in a new rejects folder."""
    folder = ws.settings.home / "rejects" / ws.clock().strftime("%Y%m%dT%H%M%S%fZ")
    folder.mkdir(parents=True, exist_ok=True)
    for staged, _ in pending:
        if staged.rejects is not None:
            shutil.move(staged.rejects, folder / f"{staged.spec.name}.csv")
    return folder
