"""The application factory: ``create_app(settings=None, workspace=None) -> FastAPI``.

Page groups live in web/routes/<group>.py, each with ``router`` (HTML) and optionally
``api`` (JSON under /api). Add a new group by appending its module name to
ROUTE_MODULES.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from longpan.core.settings import Settings, get_settings
from longpan.store.models import Finding
from longpan.store.workspace import Workspace
from longpan.web import errors, security
from longpan.web.cache import VersionedCache
from longpan.web.context import WebContext
from longpan.web.deps import guard_unsafe
from longpan.web.places import SubjectPlaces
from longpan.web.taxii import create_taxii_app
from longpan.web.templating import TEMPLATES_DIR

STATIC_DIR = TEMPLATES_DIR.parent / "static"
# Each module: web/routes/<name>.py with `router` and optionally `api`.
ROUTE_MODULES = [
    "auth",
    "vendor",
    "dashboard",
    "findings",
    "subjects",
    "audit",
    "users",
    "batches",
    "notices",
    "inbox",
    "escalation",
    "decisions",
    "api_docs",
]

API_DESCRIPTION = """龙磐 Longpan JSON API. Sign in through /login (session cookie); every
POST/PUT/PATCH/DELETE needs the header `X-CSRF-Token` (from `GET /api/me`)."""


log = logging.getLogger(__name__)

# Request handlers run in worker threads; each holds at most two database connections
# (its read session and a service's own transaction). SQLAlchemy's default pool gives 15
# (5 + 10 overflow), so more threads could each hold one connection and wait forever for
# a second one. 7 threads keep that impossible; on 2 cores more would not be faster.
WORKER_THREADS = 7


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    ctx: WebContext = app.state.ctx
    if app.state.warm_up:
        await to_thread.run_sync(_warm_places, ctx)
    yield
    await to_thread.run_sync(ctx.places.stop)


def _warm_places(ctx: WebContext) -> None:
    """Start looking up the city of every finding's subject in the background, so the
    dashboard map and the city filter are ready soon after start."""
    try:
        with ctx.reading() as session:
            subjects = set(session.scalars(select(Finding.subject).distinct()))
    except SQLAlchemyError as exc:  # e.g. a database not migrated yet: pages will say so
        log.warning("no city warm-up: %s", exc)
        return
    ctx.places.warm(subjects, ctx.with_lake)


def create_app(
    settings: Settings | None = None,
    workspace: Workspace | None = None,
    *,
    warm_up: bool | None = None,
) -> FastAPI:
    """The app; ``warm_up`` (default: only when it builds its own workspace, as under
    ``longpan serve``) starts the background city look-ups at start-up."""
    settings = settings or (workspace.settings if workspace else get_settings())
    warm_up = workspace is None if warm_up is None else warm_up
    workspace = workspace or Workspace(settings)
    app = FastAPI(
        title="龙磐 Longpan",
        version="0.1.0",
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(guard_unsafe)],
        lifespan=_lifespan,
    )
    app.state.warm_up = warm_up
    app.state.ctx = WebContext(
        settings=settings,
        workspace=workspace,
        places=SubjectPlaces(settings.lake_dir),
        cache=VersionedCache(settings.lake_dir),
    )
    for name in ROUTE_MODULES:
        module = importlib.import_module(f"longpan.web.routes.{name}")
        app.include_router(module.router)
        if hasattr(module, "api"):
            app.include_router(module.api)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/taxii2", create_taxii_app(app.state.ctx))  # TAXII 2.1 (web/taxii.py)
    errors.install(app)
    app.middleware("http")(_headers_and_cookies)
    return app


async def _headers_and_cookies(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Security headers on every response; the pre-session CSRF cookie when one was made."""
    response = await call_next(request)
    for name, value in security.SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")  # pages hold personal data
    seed = getattr(request.state, "new_pre_seed", None)
    if seed and security.PRE_SESSION_COOKIE not in request.cookies:
        ctx: WebContext = request.app.state.ctx
        security.set_cookie(response, request, ctx.settings, security.PRE_SESSION_COOKIE, seed)
    return response
