"""Service functions behind ``longpan threat``: import STIX content, then retro-hunt.

Both take the indicators into the lake (``indicators.import_content``: all or nothing,
audited) and then hunt the new or changed ones in every unit's logs (``retro.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from longpan.core.errors import InputError
from longpan.store.workspace import Workspace
from longpan.threat import taxii
from longpan.threat.indicators import ImportResult, import_content
from longpan.threat.retro import RetroHuntResult, retro_hunt
from longpan.threat.stix import Content, read_objects, read_paths


@dataclass
class FeedResult:
    imported: ImportResult
    hunt: RetroHuntResult = field(default_factory=RetroHuntResult)
    files: list[str] = field(default_factory=list)
    pages: int = 0
    added_after: str | None = None


def import_stix(
    ws: Workspace,
    paths: Sequence[Path],
    *,
    hunt: bool = True,
    engine: str | None = None,
    actor: str = "system:cli",
) -> FeedResult:
    """Import STIX bundles from files and folders (all checked before anything is kept)."""
    content = read_paths(paths)
    source = ", ".join(str(p) for p in paths)
    imported = import_content(ws, content, source=source, actor=actor)
    result = FeedResult(imported, files=content.files)
    if hunt:
        result.hunt = retro_hunt(ws, imported.new_ids, engine=engine, actor=actor)
    return result


def pull_taxii(
    ws: Workspace,
    url: str,
    collection_id: str,
    *,
    credentials: taxii.Credentials | None = None,
    added_after: str | None = None,
    hunt: bool = True,
    engine: str | None = None,
    actor: str = "system:cli",
) -> FeedResult:
    """Pull a TAXII 2.1 collection (only what is new since the last pull, unless
    ``added_after`` says otherwise), import it and retro-hunt the new indicators."""
    since = added_after or taxii.last_added(ws.settings.home, url, collection_id)
    login = credentials or taxii.Credentials()
    pulled = taxii.pull_collection(url, collection_id, credentials=login, added_after=since)
    content = Content()
    read_objects(pulled.objects, content, pulled.source)
    imported = import_content(ws, content, source=pulled.source, actor=actor)
    if pulled.date_added_last:
        taxii.remember_added(ws.settings.home, url, collection_id, pulled.date_added_last)
    result = FeedResult(imported, pages=pulled.pages, added_after=since)
    if hunt:
        result.hunt = retro_hunt(ws, imported.new_ids, engine=engine, actor=actor)
    return result


def publish_objects(
    ws: Workspace, objects: Sequence[object], *, source: str, actor: str
) -> list[str]:
    """Take STIX objects posted to a collection into the lake's indicators; the ids of
    the new or changed indicator versions (to retro-hunt). Bad indicators are skipped
    here: the TAXII status has already reported what was stored."""
    content = Content()
    for obj in objects:
        try:
            read_objects([obj], content, source)
        except InputError:
            continue
    return import_content(ws, content, source=source, actor=actor).new_ids
