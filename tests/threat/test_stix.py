"""Reading STIX 2.1 content: the real samples, versions and revocation, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from longpan.core.errors import InputError
from longpan.store.datasets import INDICATORS
from longpan.store.workspace import Workspace
from longpan.threat.indicators import current_versions, import_content
from longpan.threat.stix import Content, read_objects, read_paths
from tests.threat.conftest import indicator as stix_indicator
from tests.threat.conftest import need_samples


def by_id(content: Content) -> dict[str, Any]:
    return {i.id: i for i in content.indicators}


def test_apt1_report_sample() -> None:
    content = read_paths([need_samples() / "stix2-examples" / "threat-reports" / "apt1.json"])
    values = {o.value for i in content.indicators for o in i.observables}
    assert {"hugesoft.org", "arrowservice.net", "223.166.0.0/15"} <= values
    assert "MD5:001dd76872d80801692ff942308c64e6" in values
    x509 = [i for i in content.indicators if i.pattern.startswith("[x509-certificate")]
    assert x509 and all(not i.observables for i in x509)
    assert all("AND" in i.unsupported[0] for i in x509)
    assert content.other_objects > 0  # report, malware, relationships… are skipped


def test_poisonivy_sample_or_patterns_and_a_bad_value() -> None:
    content = read_paths([need_samples() / "stix2-examples" / "threat-reports"])
    multi = next(i for i in content.indicators if "microsofta.byinter.net" in i.pattern)
    kinds = {(o.kind, o.value) for o in multi.observables}
    assert ("domain", "microsoftb.byinter.net") in kinds and ("ip", "98.126.148.114") in kinds
    typo = next(i for i in content.indicators if "domain autuo" in i.pattern)
    assert [o.value for o in typo.observables] == ["60.10.1.115"]  # the address is kept
    assert "whitespace" in typo.unsupported[0]  # 'domain autuo.xicp.net' is reported


def test_every_sample_reads_and_attack_has_no_indicators() -> None:
    samples = need_samples()
    content = read_paths([samples])
    assert len(content.files) >= 9
    attack = read_paths([samples / "attack"])
    assert attack.indicators == [] and attack.other_objects > 1000


def indicator(ident: str, modified: str, **extra: Any) -> dict[str, Any]:
    """An indicator (conftest's) with id ``indicator--<ident>``, created and valid from
    1 January 2024, modified at ``modified``."""
    pattern = extra.pop("pattern", "[domain-name:value = 'evil.example']")
    moments = {"created": JAN_2024, "modified": modified, "valid_from": JAN_2024}
    return stix_indicator(0, pattern, id=f"indicator--{ident}", **moments, **extra)


def content_of(*objects: dict[str, Any]) -> Content:
    content = Content()
    read_objects(objects, content, "test")
    return content


JAN_2024 = "2024-01-01T00:00:00Z"
ID = "6e0c1cd9-5d50-4e4a-9e8b-5cd7b0b7b1a1"


def test_versions_newer_replaces_older_is_ignored_revoked_sticks(sqlite_ws: Workspace) -> None:
    first = import_content(sqlite_ws, content_of(indicator(ID, "2024-02-01T00:00:00Z")), source="a")
    assert (first.added, first.new_ids) == (1, [f"indicator--{ID}"])
    again = import_content(sqlite_ws, content_of(indicator(ID, "2024-02-01T00:00:00Z")), source="a")
    assert (again.unchanged, again.new_ids, again.snapshot) == (1, [], None)
    newer = indicator(ID, "2024-03-01T00:00:00Z", pattern="[domain-name:value = 'bad.example']")
    updated = import_content(sqlite_ws, content_of(newer), source="b")
    assert updated.updated == 1 and updated.new_ids == [f"indicator--{ID}"]
    rows = sqlite_ws.lake.read(INDICATORS).to_pylist()
    assert [r["value"] for r in rows] == ["bad.example"]  # the old pattern's row is gone
    older = import_content(sqlite_ws, content_of(indicator(ID, "2024-01-15T00:00:00Z")), source="c")
    assert older.older_ignored == 1
    revoked = indicator(ID, "2024-04-01T00:00:00Z", revoked=True)
    assert import_content(sqlite_ws, content_of(revoked), source="d").revoked == 1
    stale = import_content(sqlite_ws, content_of(newer), source="e")
    assert stale.older_ignored == 1 and stale.new_ids == []
    assert current_versions(sqlite_ws)[f"indicator--{ID}"][1] is True


def test_within_one_import_the_newest_version_wins(sqlite_ws: Workspace) -> None:
    old = indicator(ID, "2024-02-01T00:00:00Z")
    gone = indicator(ID, "2024-03-01T00:00:00Z", revoked=True)
    result = import_content(sqlite_ws, content_of(gone, old), source="x")
    assert result.revoked == 1 and result.new_ids == []
    assert {r["revoked"] for r in sqlite_ws.lake.read(INDICATORS).to_pylist()} == {True}


@pytest.mark.parametrize(
    ("obj", "column", "message"),
    [
        (indicator(ID, "2024-01-01T00:00:00Z", pattern="[domain-name:value = "), "pattern",
         "not a valid STIX 2.1 pattern"),
        (indicator(ID, "yesterday"), "modified", "not a STIX timestamp"),
        ({**indicator(ID, "2024-01-01T00:00:00Z"), "valid_until": "2023-01-01T00:00:00Z"},
         "valid_until", "later than valid_from"),
        ({**indicator(ID, "2024-01-01T00:00:00Z"), "confidence": 101}, "confidence", "0 to 100"),
        ({**indicator(ID, "2024-01-01T00:00:00Z"), "id": "malware--x"}, "id", "indicator id"),
    ],
)  # fmt: skip
def test_bad_indicators_name_file_line_and_field(
    tmp_path: Path, obj: dict[str, Any], column: str, message: str
) -> None:
    path = tmp_path / "bundle.json"
    bundle = {
        "type": "bundle",
        "id": "bundle--1",
        "objects": [indicator("ok", "2024-01-01T00:00:00Z"), obj],
    }
    path.write_text(json.dumps(bundle, indent=1), "utf-8")
    with pytest.raises(InputError) as caught:
        read_paths([path])
    err = caught.value
    assert err.file == str(path) and err.column == column and message in str(err)
    assert err.line is not None and err.line > 10  # the line of the second object's id


def test_broken_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"type": "bundle",\n "objects": [\n  {"type": "indicator",,}]}', "utf-8")
    with pytest.raises(InputError) as caught:
        read_paths([path])
    assert (caught.value.line, caught.value.column) == (3, "24")
