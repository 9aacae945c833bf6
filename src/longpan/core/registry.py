"""Plugins through entry points, built-ins included (as Ibis backends and Datasette do)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from longpan.core.errors import ConfigError


def load_group(group: str) -> dict[str, Any]:
    """Name → loaded object for every entry point in ``group``."""
    loaded: dict[str, Any] = {}
    for ep in entry_points(group=group):
        if ep.name in loaded:
            raise ConfigError(f"two plugins named {ep.name!r} in entry-point group {group}")
        try:
            loaded[ep.name] = ep.load()
        except ImportError as exc:
            raise ConfigError(f"plugin {ep.name!r} ({ep.value}) cannot be imported: {exc}") from exc
    return loaded
