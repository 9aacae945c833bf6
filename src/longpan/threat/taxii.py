"""Pulling indicators from a TAXII 2.1 collection (taxii2-client).

``URL`` is a server's discovery address (``…/taxii2/``: its default API root is used)
or an API root. Pages are followed to the end (``more`` / ``next``); the server's
``X-TAXII-Date-Added-Last`` is remembered per collection (``$LONGPAN_HOME/threat/
taxii-state.json``), and the next pull asks only for what was added after it. Objects
pulled twice are harmless: indicator versions already held are left unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longpan.core.errors import InputError, NotFoundError, UpstreamError
from longpan.core.extras import require

DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"
PAGE = 1000


@dataclass
class Pulled:
    objects: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0
    added_after: str | None = None  # what was asked for
    date_added_last: str | None = None  # the newest date_added the server reported
    source: str = ""


@dataclass(frozen=True)
class Credentials:
    user: str | None = None
    password: str | None = None
    token: str | None = None


def pull_collection(
    url: str,
    collection_id: str,
    *,
    credentials: Credentials = Credentials(),
    added_after: str | None = None,
    page_size: int = PAGE,
) -> Pulled:
    """Every object of the collection added after ``added_after`` (all when None)."""
    require("threat", "taxii2client")
    import requests
    from taxii2client.v21 import as_pages

    pulled = Pulled(added_after=added_after)
    try:
        collection, seen = _open(url, collection_id, credentials)
        pulled.source = collection.url
        filters = {"added_after": added_after} if added_after else {}
        for envelope in as_pages(collection.get_objects, per_request=page_size, **filters):
            pulled.pages += 1
            pulled.objects.extend(envelope.get("objects", []))
    except requests.exceptions.HTTPError as exc:
        raise UpstreamError(f"TAXII server {url}: {_http_reason(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise UpstreamError(f"TAXII server {url} cannot be reached: {exc}") from None
    pulled.date_added_last = max(seen, default=None)
    return pulled


def _open(url: str, collection_id: str, credentials: Credentials) -> tuple[Any, list[str]]:
    """The collection, and a list that collects each response's date-added header."""
    from taxii2client.common import _HTTPConnection
    from taxii2client.v21 import ApiRoot

    auth = _BearerAuth(credentials.token) if credentials.token else None
    conn = _HTTPConnection(credentials.user, credentials.password, auth=auth, version="2.1")
    seen: list[str] = []

    def remember(response: Any, *args: Any, **kwargs: Any) -> None:
        if DATE_ADDED_LAST in response.headers:
            seen.append(response.headers[DATE_ADDED_LAST])

    conn.session.hooks["response"].append(remember)
    base = url if url.endswith("/") else url + "/"
    if base.rstrip("/").endswith("taxii2"):
        # Discovery read with our connection: taxii2client's Server hands its API roots
        # a connection without the credentials.
        default = conn.get(base).get("default")
        if not default:
            raise NotFoundError(f"TAXII server {url} names no default API root")
        base = default
    root = ApiRoot(base, conn=conn)
    for collection in root.collections:
        if collection.id == collection_id:
            return collection, seen
    known = ", ".join(c.id for c in root.collections) or "none"
    raise NotFoundError(f"TAXII collection {collection_id!r} not found at {url}; known: {known}")


class _BearerAuth:
    """``Authorization: Bearer <token>`` on every request (requests' auth protocol)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def _http_reason(exc: Any) -> str:
    status = exc.response.status_code if exc.response is not None else "?"
    if status in (401, 403):
        return f"HTTP {status}: the credentials were refused or lack access to the collection"
    return f"HTTP {status}: {exc}"


# -- incremental state -------------------------------------------------------------------
def state_path(home: Path) -> Path:
    return home / "threat" / "taxii-state.json"


def last_added(home: Path, url: str, collection_id: str) -> str | None:
    state = _state(home)
    value = state.get(_state_key(url, collection_id))
    return value if isinstance(value, str) else None


def remember_added(home: Path, url: str, collection_id: str, date_added: str) -> None:
    path = state_path(home)
    state = _state(home)
    state[_state_key(url, collection_id)] = date_added
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True), "utf-8")
    tmp.replace(path)


def _state(home: Path) -> dict[str, Any]:
    path = state_path(home)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=str(path), line=exc.lineno) from None
    return data if isinstance(data, dict) else {}


def _state_key(url: str, collection_id: str) -> str:
    return f"{url.rstrip('/')}|{collection_id}"
