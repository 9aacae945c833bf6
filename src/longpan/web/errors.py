"""Errors → responses: Chinese error pages for the browser, JSON for /api/."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from longpan.accounts.errors import AuthenticationError, LoginRateLimited, PermissionDenied
from longpan.cases.access import ForbiddenError, StateError
from longpan.core.errors import InputError, NotFoundError
from longpan.web.deps import LoginRequired
from longpan.web.templating import gettext_for, render

TITLES = {
    400: "Invalid request",
    401: "Please sign in",
    403: "Access denied",
    404: "Page not found",
    405: "Method not allowed",
    409: "Not possible in the current state",
    422: "Invalid request",
    429: "Too many attempts",
}


def wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def error_response(request: Request, status: int, detail: str) -> Response:
    headers = {"Retry-After": "60"} if status == 429 else None
    if wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    _ = gettext_for(request)
    response = render(
        request,
        "error.html",
        {"status": status, "title": _(TITLES.get(status, "Error")), "detail": detail},
        status_code=status,
    )
    if headers:
        response.headers.update(headers)
    return response


def install(app: FastAPI) -> None:
    """Register the handlers of every error the routes may raise."""

    async def login_required(request: Request, _exc: Exception) -> Response:
        if wants_json(request):
            return JSONResponse(
                {"detail": "not signed in"}, status_code=401, headers={"WWW-Authenticate": "Cookie"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    def mapped(status: int) -> object:
        async def handler(request: Request, exc: Exception) -> Response:
            return error_response(request, status, str(exc))

        return handler

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and detail == "Not Found":
            _ = gettext_for(request)
            detail = _("The page or record does not exist.")
        response = error_response(request, exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if wants_json(request):
            return JSONResponse({"detail": _jsonable_errors(exc)}, status_code=422)
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) for e in exc.errors())
        return error_response(request, 422, f"invalid fields: {fields}")

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    for exc_class, status in (
        (LoginRateLimited, 429),
        (AuthenticationError, 401),
        (PermissionDenied, 403),
        (ForbiddenError, 403),
        (NotFoundError, 404),
        (StateError, 409),
        (InputError, 400),
    ):
        app.add_exception_handler(exc_class, mapped(status))  # type: ignore[arg-type]


def _jsonable_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
