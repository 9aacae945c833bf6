"""Which city (地市) each finding's subject is in, cached for the findings filter and map.

Cities come from the lake (metrics.counts.subject_cities: the filing subject's registry
city, else the IP filing's). Lookups are computed once per subject and forgotten when
the lake catalog changes (a new ingest). They cost about a millisecond per subject, so
pages that only show a city use ``known`` (never waits; unknown ones are looked up in a
background thread), while the city filter, the map and exports use ``cities`` (waits).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from longpan.core.errors import LongpanError
from longpan.metrics.counts import UNKNOWN, subject_cities
from longpan.store.engine import AnalyticsEngine

# The province's 13 prefecture-level cities (设区市) as the lake names them, in the order
# of the province map (static/vendor/jiangsu.json names them with the suffix 市).
PROVINCE_CITIES = (
    "南京",
    "无锡",
    "徐州",
    "常州",
    "苏州",
    "南通",
    "连云港",
    "淮安",
    "盐城",
    "扬州",
    "镇江",
    "泰州",
    "宿迁",
)
log = logging.getLogger(__name__)
# Subjects per lake query: the lake lock is released between chunks, so a page's small
# lookup is not stuck behind a whole-province one.
CHUNK = 1000
LakeRunner = Callable[[Callable[[AnalyticsEngine], dict[str, str]]], dict[str, str]]


class SubjectPlaces:
    def __init__(self, lake_dir: Path) -> None:
        self._catalog = lake_dir / "_catalog.json"
        self._version: float | None = None
        self._cities: dict[str, str] = {}
        self._lock = threading.Lock()
        self._compute_lock = threading.Lock()
        self._queued: set[str] = set()
        self._warming = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def _catalog_version(self) -> float | None:
        try:
            return self._catalog.stat().st_mtime
        except FileNotFoundError:
            return None

    def _lookup(self, subjects: set[str], run: LakeRunner) -> dict[str, str]:
        """Cities from the lake; a lake that cannot answer (or no lake yet) leaves them
        unknown (logged) rather than failing every page that shows a city."""
        if self._version is None:
            return {}
        try:
            return run(lambda engine: subject_cities(engine, subjects))
        except LongpanError as exc:
            log.warning("cities unavailable from the lake: %s", exc)
            return {}

    def cities(self, subjects: Iterable[str], run: LakeRunner) -> dict[str, str]:
        """City of each subject (UNKNOWN when the lake does not say); waits for lookups."""
        wanted = set(subjects)
        missing = self._missing(wanted)
        if 0 < len(missing) <= CHUNK:  # small: look up at once, whatever else is running
            self._store(sorted(missing), self._lookup(missing, run))
        elif missing:
            # One thread looks up; the others wait for it instead of repeating the work.
            with self._compute_lock:
                for chunk in _chunks(sorted(self._missing(wanted))):
                    if self._stopping:
                        break
                    self._store(chunk, self._lookup(set(chunk), run))
        with self._lock:
            return {s: self._cities.get(s, UNKNOWN) for s in wanted}

    def known(self, subjects: Iterable[str], run: LakeRunner) -> dict[str, str | None]:
        """City of each subject if already known, else None — never waits for the lake.
        The unknown ones are looked up in a background thread for the next request."""
        wanted = set(subjects)
        missing = self._missing(wanted)
        if missing:
            self.warm(missing, run)
        with self._lock:
            return {s: self._cities.get(s) for s in wanted}

    def warm(self, subjects: Iterable[str], run: LakeRunner) -> None:
        """Look ``subjects`` up in a background thread (one at a time; extra calls queue
        their subjects)."""
        with self._lock:
            self._queued.update(subjects)
            if self._warming:
                return
            self._warming = True
        self._thread = threading.Thread(target=self._drain, args=(run,), daemon=True, name="places")
        self._thread.start()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the background look-ups running now."""
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop background look-ups (at the next chunk) and wait for them (app shutdown)."""
        self._stopping = True
        self.wait(timeout)

    def _drain(self, run: LakeRunner) -> None:
        try:
            while True:
                with self._lock:
                    batch, self._queued = self._queued, set()
                    if not batch or self._stopping:
                        self._warming = False
                        return
                self.cities(batch, run)
        except Exception:  # a background thread must not die silently nor loudly
            log.exception("looking up cities in the background failed")
            with self._lock:
                self._warming = False

    def _store(self, chunk: list[str], found: dict[str, str]) -> None:
        with self._lock:
            self._cities.update({s: found.get(s) or UNKNOWN for s in chunk})

    def _missing(self, wanted: set[str]) -> set[str]:
        """Subjects not known yet (after forgetting everything if the lake changed)."""
        with self._lock:
            version = self._catalog_version()
            if version != self._version:
                self._cities, self._version = {}, version
            return wanted - self._cities.keys()


def _chunks(items: list[str], size: int = CHUNK) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
