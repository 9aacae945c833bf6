"""Server-side rendering: one Jinja2 environment, one ``render`` helper for every page.

``render`` puts into every template: ``account``, ``lang``, ``_``/``ngettext`` (gettext
of the request's language), ``csrf_token``, ``csrf_field()``, ``type_title(type)``,
``role_title(role)``, ``label(prefix, key)``, ``nav`` (the menu for the account's role)
and ``request``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from longpan.accounts.users import ROLE_TITLES, Account
from longpan.detect.registry import finding_type_title
from longpan.web import i18n
from longpan.web.deps import csrf_token, current_account, get_ctx

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # msgid
    roles: tuple[str, ...]


# The main menu. The loop's pages (batches, notices, inbox, escalation) add items here.
NAV: list[NavItem] = [
    NavItem("/", "Dashboard", ("admin", "supervisor", "analyst", "auditor", "enterprise")),
    NavItem("/findings", "Findings", ("admin", "supervisor", "analyst", "auditor", "enterprise")),
    NavItem("/batches", "Batches", ("admin", "supervisor", "analyst", "auditor")),
    NavItem("/notices", "Notices", ("admin", "supervisor", "analyst", "auditor")),
    NavItem("/inbox", "Inbox", ("enterprise",)),
    NavItem("/escalation", "Escalation", ("admin", "supervisor", "analyst", "auditor")),
    NavItem("/decisions", "Decisions", ("admin", "supervisor", "auditor")),
    NavItem("/audit", "Audit log", ("admin", "supervisor", "auditor")),
    NavItem("/users", "Users", ("admin",)),
]


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(("html", "xml")),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dt"] = _format_datetime
    return env


def _format_datetime(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d %H:%M" if hasattr(value, "hour") else "%Y-%m-%d"))
    return str(value)


def request_language(request: Request) -> str:
    return i18n.choose_language(
        request.cookies.get(i18n.LANG_COOKIE), get_ctx(request).settings.lang
    )


def base_context(request: Request) -> dict[str, Any]:
    lang = request_language(request)
    catalog = i18n.translations(lang)
    account = current_account(request)
    token = csrf_token(request)
    return {
        "request": request,
        "account": account,
        "lang": lang,
        "_": catalog.gettext,
        "ngettext": catalog.ngettext,
        "csrf_token": token,
        "csrf_field": lambda: Markup('<input type="hidden" name="csrf_token" value="{}">').format(
            token
        ),
        "type_title": lambda t: finding_type_title(t, lang),
        "label": lambda prefix, key: _label(catalog.gettext, prefix, key),
        "role_title": lambda r: _role_title(r, lang),
        "nav": _nav(account),
        "current_path": request.url.path,
    }


def _label(gettext: Any, prefix: str, key: str) -> str:
    """The translation of msgid "prefix:key" (status:open, graph:dns…), else the key."""
    msgid = f"{prefix}:{key}"
    text = str(gettext(msgid))
    return key if text == msgid else text


def _role_title(role: str, lang: str) -> str:
    zh, en = ROLE_TITLES.get(role, (role, role))
    return en if lang == "en" else zh


def _nav(account: Account | None) -> list[NavItem]:
    if account is None:
        return []
    return [item for item in NAV if account.role in item.roles]


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    values = base_context(request)
    values.update(context or {})
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code)


def gettext_for(request: Request) -> Any:
    """The gettext function of the request's language (for messages built in Python)."""
    return i18n.translations(request_language(request)).gettext


__all__ = ["NAV", "NavItem", "escape", "gettext_for", "render"]
