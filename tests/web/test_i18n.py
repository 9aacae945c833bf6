"""The gettext catalogs: complete for Chinese, and every message the UI uses is in them."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from longpan.store.models import FINDING_STATUSES, SEVERITIES
from longpan.web import i18n
from longpan.web.errors import TITLES
from longpan.web.routes.auth import LOGIN_MESSAGES
from longpan.web.routes.findings import EXPORT_COLUMNS, SORT_OPTIONS
from longpan.web.routes.users import DONE
from longpan.web.templating import NAV

WEB = Path(i18n.__file__).parent
LITERAL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")


def _catalog(lang: str) -> dict[str, str]:
    with i18n.po_path(lang).open("rb") as source:
        catalog = read_po(source)
    return {str(m.id): str(m.string) for m in catalog if m.id}


def _used_msgids() -> set[str]:
    found: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        found |= {a or b for a, b in LITERAL.findall(path.read_text("utf-8"))}
    found |= {item.label for item in NAV} | set(TITLES.values()) | {"Error"}
    found |= set(LOGIN_MESSAGES.values()) | set(DONE.values())
    found |= {label for _key, label in EXPORT_COLUMNS} | {label for _key, label in SORT_OPTIONS}
    return found


def test_every_message_used_is_translated_to_chinese() -> None:
    chinese = _catalog("zh")
    used = _used_msgids()
    assert len(used) > 80
    missing = sorted(m for m in used if not chinese.get(m))
    assert not missing, f"add these msgids to {i18n.po_path('zh')}: {missing}"


def test_english_catalog_has_the_same_messages() -> None:
    assert set(_catalog("en")) == set(_catalog("zh"))


def test_status_and_severity_labels_exist_in_both_languages() -> None:
    for lang in ("zh", "en"):
        catalog = _catalog(lang)
        for key in [f"status:{s}" for s in FINDING_STATUSES] + [
            f"severity:{s}" for s in SEVERITIES
        ]:
            assert catalog.get(key), (lang, key)


def test_compiled_catalogs_translate() -> None:
    assert i18n.translations("zh").gettext("Findings") == "线索"
    assert i18n.translations("en").gettext("Findings") == "Findings"
    assert i18n.translations("en").gettext("status:closed") == "Closed"
    assert i18n.choose_language("en") == "en" and i18n.choose_language("fr") == "zh"
