"""The regulator's TAXII 2.1 server, mounted at ``/taxii2`` (a sub-application).

Discovery ``/taxii2/``, one API root ``/taxii2/api/``, collections, objects (GET with
``limit``/``next`` pagination, ``added_after``, ``match[type|id|version]``; POST of an
envelope, answered with a status resource), one object, manifest, status. Who may read
and write is in ``threat/collections.py`` and docs/threat.md.

Authentication is the platform's accounts, from the ``Authorization`` header only
(never a cookie): HTTP Basic (username and password, under the sign-in rate limit, every
attempt recorded) or ``Bearer <token>`` where the token is a platform session token
(``POST /taxii2/token`` with Basic credentials opens one). Being a separate application,
the web app's cookie CSRF check does not apply; a cross-site form cannot forge these
requests because POSTs must carry ``Content-Type: application/taxii+json`` (a type no
HTML form can send without a CORS preflight, which is not granted) and credentials come
from the header.

Indicators posted by an analyst also go into the lake and are retro-hunted in the
background (一点发现、全网联动).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from longpan.accounts import sessions as web_sessions
from longpan.accounts.errors import AuthenticationError
from longpan.accounts.ratelimit import check_allowed, record_attempt
from longpan.accounts.users import Account, check_credentials, to_account
from longpan.core.errors import InputError, NotFoundError
from longpan.store.models import Organisation
from longpan.threat import collections as tc
from longpan.threat.feeds import publish_objects
from longpan.threat.retro import retro_hunt
from longpan.web.context import WebContext

TAXII = "application/taxii+json;version=2.1"
WRITERS = frozenset({"analyst", "supervisor", "admin"})
MAX_CONTENT = 10 * 1024 * 1024
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
REALM = 'Basic realm="longpan-taxii", charset="UTF-8"'


def taxii_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, media_type=TAXII, headers=headers)


def error(status: int, title: str, description: str = "") -> HTTPException:
    return HTTPException(status, {"title": title, "description": description})


def create_taxii_app(ctx: WebContext) -> FastAPI:
    """The TAXII sub-application sharing the web app's workspace and accounts."""
    app = FastAPI(title="龙磐 Longpan TAXII 2.1", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    _routes(app)
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(NotFoundError, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(InputError, _bad_input)  # type: ignore[arg-type]
    return app


async def _http_error(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, dict) else {"title": str(exc.detail)}
    body = {**detail, "http_status": str(exc.status_code)}
    return taxii_response(body, exc.status_code, dict(exc.headers or {}))


async def _not_found(request: Request, exc: NotFoundError) -> Response:
    return taxii_response(
        {"title": "Not found", "description": str(exc), "http_status": "404"}, 404
    )


async def _bad_input(request: Request, exc: InputError) -> Response:
    return taxii_response(
        {"title": "Bad request", "description": str(exc), "http_status": "400"}, 400
    )


# -- authentication ----------------------------------------------------------------------
def _ctx(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def authenticated(request: Request) -> Account:
    """The account of the Authorization header (Basic or Bearer), else 401."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        return _basic(request, value.strip())
    if scheme.lower() == "bearer" and value.strip():
        with _ctx(request).writing() as session:
            account = web_sessions.resolve(
                session, value.strip(), clock=_ctx(request).workspace.clock
            )
        if account is not None:
            return account
    raise error(401, "Authentication required", "HTTP Basic or a Bearer token") from None


def _basic(request: Request, encoded: str) -> Account:
    username, password = _decode_basic(encoded)
    ctx = _ctx(request)
    address = request.client.host if request.client else None
    clock = ctx.workspace.clock
    failure: AuthenticationError | None = None
    with ctx.writing() as session:  # committed even when the check fails: attempts count
        try:
            check_allowed(session, username, address, ctx.limits, clock)
            user = check_credentials(session, username, password)
            record_attempt(session, username, address, succeeded=True, clock=clock)
            org = session.get(Organisation, user.organisation_id) if user.organisation_id else None
            account = to_account(user, org)
        except AuthenticationError as exc:
            record_attempt(session, username, address, succeeded=False, clock=clock)
            failure = exc
    if failure is not None:
        raise error(401, "Authentication failed", str(failure)) from None
    return account


def _decode_basic(encoded: str) -> tuple[str, str]:
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise error(401, "Malformed Basic credentials") from None
    return username, password


Authenticated = Annotated[Account, Depends(authenticated)]


def reader_of(account: Account) -> tc.Reader:
    return tc.Reader(account.username, account.organisation_uscc if account.is_enterprise else None)


def _accept(request: Request) -> None:
    accept = request.headers.get("accept", "*/*")
    if not any(kind in accept for kind in ("application/taxii+json", "*/*", "application/*")):
        raise error(406, "Not acceptable", f"this server answers {TAXII}")


Accepted = Annotated[None, Depends(_accept)]


# -- routes ------------------------------------------------------------------------------
def _routes(app: FastAPI) -> None:
    app.get("/")(discovery)
    app.post("/token")(token)
    app.get("/api/")(api_root)
    app.get("/api/collections/")(collections)
    app.get("/api/collections/{collection_id}/")(collection)
    app.get("/api/collections/{collection_id}/objects/")(get_objects)
    app.post("/api/collections/{collection_id}/objects/")(add_objects)
    app.get("/api/collections/{collection_id}/objects/{object_id}/")(get_object)
    app.get("/api/collections/{collection_id}/manifest/")(manifest)
    app.get("/api/status/{status_id}/")(status)


def discovery(request: Request, account: Authenticated, _: Accepted) -> Response:
    root = str(request.url.replace(query="")).rstrip("/") + "/api/"  # …/taxii2/api/
    return taxii_response(
        {
            "title": "龙磐 Longpan — 威胁预警 (threat warnings)",
            "description": "The regulator's APT warnings and units' sightings (TAXII 2.1)",
            "default": root,
            "api_roots": [root],
        }
    )


def token(request: Request) -> Response:
    """Sign in with Basic credentials and get a platform session token for ``Bearer``
    (the same sign-in as the web form: rate limit, attempts recorded, audited)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise error(401, "Authentication required", "send HTTP Basic credentials")
    username, password = _decode_basic(value.strip())
    ctx = _ctx(request)
    clock = ctx.workspace.clock
    address = request.client.host if request.client else None
    failure: AuthenticationError | None = None
    with ctx.writing() as session:  # committed even when the sign-in fails
        try:
            signed = web_sessions.sign_in(
                session,
                username,
                password,
                address=address,
                lifetime=ctx.session_lifetime,
                limits=ctx.limits,
                clock=clock,
            )
        except AuthenticationError as exc:
            failure = exc
    if failure is not None:
        raise error(401, "Authentication failed", str(failure))
    expires = clock() + ctx.session_lifetime
    return taxii_response({"token": signed.token, "expires_at": tc.stix_time(expires)})


def api_root(account: Authenticated, _: Accepted) -> Response:
    return taxii_response(
        {
            "title": "Longpan threat warnings",
            "versions": [TAXII],
            "max_content_length": MAX_CONTENT,
        }
    )


def _info(info: tc.CollectionInfo, account: Account) -> dict[str, Any]:
    return {
        "id": info.id,
        "title": info.title,
        "description": info.description,
        "can_read": True,
        "can_write": info.stored and account.role in WRITERS,
        "media_types": [tc.MEDIA_STIX],
    }


def collections(request: Request, account: Authenticated, _: Accepted) -> Response:
    with _ctx(request).reading() as session:
        found = tc.visible_collections(session, reader_of(account))
    return taxii_response({"collections": [_info(c, account) for c in found]})


def collection(
    request: Request, collection_id: str, account: Authenticated, _: Accepted
) -> Response:
    with _ctx(request).reading() as session:
        info = tc.get_collection(session, reader_of(account), collection_id)
    return taxii_response(_info(info, account))


def _filters(request: Request) -> tuple[tc.Filters, int, int]:
    q = request.query_params
    try:
        added_after = datetime.fromisoformat(q["added_after"]) if "added_after" in q else None
        limit = min(int(q.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        offset = int(q.get("next", "0"))
    except ValueError:
        raise error(400, "Bad filter", "added_after, limit or next is malformed") from None
    if limit < 1 or offset < 0:
        raise error(400, "Bad filter", "limit must be positive, next not negative")
    version = q.get("match[version]", "last")
    if version not in ("last", "first", "all"):
        raise error(400, "Bad filter", "match[version] must be last, first or all")
    types, ids = (
        frozenset(q[n].split(",")) if n in q else None for n in ("match[type]", "match[id]")
    )
    return tc.Filters(added_after, types, ids, version), offset, limit


def _page(
    request: Request, collection_id: str, account: Account, only: str | None = None
) -> tc.Page:
    filters, offset, limit = _filters(request)
    if only is not None:
        filters = tc.Filters(filters.added_after, filters.types, frozenset({only}), filters.version)
    with _ctx(request).reading() as session:
        info = tc.get_collection(session, reader_of(account), collection_id)
        rows = tc.collection_rows(session, reader_of(account), info)
    return tc.select_page(rows, filters, offset, limit)


def _added_headers(page: tc.Page) -> dict[str, str]:
    if not page.rows:
        return {}
    stamps = [tc.stix_time(added) for added, _ in page.rows]
    return {"X-TAXII-Date-Added-First": min(stamps), "X-TAXII-Date-Added-Last": max(stamps)}


def _envelope(page: tc.Page) -> Response:
    body: dict[str, Any] = {"more": page.more, "objects": page.objects}
    if page.next:
        body["next"] = page.next
    return taxii_response(body, headers=_added_headers(page))


def get_objects(
    request: Request, collection_id: str, account: Authenticated, _: Accepted
) -> Response:
    return _envelope(_page(request, collection_id, account))


def get_object(
    request: Request, collection_id: str, object_id: str, account: Authenticated, _: Accepted
) -> Response:
    page = _page(request, collection_id, account, only=object_id)
    if not page.rows:
        raise NotFoundError(f"no object {object_id} in collection {collection_id}")
    return _envelope(page)


def manifest(request: Request, collection_id: str, account: Authenticated, _: Accepted) -> Response:
    page = _page(request, collection_id, account)
    records = [
        {
            "id": body["id"],
            "date_added": tc.stix_time(added),
            "version": body.get("modified", body.get("created")),
            "media_type": tc.MEDIA_STIX,
        }
        for added, body in page.rows
    ]
    body: dict[str, Any] = {"more": page.more, "objects": records}
    if page.next:
        body["next"] = page.next
    return taxii_response(body, headers=_added_headers(page))


async def add_objects(
    request: Request, collection_id: str, account: Authenticated, tasks: BackgroundTasks
) -> Response:
    """Store an envelope's objects; indicators also go to the lake and are retro-hunted."""
    if not request.headers.get("content-type", "").startswith("application/taxii+json"):
        raise error(415, "Unsupported media type", f"POST objects as {TAXII}")
    body = await request.body()
    if len(body) > MAX_CONTENT:
        raise error(413, "Too large", f"at most {MAX_CONTENT} bytes")
    objects = _objects_of(body)
    ctx = _ctx(request)
    with ctx.writing() as session:
        info = tc.get_collection(session, reader_of(account), collection_id)
        if not info.stored or account.role not in WRITERS:
            raise error(403, "Forbidden", "this account may not write to this collection")
        status = tc.add_objects(
            session, info.id, objects, actor=account.username, clock=ctx.workspace.clock
        )
        result = _status_body(status)
    new_ids = _to_lake(ctx, objects, info.id, account.username)
    if new_ids:
        tasks.add_task(_hunt, ctx, new_ids, account.username)
    return taxii_response(result, 202)


def _objects_of(body: bytes) -> list[Any]:
    import json

    try:
        envelope = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(400, "Not JSON", str(exc)) from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise error(400, "Not an envelope", 'expected {"objects": [...]}')
    return list(envelope["objects"])


def _to_lake(ctx: WebContext, objects: list[Any], collection_id: str, actor: str) -> list[str]:
    indicators = [o for o in objects if isinstance(o, dict) and o.get("type") == "indicator"]
    if not indicators:
        return []
    source = f"taxii:{collection_id}"
    with ctx.lake_lock:
        return publish_objects(ctx.workspace, indicators, source=source, actor=actor)


def _hunt(ctx: WebContext, indicator_ids: list[str], actor: str) -> None:
    def run(_engine: Any) -> Any:
        return retro_hunt(ctx.workspace, indicator_ids, actor=actor)

    ctx.with_lake(run)


def status(request: Request, status_id: str, account: Authenticated, _: Accepted) -> Response:
    with _ctx(request).reading() as session:
        found = tc.get_status(session, status_id, reader_of(account))
        return taxii_response(_status_body(found))


def _status_body(status: Any) -> dict[str, Any]:
    return {
        "id": status.id,
        "status": status.status,
        "request_timestamp": tc.stix_time(status.request_timestamp),
        "total_count": status.total_count,
        "success_count": status.success_count,
        "failure_count": status.failure_count,
        "pending_count": status.pending_count,
        "successes": status.successes,
        "failures": status.failures,
    }
