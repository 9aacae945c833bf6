"""A cache of figures derived from the database that is exact, not merely recent.

Every state change in the database writes an audit row (store.db.audit), so the newest
audit id, together with the lake catalog's modification time, is a version of
everything the web derives: counts, drop-down values, dashboard figures. Entries are
reused while the version is unchanged and recomputed on the first request after any
change. Checking the version is one primary-key lookup.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from longpan.store.models import AuditEntry

T = TypeVar("T")
Memo = Callable[[Hashable, Callable[[], Any]], Any]


class VersionedCache:
    def __init__(self, lake_dir: Path, max_entries: int = 512) -> None:
        self._catalog = lake_dir / "_catalog.json"
        self._entries: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def version(self, session: Session) -> Hashable:
        newest_audit = session.scalar(select(func.max(AuditEntry.id)))
        try:
            lake = self._catalog.stat().st_mtime_ns
        except FileNotFoundError:
            lake = None
        return (newest_audit, lake)

    def memo(self, session: Session) -> Memo:
        """A memo function bound to the database's current version."""
        version = self.version(session)

        def memo(key: Hashable, compute: Callable[[], T]) -> T:
            found = self._fresh(key, version)
            if found is not None:
                return found[0]  # type: ignore[no-any-return]
            with self._key_lock(key):  # one thread computes, the others wait for it
                found = self._fresh(key, version)
                if found is not None:
                    return found[0]  # type: ignore[no-any-return]
                value = compute()
            with self._lock:
                self._entries[key] = (version, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
            return value

        return memo

    def _fresh(self, key: Hashable, version: Hashable) -> tuple[Any] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == version:
                self._entries.move_to_end(key)
                return (found[1],)
            return None

    def _key_lock(self, key: Hashable) -> threading.Lock:
        with self._lock:
            if len(self._key_locks) > 4 * self._max:
                self._key_locks.clear()  # bounded; a dropped lock only loses de-duplication
            return self._key_locks.setdefault(key, threading.Lock())


def no_memo(_key: Hashable, compute: Callable[[], T]) -> T:
    """A memo that always computes (for callers without a cache)."""
    return compute()
