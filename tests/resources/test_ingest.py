"""`longpan ingest`: validation at the edge, strict vs skip-bad, idempotence."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from longpan.core.errors import InputError
from longpan.resources.exchange.tables import SPECS
from longpan.resources.ingest import IngestErrors, ingest_folder
from longpan.store.models import AuditEntry, Organisation
from longpan.store.workspace import Workspace
from tests.conftest import DATA, EXAMPLE

BAD_CASES = sorted(p for p in (DATA / "bad").iterdir() if p.is_dir())


def _tree_digest(root: Path) -> dict[str, str]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _db_counts(ws: Workspace) -> tuple[int, int]:
    with ws.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Organisation)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


def test_example_ingests_every_table(ws: Workspace) -> None:
    report = ingest_folder(ws, EXAMPLE)
    written = {t.table: t.rows for t in report.tables}
    assert set(written) == set(SPECS)
    assert all(rows > 0 for rows in written.values())
    assert "truth.csv" in report.ignored
    with ws.sessions() as session:
        orgs = session.scalars(select(Organisation)).all()
    assert len(orgs) == written["organisations"]
    assert all(o.roles for o in orgs)


def test_reingesting_the_same_folder_is_a_no_op(ws: Workspace) -> None:
    ingest_folder(ws, EXAMPLE)
    lake_before, db_before = _tree_digest(ws.lake.root), _db_counts(ws)
    report = ingest_folder(ws, EXAMPLE)
    assert not report.changed
    assert {t.status for t in report.tables} == {"unchanged"}
    assert _tree_digest(ws.lake.root) == lake_before
    assert _db_counts(ws) == db_before


def test_canonical_forms_are_stored(sqlite_ws: Workspace) -> None:
    ingest_folder(sqlite_ws, EXAMPLE)
    services = sqlite_ws.lake.read(SPECS["icp_services"].dataset).to_pylist()
    domains = [d for s in services for d in s["domains"]]
    assert domains and all(d == d.lower() and d.isascii() and not d.endswith(".") for d in domains)
    crawls = sqlite_ws.lake.read(SPECS["web_crawls"].dataset).to_pylist()
    footers = [c["footer_icp"] for c in crawls if c["footer_icp"]]
    assert footers and all("ICP" in f and f.isascii() is False for f in footers)
    assert all(not any("０" <= ch <= "９" for ch in f) for f in footers)  # full-width folded


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda p: p.name)
def test_bad_input_is_refused_with_its_place(ws: Workspace, case: Path) -> None:
    expected = dict(
        line.split("=", 1)
        for line in (case / "expected.txt").read_text("utf-8").split("\n")
        if "=" in line
    )
    ingest_folder(ws, EXAMPLE)
    lake_before, db_before = _tree_digest(ws.lake.root), _db_counts(ws)
    with pytest.raises(InputError) as caught:
        ingest_folder(ws, case)
    first = caught.value.errors[0] if isinstance(caught.value, IngestErrors) else caught.value
    assert first.file is not None and Path(first.file).name == expected["file"]
    assert first.line == int(expected["line"])
    assert first.column is not None and expected["column"] in first.column
    message = str(caught.value)
    assert expected["file"] in message and f"line {expected['line']}" in message
    assert _tree_digest(ws.lake.root) == lake_before
    assert _db_counts(ws) == db_before


def test_skip_bad_writes_good_rows_and_a_rejects_file(sqlite_ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rows = (EXAMPLE / "entities.csv").read_text("utf-8").splitlines()
    broken = rows[1].split(",")
    broken[0] = broken[0][:-1] + ("0" if broken[0][-1] != "0" else "1")  # wrong check char
    (folder / "entities.csv").write_text(
        "\n".join([rows[0], ",".join(broken), *rows[2:]]) + "\n", "utf-8"
    )
    with pytest.raises(IngestErrors):
        ingest_folder(sqlite_ws, folder)
    assert sqlite_ws.lake.current("entities") is None
    report = ingest_folder(sqlite_ws, folder, mode="skip-bad")
    (result,) = report.tables
    assert (result.rows, result.rejected) == (len(rows) - 2, 1)
    assert report.rejects_dir is not None
    with open(Path(report.rejects_dir) / "entities.csv", encoding="utf-8") as f:
        (rejected,) = list(csv.DictReader(f))
    assert rejected["_line"] == "2" and "uscc" in rejected["_column"]
    assert "check character" in rejected["_error"]


def test_extra_columns_are_kept_and_missing_ones_refused(
    sqlite_ws: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    lines = (EXAMPLE / "registrars.csv").read_text("utf-8").splitlines()
    (folder / "registrars.csv").write_text(
        "\n".join([lines[0] + ",remark"] + [line + ",备注" for line in lines[1:]]) + "\n", "utf-8"
    )
    ingest_folder(sqlite_ws, folder)
    table = sqlite_ws.lake.read(SPECS["registrars"].dataset)
    assert set(table.column("remark").to_pylist()) == {"备注"}


def test_a_folder_without_tables_is_refused(sqlite_ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", "utf-8")
    with pytest.raises(InputError, match="no exchange-format tables"):
        ingest_folder(sqlite_ws, tmp_path)


def test_organisation_changes_are_synchronised_and_audited(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "orgs"
    folder.mkdir()
    lines = (EXAMPLE / "organisations.csv").read_text("utf-8").splitlines()
    (folder / "organisations.csv").write_text("\n".join(lines) + "\n", "utf-8")
    ingest_folder(ws, folder)
    header = lines[0].split(",")
    first = next(csv.DictReader(lines))
    first["roles"] = f"{first['roles']};key_unit"  # keep the old role, add one
    first["name"] = first["name"] + "（更名）"
    with open(folder / "organisations.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows([first, *list(csv.DictReader(lines))[1:]])
    ingest_folder(ws, folder)
    with ws.sessions() as session:
        org = session.scalars(select(Organisation).where(Organisation.uscc == first["uscc"])).one()
        updates = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "organisation.updated")
        ).all()
    assert "key_unit" in org.roles and len(org.roles) == 2 and org.name.endswith("（更名）")
    assert [u.object_id for u in updates] == [first["uscc"]]
