"""Reference data shipped with the platform (not user data), offered to detectors as
tables: today the IP-to-region segments of the bundled ip2region database."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from longpan.core.errors import NotFoundError
from longpan.resources import geo

REFERENCES: dict[str, Callable[[], pa.Table]] = {
    # start_ip, end_ip, start_key, end_key, country, province, city, isp (IPv4 only)
    "ip_regions": geo.segments_table,
}


def reference_table(name: str) -> pa.Table:
    try:
        return REFERENCES[name]()
    except KeyError:
        raise NotFoundError(
            f"unknown reference table {name!r}; known: {', '.join(REFERENCES)}"
        ) from None
