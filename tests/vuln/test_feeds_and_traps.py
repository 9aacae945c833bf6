"""Feeds in the lake (incremental by lastModified, pages and folders), KEV, and the
false-positive traps of hand-made records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from longpan.core.errors import InputError
from longpan.store.datasets import CVE_CPE_MATCHES, CVES
from longpan.store.workspace import Workspace
from longpan.vuln.feeds import import_kev, import_nvd
from longpan.vuln.matching import match_assets, unassessed
from tests.conftest import DATA, make_workspace
from tests.vuln.helpers import KEV, NVD, asset, ingest_assets, needs_shared

TRAPS = DATA / "vuln" / "nvd-traps.json"
WINDOWS = "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "home")


@needs_shared
def test_pages_and_single_records_are_read(ws: Workspace) -> None:
    result = import_nvd(ws, [NVD / "api_response_pages", NVD / "CVE-2021-41773.json"])
    assert result.read == 40 and len(result.new) == 40  # 38 + 1 in the pages, 1 record
    again = import_nvd(ws, [NVD / "CVE-2021-41773.json"])
    assert again.new == [] and again.updated == [] and again.ignored == 1
    assert again.snapshot is None  # nothing changed, nothing written


@needs_shared
def test_a_newer_record_replaces_the_older_and_an_older_is_ignored(
    ws: Workspace, tmp_path: Path
) -> None:
    import_nvd(ws, [NVD / "CVE-2021-41773.json"])
    record = json.loads((NVD / "CVE-2021-41773.json").read_text())
    record["lastModified"] = "2030-01-01T00:00:00.000"
    record["configurations"] = record["configurations"][:1]
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(record))
    result = import_nvd(ws, [newer])
    assert result.updated == ["CVE-2021-41773"]
    matches = ws.lake.read(CVE_CPE_MATCHES)
    assert matches.num_rows == 1  # the replaced record's other configurations are gone
    record["lastModified"] = "2020-01-01T00:00:00.000"
    newer.write_text(json.dumps(record))
    assert import_nvd(ws, [newer]).ignored == 1
    assert ws.lake.read(CVES)["last_modified"][0].as_py().year == 2030


def test_bad_record_names_file_and_field_and_writes_nothing(ws: Workspace, tmp_path: Path) -> None:
    data = json.loads(TRAPS.read_text())
    data["vulnerabilities"][1]["cve"]["configurations"][0]["nodes"][0]["cpeMatch"][0][
        "criteria"
    ] = "cpe:2.3:a:example"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(InputError) as info:
        import_nvd(ws, [TRAPS, bad])
    assert info.value.file == str(bad)
    assert info.value.column == (
        "vulnerabilities[1].cve.configurations[0].nodes[0].cpeMatch[0].criteria"
    )
    assert ws.lake.current("cves") is None


def test_traps(ws: Workspace, tmp_path: Path) -> None:
    import_nvd(ws, [TRAPS])
    rows = [
        asset("192.0.2.1", 80, product="Apache httpd", version="2.4.49"),  # not ibm:http_server
        asset("192.0.2.2", 80, vendor="example", product="widget", version="3.0.0-rc1"),
        asset("192.0.2.3", 80, vendor="example", product="widget", version="3.0.0-rc2"),
        asset("192.0.2.4", 80, vendor="example", product="widget", version="2.9", os_cpe=WINDOWS),
        asset("192.0.2.5", 80, vendor="example", product="gadget", version="1.0"),
        asset("192.0.2.6", 80, vendor="example", product="widget", version="two"),
        asset("192.0.2.7", 443, cpe="cpe:2.3:o:example:gizmo_os:9.4:*:*:*:*:*:*:*"),
        asset("192.0.2.8", 443, cpe="cpe:2.3:o:example:gizmo_os:10.1:*:*:*:*:*:*:*"),
    ]
    ingest_assets(ws, tmp_path / "assets", rows)
    hits = {(h.asset["ip"], h.cve_id) for h in match_assets(ws.analytics()).hits}
    # a shared product name (http_server) does not join vendors; rc1 < rc2 is in range;
    # the negated platform node excludes Windows; an unparseable bound matches nothing;
    # an embedded wildcard (9.*) covers 9.4, not 10.1
    assert hits == {("192.0.2.2", "CVE-2099-0002"), ("192.0.2.7", "CVE-2099-0004")}
    reported = {(r["subject"], r["problem"]) for r in unassessed(ws.analytics())}
    assert reported == {("192.0.2.6:80", "version 'two' cannot be compared")}


@needs_shared
def test_kev_catalogue(ws: Workspace, tmp_path: Path) -> None:
    first = import_kev(ws, KEV)
    assert first.read == 1404 and len(first.new) == 1404
    assert import_kev(ws, KEV).snapshot is None  # the same catalogue again: a no-op
    catalogue = json.loads(KEV.read_text())
    catalogue["vulnerabilities"] = catalogue["vulnerabilities"][1:]
    catalogue["catalogVersion"] = "next"
    smaller = tmp_path / "kev.json"
    smaller.write_text(json.dumps(catalogue))
    assert import_kev(ws, smaller).updated == ["CVE-2025-48384"]  # dropped: re-match


def test_bad_kev_names_the_entry(ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "kev.json"
    shutil.copy(TRAPS, bad)
    with pytest.raises(InputError, match="missing 'cveID'"):  # an NVD page, not KEV
        import_kev(ws, bad)
    bad.write_text(json.dumps({"vulnerabilities": [{"cveID": "CVE-1", "dateAdded": "x"}]}))
    with pytest.raises(InputError) as info:
        import_kev(ws, bad)
    assert info.value.column == "vulnerabilities[0].vendorProject"


@needs_shared
@pytest.mark.parametrize("engine_name", ["duckdb"])
def test_engine_rules_equal_the_reference_rules(
    ws: Workspace, tmp_path: Path, engine_name: str
) -> None:
    """The Ibis pre-selection + accepted reasons give exactly what ``judge`` gives over
    every (identity, cpeMatch) pair of the real sample and the trap records."""
    import ibis

    from longpan.vuln.criteria import accepted_reason, judge, needs_judgement
    from longpan.vuln.matching import candidates_expr, identity_table, load_assets
    from tests.vuln.test_acceptance import ASSETS

    import_nvd(ws, [NVD, TRAPS])
    traps = [
        asset("192.0.2.2", 80, vendor="example", product="widget", version="3.0.0-rc1"),
        asset("192.0.2.4", 80, vendor="example", product="widget", version="2.9", os_cpe=WINDOWS),
        asset("192.0.2.7", 443, cpe="cpe:2.3:o:example:gizmo_os:9.4:*:*:*:*:*:*:*"),
        asset("192.0.2.8", 443, cpe="cpe:2.3:o:example:gizmo_os:10.1:*:*:*:*:*:*:*"),
    ]
    ingest_assets(ws, tmp_path / "assets", ASSETS + traps)
    engine = ws.analytics(engine_name)
    table, ordered = identity_table(load_assets(engine))
    matches = [r for r in ws.lake.read(CVE_CPE_MATCHES).to_pylist() if r["vulnerable"]]
    expected = {
        (n, r["cve_id"], r["config"], r["node"], r["match"]): reason
        for n, ident in enumerate(ordered)
        for r in matches
        if (reason := judge(r, ident)) is not None
    }
    got = {}
    for row in engine.rows(
        candidates_expr(engine.table("cve_cpe_matches"), ibis.memtable(table), None)
    ):
        ident = ordered[row["ident"]]
        key = (row["ident"], row["cve_id"], row["config"], row["node"], row["match"])
        full = next(
            r for r in matches if (r["cve_id"], r["config"], r["node"], r["match"]) == key[1:]
        )
        reason = (
            judge(full, ident) if needs_judgement(row["criteria"]) else accepted_reason(row, ident)
        )
        if reason is not None:
            got[key] = reason
    assert got == expected
    assert len(expected) > 15
    assert any(k[1] == "CVE-2099-0004" for k in expected)  # the wildcard went through judge
