"""A workspace bundles one installation's stores: the lake, the database, the engines.

CLI commands, the web app and tests build one from Settings and hand it to service
functions, so those never read the environment themselves.
"""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from longpan.core.clock import Clock, utc_now
from longpan.core.settings import Settings
from longpan.store import db
from longpan.store.engine import AnalyticsEngine, connect
from longpan.store.lake import Lake


class Workspace:
    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self._engines: dict[str, AnalyticsEngine] = {}

    @cached_property
    def lake(self) -> Lake:
        return Lake(self.settings.lake_dir, clock=self.clock)

    @cached_property
    def db(self) -> Engine:
        return db.make_engine(self.settings.resolved_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return db.session_factory(self.db)

    def init(self) -> None:
        """Create the data folder and bring the database schema up to date (idempotent)."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.settings.lake_dir.mkdir(parents=True, exist_ok=True)
        db.migrate(self.db)

    def analytics(self, name: str | None = None) -> AnalyticsEngine:
        """The analytics engine by name (default: LONGPAN_ENGINE), created once."""
        engine_name = name or self.settings.engine
        if engine_name not in self._engines:
            self._engines[engine_name] = connect(
                engine_name,
                self.lake,
                spark_master=self.settings.spark_master,
                spark_conf=self.settings.spark_conf,
            )
        return self._engines[engine_name]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()
        if "db" in self.__dict__:
            self.db.dispose()
