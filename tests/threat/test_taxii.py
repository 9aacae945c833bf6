"""The TAXII 2.1 server (web/taxii.py) with the real taxii2-client, and `pull-taxii`.

The web app runs under uvicorn on 127.0.0.1 (an ephemeral port) for the module.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from requests.exceptions import HTTPError
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from longpan.accounts.users import create_user
from longpan.detect.findings import list_findings
from longpan.resources.ingest import ingest_folder
from longpan.store.db import transaction
from longpan.store.workspace import Workspace
from longpan.threat import collections as tc
from longpan.threat.feeds import import_stix, pull_taxii
from longpan.threat.taxii import Credentials
from tests.accounts.conftest import _cheap_argon2  # noqa: F401 - autouse fixture
from tests.conftest import make_workspace
from tests.threat.test_ioc_hit import A, B, C, bundle, handmade

PASSWORD = "correct-horse-battery"
TAXII = "application/taxii+json;version=2.1"


@dataclass
class Site:
    url: str
    ws: Workspace
    warnings: str  # collection granted to unit A
    internal: str  # collection granted to nobody


def _prepare(root: Path) -> tuple[Workspace, str, str]:
    ws = make_workspace(root / "home")
    folder = handmade(root / "logs")
    names = "\n".join(f"{u},单位{i},key_unit" for i, u in enumerate((A, B, C)))
    (folder / "organisations.csv").write_text(f"uscc,name,roles\n{names}\n", "utf-8")
    ingest_folder(ws, folder)
    import_stix(ws, [bundle(folder)])  # findings for A, B and C
    with transaction(ws.sessions) as session:
        for name, role, org in (
            ("ana", "analyst", None),
            ("aud", "auditor", None),
            ("unit-a", "enterprise", A),
            ("unit-b", "enterprise", B),
        ):
            create_user(
                session,
                username=name,
                role=role,
                password=PASSWORD,
                actor="test",
                org_uscc=org,
                clock=ws.clock,
            )
        warnings = tc.create_collection(session, "APT 预警", "warnings", actor="ana").id
        internal = tc.create_collection(session, "内部", "internal", actor="ana").id
        tc.grant(session, warnings, A, actor="ana")
    return ws, warnings, internal


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from argon2 import PasswordHasher, profiles

    from longpan.accounts import passwords

    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:  # module-scoped: undone at the end
        patch.setattr(passwords, "hasher", lambda: cheap)
        yield from _serve(tmp_path_factory)


def _serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from longpan.web.app import create_app

    ws, warnings, internal = _prepare(tmp_path_factory.mktemp("taxii"))
    config = uvicorn.Config(create_app(workspace=ws), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Site(f"http://127.0.0.1:{port}", ws, warnings, internal)
    server.should_exit = True
    thread.join(timeout=10)
    ws.close()


def root(site: Site, user: str) -> ApiRoot:
    return ApiRoot(f"{site.url}/taxii2/api/", user=user, password=PASSWORD)


def collection(site: Site, user: str, collection_id: str) -> Collection:
    return Collection(
        f"{site.url}/taxii2/api/collections/{collection_id}/", user=user, password=PASSWORD
    )


def indicator(n: int, value: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--5e0c1cd9-5d50-4e4a-9e8b-5cd7b0b7b{n:03d}",
        "created": "2024-06-01T00:00:00.000Z",
        "modified": "2024-06-01T00:00:00.000Z",
        "pattern": f"[domain-name:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2024-06-01T00:00:00Z",
        "confidence": 70,
    }


def test_discovery_and_collections_for_an_analyst(site: Site) -> None:
    server = Server(f"{site.url}/taxii2/", user="ana", password=PASSWORD)
    assert server.title.startswith("龙磐")
    assert [r.url for r in server.api_roots] == [f"{site.url}/taxii2/api/"]
    found = {c.id: c for c in server.default.collections}
    assert set(found) == {site.warnings, site.internal, tc.SIGHTINGS_ID}
    assert found[site.warnings].can_write and not found[tc.SIGHTINGS_ID].can_write


def test_add_and_get_objects_with_pagination_and_filters(site: Site) -> None:
    target = collection(site, "ana", site.internal)
    objects = [indicator(n, f"c2-{n}.example") for n in range(5)]
    status = target.add_objects(json.dumps({"objects": objects}))
    assert (status.status, status.success_count, status.failure_count) == ("complete", 5, 0)
    pages = list(as_pages(target.get_objects, per_request=2))
    assert [len(p["objects"]) for p in pages] == [2, 2, 1]
    assert {o["id"] for p in pages for o in p["objects"]} == {o["id"] for o in objects}
    one = target.get_object(objects[3]["id"])
    assert one["objects"][0]["pattern"] == objects[3]["pattern"]
    assert target.get_objects(type="malware")["objects"] == []
    manifest = target.get_manifest()
    assert len(manifest["objects"]) == 5 and manifest["objects"][0]["version"]
    later = target.get_objects(added_after="2999-01-01T00:00:00Z")
    assert later["objects"] == [] and not later["more"]


def test_bad_objects_are_reported_in_the_status(site: Site) -> None:
    target = collection(site, "ana", site.internal)
    bad = {"type": "indicator", "id": "not-an-id", "spec_version": "2.1"}
    status = target.add_objects(json.dumps({"objects": [bad, indicator(9, "ok.example")]}))
    assert (status.success_count, status.failure_count) == (1, 1)
    assert "id" in status.failures[0]["message"]


def test_an_enterprise_reads_only_what_it_is_granted(site: Site) -> None:
    visible = {c.id for c in root(site, "unit-a").collections}
    assert visible == {site.warnings, tc.SIGHTINGS_ID}
    assert {c.id for c in root(site, "unit-b").collections} == {tc.SIGHTINGS_ID}
    with pytest.raises(HTTPError) as refused:
        collection(site, "unit-b", site.warnings).get_objects()
    assert refused.value.response.status_code == 404  # no hint that it exists
    sightings = collection(site, "unit-a", tc.SIGHTINGS_ID).get_objects(type="sighting")
    subjects = {o["x_longpan_subject"] for o in sightings["objects"]}
    assert subjects and all(s.startswith(f"{A}:") for s in subjects)
    every = collection(site, "ana", tc.SIGHTINGS_ID).get_objects(type="sighting")
    assert {o["x_longpan_subject"].split(":")[0] for o in every["objects"]} == {A, B, C}


def _post(site: Site, collection_id: str, user: str, body: Any, **headers: str) -> httpx.Response:
    auth = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
    return httpx.post(
        f"{site.url}/taxii2/api/collections/{collection_id}/objects/",
        content=json.dumps(body),
        headers={
            "Authorization": f"Basic {auth}",
            "Content-Type": TAXII,
            "Accept": TAXII,
            **headers,
        },
    )


def test_no_write_without_the_analyst_role(site: Site) -> None:
    envelope = {"objects": [indicator(20, "x.example")]}
    assert _post(site, site.warnings, "unit-a", envelope).status_code == 403
    assert _post(site, site.internal, "aud", envelope).status_code == 403
    assert _post(site, tc.SIGHTINGS_ID, "ana", envelope).status_code == 403
    assert (
        _post(site, site.internal, "ana", envelope, **{"Content-Type": "text/plain"}).status_code
        == 415
    )
    with pytest.raises(AccessError):  # the client sees can_write = false
        collection(site, "unit-a", site.warnings).add_objects(json.dumps(envelope))


def test_credentials_basic_and_bearer(site: Site) -> None:
    url = f"{site.url}/taxii2/"
    assert httpx.get(url).status_code == 401
    bad = base64.b64encode(b"ana:wrong-password").decode()
    assert httpx.get(url, headers={"Authorization": f"Basic {bad}"}).status_code == 401
    good = base64.b64encode(f"unit-a:{PASSWORD}".encode()).decode()
    token = httpx.post(f"{url}token", headers={"Authorization": f"Basic {good}"}).json()["token"]
    answer = httpx.get(f"{url}api/collections/", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(TAXII)
    assert {c["id"] for c in answer.json()["collections"]} == {site.warnings, tc.SIGHTINGS_ID}
    refused = httpx.get(f"{url}api/", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401


def test_a_posted_indicator_is_retro_hunted_in_every_units_logs(site: Site) -> None:
    envelope = {"objects": [indicator(30, "dl.example.net")]}  # C fetched from it
    assert _post(site, site.warnings, "ana", envelope).status_code == 202
    wanted = ("threat_warning", "indicator:dl.example.net")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with site.ws.sessions() as session:
            found = {(f["type"], f["subject"]) for f in list_findings(session)}
        if wanted in found:
            break
        time.sleep(0.2)
    assert wanted in found and ("ioc_hit", f"{C}:dl.example.net") in found


def test_pull_taxii_is_incremental(site: Site, tmp_path: Path) -> None:
    target = collection(site, "ana", site.warnings)
    target.add_objects(json.dumps({"objects": [indicator(40, "pull-1.example")]}))
    ws = make_workspace(tmp_path / "home")
    login = Credentials("unit-a", PASSWORD)
    first = pull_taxii(ws, f"{site.url}/taxii2/", site.warnings, credentials=login, hunt=False)
    assert first.imported.added >= 2 and first.pages == 1
    second = pull_taxii(ws, f"{site.url}/taxii2/", site.warnings, credentials=login, hunt=False)
    assert second.added_after is not None and second.imported.indicators == 0
    ws.close()
