"""gettext catalogs for the web UI: Chinese by default, English switchable.

The .po files under web/locale/ are the source; they are compiled into memory with
Babel when the app starts, so no binary .mo file is committed.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"zh": "zh_CN", "en": "en"}  # UI language code → catalog folder
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "longpan_lang"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / LANGUAGES[lang] / "LC_MESSAGES" / "messages.po"


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``lang`` ("zh" or "en")."""
    with po_path(lang).open("rb") as source:
        catalog = read_po(source, locale=LANGUAGES[lang])
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def choose_language(cookie: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The cookie's language if it is one we have, else the default."""
    if cookie in LANGUAGES:
        return str(cookie)
    return default if default in LANGUAGES else DEFAULT_LANGUAGE
