"""Cell parsers and the row rule of the ``assets`` table (key units' internet assets).

The CPE check here is only of the form (``cpe:2.3:`` and eleven components); the
meaning of each component is vuln/cpe.py's business.
"""

from __future__ import annotations

import re
from typing import Any

from longpan.resources.exchange import parsers as p
from longpan.resources.exchange.rules import Row

PROTOCOLS = ("tcp", "udp")
_CPE23 = re.compile(r"cpe:2\.3:[aho*-](?::(?:\\.|[^:\\])+){10}")


def port(value: Any) -> int:
    result = p.integer(value)
    if not 1 <= result <= 65535:
        raise ValueError(f"{result} is not a port (1-65535)")
    return result


def protocol(value: Any) -> str:
    result = str(value).strip().lower()
    if result not in PROTOCOLS:
        raise ValueError(f"{result!r} is not one of: {' | '.join(PROTOCOLS)}")
    return result


def cpe23(value: Any) -> str:
    result = str(value).strip().lower()
    if not _CPE23.fullmatch(result):
        raise ValueError(
            f"{result!r} is not a CPE 2.3 name (cpe:2.3:part:vendor:product:version:… "
            f"with 11 components after cpe:2.3:)"
        )
    return result


def cpe_or_product_version(row: Row) -> tuple[str, str] | None:
    """An asset is matchable only by its CPE name, or by its product and version."""
    if row["cpe"] is None and (row["product"] is None or row["version"] is None):
        return "cpe", "a value is required unless product and version are both given"
    return None
