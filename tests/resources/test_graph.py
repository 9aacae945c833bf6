"""The resource graph and attribution, for every kind of subject."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest

from longpan.core.errors import IdentifierError
from longpan.resources.attribution import attribute
from longpan.resources.graph import neighbourhood
from longpan.resources.ingest import ingest_folder
from longpan.store.engine import AnalyticsEngine
from tests.conftest import EXAMPLE, make_workspace


def _rows(table: str) -> list[dict[str, str]]:
    with open(EXAMPLE / f"{table}.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsEngine]:
    ws = make_workspace(tmp_path_factory.mktemp("graph"))
    ingest_folder(ws, EXAMPLE)
    yield ws.analytics("duckdb")
    ws.close()


def _active_website() -> dict[str, str]:
    return next(
        s
        for s in _rows("icp_services")
        if s["status"] == "active" and s["service_type"] == "website" and s["access_provider_uscc"]
    )


def test_service_licence_is_attributed_to_its_access_provider(engine: AnalyticsEngine) -> None:
    service = _active_website()
    found = attribute(engine, service["service_licence"])
    assert found is not None and found.uscc == service["access_provider_uscc"]


def test_domain_and_subdomain_follow_the_filing(engine: AnalyticsEngine) -> None:
    service = _active_website()
    domain = service["domains"].split(";")[0]
    for subject in (domain, f"deep.www.{domain}".upper() + "."):
        found = attribute(engine, subject)
        assert found is not None and found.uscc == service["access_provider_uscc"], subject
    graph = neighbourhood(engine, domain)
    assert graph["kind"] == "domain"
    assert service["service_licence"] in {s["service_licence"] for s in graph["icp_services"]}
    assert graph["registrations"], "the example has WHOIS observations of every filed domain"


def test_ip_is_attributed_to_the_narrowest_filing_reporter(engine: AnalyticsEngine) -> None:
    filings = [f for f in _rows("ip_filings") if ":" not in f["start_ip"]]
    narrowest = min(
        filings,
        key=lambda f: (
            sum(int(a) << (8 * (3 - i)) for i, a in enumerate(f["end_ip"].split(".")))
            - sum(int(a) << (8 * (3 - i)) for i, a in enumerate(f["start_ip"].split(".")))
        ),
    )
    found = attribute(engine, narrowest["start_ip"])
    assert found is not None and found.uscc == narrowest["reporter_uscc"]
    graph = neighbourhood(engine, f"{narrowest['start_ip']}-{narrowest['end_ip']}")
    assert graph["kind"] == "ip_range" and graph["covering_filings"]


def test_ipv6_subjects_work(engine: AnalyticsEngine) -> None:
    v6 = next(f for f in _rows("ip_filings") if ":" in f["start_ip"])
    graph = neighbourhood(engine, v6["start_ip"])
    assert graph["kind"] == "ip" and graph["ip_filings"]


def test_uscc_neighbourhood(engine: AnalyticsEngine) -> None:
    provider = _active_website()["access_provider_uscc"]
    graph = neighbourhood(engine, provider)
    assert graph["kind"] == "uscc" and graph["organisation"]["uscc"] == provider
    assert graph["services_accessed"]
    assert graph["responsible"]["uscc"] == provider


def test_unknown_subjects(engine: AnalyticsEngine) -> None:
    assert attribute(engine, "unfiled-and-unseen.com") is None
    with pytest.raises(IdentifierError):
        neighbourhood(engine, "not a subject!")
