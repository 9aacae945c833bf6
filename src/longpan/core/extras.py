"""Optional dependency groups: import a module or say which pip extra brings it."""

from __future__ import annotations

import importlib
from types import ModuleType

from longpan.core.errors import MissingExtraError


def require(extra: str, module: str) -> ModuleType:
    """Import ``module``; if it is missing, raise with the exact pip line to run."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and not module.startswith(exc.name.split(".")[0]):
            raise  # a broken install of something else: keep the real error
        raise MissingExtraError(extra, module) from None
