"""TAXII collections and the retro-hunt's findings on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from longpan.core.errors import NotFoundError
from longpan.detect.findings import list_findings
from longpan.resources.ingest import ingest_folder
from longpan.store.db import transaction
from longpan.threat import collections as tc
from longpan.threat.feeds import import_stix
from tests.conftest import make_workspace
from tests.threat.test_ioc_hit import EVIL, A, B, C, bundle, handmade


def obj(n: int, modified: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--7e0c1cd9-5d50-4e4a-9e8b-5cd7b0b7b{n:03d}",
        "created": "2024-01-01T00:00:00Z",
        "modified": modified,
        "pattern": "[domain-name:value = 'x.example']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }


def test_collections_grants_objects_and_retro_hunt(tmp_path: Path, database_url: str) -> None:
    ws = make_workspace(tmp_path / "home", database_url)
    folder = handmade(tmp_path / "logs")
    names = "\n".join(f"{u},单位{i},key_unit" for i, u in enumerate((A, B, C)))
    (folder / "organisations.csv").write_text(f"uscc,name,roles\n{names}\n", "utf-8")
    ingest_folder(ws, folder)
    result = import_stix(ws, [bundle(folder)])
    assert {w["subject"] for w in result.hunt.warnings} >= {f"indicator:{EVIL}"}
    with ws.sessions() as session:
        hits = {f["subject"] for f in list_findings(session, types=["ioc_hit"])}
    assert f"{A}:{EVIL}" in hits and len(hits) == 4
    with transaction(ws.sessions) as session:
        shared = tc.create_collection(session, "预警", actor="ana", clock=ws.clock).id
        tc.create_collection(session, "内部", actor="ana", clock=ws.clock)
        tc.grant(session, shared, A, actor="ana", clock=ws.clock)
        tc.grant(session, shared, A, actor="ana", clock=ws.clock)  # idempotent
        status = tc.add_objects(
            session,
            shared,
            [obj(1, "2024-01-01T00:00:00Z"), obj(1, "2024-02-01T00:00:00Z"), {"id": 1}],
            actor="ana",
            clock=ws.clock,
        )
        assert (status.success_count, status.failure_count) == (2, 1)
    with ws.sessions() as session:
        unit_a, unit_b = tc.Reader("unit-a", A), tc.Reader("unit-b", B)
        assert [c.title for c in tc.visible_collections(session, unit_a)] == [
            "预警",
            tc.sightings_info().title,
        ]
        assert [c.id for c in tc.visible_collections(session, unit_b)] == [tc.SIGHTINGS_ID]
        with pytest.raises(NotFoundError):
            tc.get_collection(session, unit_b, shared)
        info = tc.get_collection(session, unit_a, shared)
        rows = tc.collection_rows(session, unit_a, info)
        assert len(tc.select_page(rows, tc.Filters(version="all"), 0, 10).rows) == 2
        last = tc.select_page(rows, tc.Filters(), 0, 10).objects
        assert [o["modified"] for o in last] == ["2024-02-01T00:00:00Z"]
        sightings = tc.sighting_rows(session, unit_a)
        mine = [b for _, b in sightings if b["type"] == "sighting"]
        assert mine and all(b["x_longpan_subject"].startswith(A) for b in mine)
    ws.close()
