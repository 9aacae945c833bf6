"""Detectors registered under the ``longpan.detectors`` entry-point group."""

from __future__ import annotations

from functools import lru_cache

from longpan.core.errors import ConfigError, InputError
from longpan.core.registry import load_group
from longpan.detect.base import Detector

GROUP = "longpan.detectors"


@lru_cache(maxsize=1)
def detectors() -> dict[str, type[Detector]]:
    """Detector id → class, each checked against the contract."""
    found: dict[str, type[Detector]] = {}
    for name, cls in sorted(load_group(GROUP).items()):
        if not (isinstance(cls, type) and issubclass(cls, Detector)):
            raise ConfigError(f"entry point {name!r} in {GROUP} is not a Detector subclass")
        cls.check_contract()
        if cls.id != name:
            raise ConfigError(f"entry point {name!r} points to detector with id {cls.id!r}")
        found[name] = cls
    return found


def finding_types() -> dict[str, type[Detector]]:
    """Finding type → the detector class that produces it."""
    return {t: cls for cls in detectors().values() for t in cls.finding_types}


def finding_type_title(finding_type: str, lang: str = "zh") -> str:
    """The display name of a finding type in ``lang`` ("zh" or "en"); the id if none."""
    cls = finding_types().get(finding_type)
    for declared, zh, en in cls.titles if cls else ():
        if declared == finding_type:
            return en if lang.startswith("en") else zh
    return finding_type


def select(types: list[str] | None) -> list[type[Detector]]:
    """The detectors producing ``types`` (all detectors when None)."""
    if not types:
        return list(detectors().values())
    by_type = finding_types()
    unknown = [t for t in types if t not in by_type]
    if unknown:
        raise InputError(
            f"unknown finding type(s) {', '.join(unknown)}; known: {', '.join(sorted(by_type))}"
        )
    chosen: dict[str, type[Detector]] = {}
    for t in types:
        chosen[by_type[t].id] = by_type[t]
    return list(chosen.values())
