"""The city cache: blocking and background look-ups against the real example lake, and
the versioned cache that keeps counts exact."""

from __future__ import annotations

import os
from collections.abc import Callable

from sqlalchemy import select

from longpan.metrics.counts import subject_cities
from longpan.store.db import audit
from longpan.store.models import Finding
from longpan.store.workspace import Workspace
from longpan.web.cache import VersionedCache
from longpan.web.places import UNKNOWN, SubjectPlaces


def _runner(ws: Workspace) -> Callable[..., dict[str, str]]:
    return lambda work: work(ws.analytics())


def _subjects(ws: Workspace) -> set[str]:
    with ws.sessions() as session:
        return set(session.scalars(select(Finding.subject)))


def test_cities_match_the_metrics_and_background_lookups_fill_in(web_ws: Workspace) -> None:
    subjects = _subjects(web_ws)
    expected = subject_cities(web_ws.analytics(), subjects)
    assert any(expected.values())  # the example lake places some subjects
    places = SubjectPlaces(web_ws.settings.lake_dir)
    assert set(places.known(subjects, _runner(web_ws)).values()) <= {
        None,
        *expected.values(),
        UNKNOWN,
    }
    places.wait()  # for the background look-up started by known()
    filled = places.known(subjects, _runner(web_ws))
    assert filled == {s: expected.get(s) or UNKNOWN for s in subjects}
    assert places.cities(subjects, _runner(web_ws)) == filled


def test_a_new_lake_snapshot_forgets_the_cities(web_ws: Workspace) -> None:
    subjects = _subjects(web_ws)
    places = SubjectPlaces(web_ws.settings.lake_dir)
    calls: list[int] = []

    def counting(work: Callable[..., dict[str, str]]) -> dict[str, str]:
        calls.append(1)
        return work(web_ws.analytics())

    places.cities(subjects, counting)
    places.cities(subjects, counting)
    assert len(calls) == 1
    catalog = web_ws.settings.lake_dir / "_catalog.json"
    stat = catalog.stat()
    os.utime(catalog, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    places.cities(subjects, counting)
    assert len(calls) == 2


def test_versioned_cache_recomputes_after_any_audited_change(web_ws: Workspace) -> None:
    cache = VersionedCache(web_ws.settings.lake_dir)
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    with web_ws.sessions() as session:
        assert cache.memo(session)("k", compute) == 1
        assert cache.memo(session)("k", compute) == 1
    with web_ws.sessions() as session, session.begin():
        audit(session, actor="test", action="test.changed", object_type="test", object_id="1")
    with web_ws.sessions() as session:
        assert cache.memo(session)("k", compute) == 2
