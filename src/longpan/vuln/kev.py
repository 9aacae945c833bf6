"""The CISA Known Exploited Vulnerabilities (KEV) catalogue, JSON as CISA publishes it."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from longpan.core.errors import InputError

_CVE = re.compile(r"^CVE-\d{4}-\d{4,19}$")
REQUIRED = ("cveID", "vendorProject", "product", "dateAdded", "dueDate")


def read_kev(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The catalogue version and one row per entry (the ``kev`` dataset's columns)."""
    if not path.is_file():
        raise InputError(f"no such file: {path}", file=str(path))
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"not valid JSON: {exc}", file=str(path), line=getattr(exc, "lineno", None)
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        raise InputError("not a KEV catalogue (no 'vulnerabilities' list)", file=str(path))
    version = str(data.get("catalogVersion") or "")
    rows = [
        _row(item, str(path), f"vulnerabilities[{i}]", version)
        for i, item in enumerate(data["vulnerabilities"])
    ]
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row["cve_id"] in seen:
            raise InputError(
                f"{row['cve_id']} is listed twice", file=str(path), column=f"vulnerabilities[{i}]"
            )
        seen.add(row["cve_id"])
    return version, rows


def _row(item: Any, source: str, where: str, version: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise InputError("expected an object", file=source, column=where)
    for key in REQUIRED:
        if not item.get(key):
            raise InputError(f"missing {key!r}", file=source, column=f"{where}.{key}")
    cve_id = str(item["cveID"]).strip()
    if not _CVE.match(cve_id):
        raise InputError(f"{cve_id!r} is not a CVE id", file=source, column=f"{where}.cveID")
    return {
        "cve_id": cve_id,
        "vendor_project": str(item["vendorProject"]),
        "product": str(item["product"]),
        "vulnerability_name": item.get("vulnerabilityName"),
        "date_added": _date(item, "dateAdded", source, where),
        "due_date": _date(item, "dueDate", source, where),
        "known_ransomware_use": item.get("knownRansomwareCampaignUse"),
        "required_action": item.get("requiredAction"),
        "catalog_version": version,
    }


def _date(item: dict[str, Any], key: str, source: str, where: str) -> date:
    try:
        return date.fromisoformat(str(item[key]))
    except ValueError:
        raise InputError(
            f"{item[key]!r} is not a date (YYYY-MM-DD)", file=source, column=f"{where}.{key}"
        ) from None
