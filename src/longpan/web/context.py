"""What every request handler shares: settings, the workspace, templates, caches."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from longpan.accounts.ratelimit import LoginLimits
from longpan.core.settings import Settings
from longpan.store.db import transaction
from longpan.store.engine import AnalyticsEngine
from longpan.store.workspace import Workspace
from longpan.web.cache import VersionedCache
from longpan.web.places import SubjectPlaces

T = TypeVar("T")


@dataclass
class WebContext:
    settings: Settings
    workspace: Workspace
    places: SubjectPlaces
    cache: VersionedCache
    # One analytics connection (DuckDB) is shared by the worker threads: take turns.
    lake_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def limits(self) -> LoginLimits:
        return LoginLimits(
            max_failures=self.settings.login_max_failures,
            window=timedelta(minutes=self.settings.login_window_minutes),
        )

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.settings.session_hours)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads (rolled back at the end)."""
        with self.workspace.sessions() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        with transaction(self.workspace.sessions) as session:
            yield session

    def with_lake(self, work: Callable[[AnalyticsEngine], T]) -> T:
        """Run ``work`` on the analytics engine, one thread at a time."""
        with self.lake_lock:
            return work(self.workspace.analytics())
