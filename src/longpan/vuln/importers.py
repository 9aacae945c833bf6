"""Scanner output → ``assets`` rows: nmap XML (``-sV``/``-O``) and nuclei JSONL.

``import_scan`` writes the rows as an ``assets.csv`` delivery and loads it through
``longpan ingest`` (resources/ingest.py), so every row is validated the same way and
the lake gets all of them or none.

nmap: one row per open port of a host that is up: ``service`` product, version (and
extrainfo for the distribution, e.g. ``Ubuntu``), the service's ``cpe`` elements (CPE
2.2 URIs, converted to 2.3: ``a`` → cpe, ``o`` → os_cpe, ``h`` → hw_cpe) and the OS
CPE of the most accurate ``osmatch``. nuclei: one row per (ip, port) that a template
matched: ``info.classification.cpe``, ``info.metadata`` vendor/product, a version from
``extracted-results`` when the CPE leaves it open.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from longpan.core import identifiers as ids
from longpan.core.errors import IdentifierError, InputError
from longpan.resources.ingest import IngestReport, ingest_folder
from longpan.store.datasets import ASSETS
from longpan.store.workspace import Workspace
from longpan.vuln.cpe import ANY, parse_cpe

Row = dict[str, Any]
_VERSION_IN_TEXT = re.compile(r"(?<![\w.])v?(\d+(?:\.\d+)+(?:[-.]?[a-z]+\d*)?)", re.IGNORECASE)
USER_COLUMNS = [c.name for c in ASSETS.columns if not c.derived]


def import_scan(
    ws: Workspace, path: Path, org_uscc: str, *, actor: str = "system:cli"
) -> tuple[IngestReport, int]:
    """Read a scan file (format by content) and ingest its assets for ``org_uscc``."""
    org = ids.parse_uscc(org_uscc)
    rows = read_scan(path)
    if not rows:
        raise InputError("the scan lists no open service", file=str(path))
    folder = ws.lake.staging_dir()
    try:
        _write_csv(folder / "assets.csv", [{**r, "org_uscc": org} for r in rows])
        return ingest_folder(ws, folder, actor=actor), len(rows)
    except InputError as exc:  # name the scan, not the CSV made from it
        first = getattr(exc, "errors", [exc])[0]
        where = f"asset {first.line - 1} of the scan: " if first.line else ""
        raise InputError(where + first.message, file=str(path), column=first.column) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_scan(path: Path) -> list[Row]:
    if not path.is_file():
        raise InputError(f"no such file: {path}", file=str(path))
    head = path.read_bytes()[:512].lstrip()
    if head.startswith(b"<"):
        return read_nmap(path)
    if head.startswith(b"{"):
        return read_nuclei(path)
    raise InputError("neither nmap XML nor nuclei JSONL (first byte is not < or {)", file=str(path))


def _write_csv(path: Path, rows: list[Row]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=USER_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in USER_COLUMNS})


# -- nmap ------------------------------------------------------------------------------
def read_nmap(path: Path) -> list[Row]:
    text = path.read_text("utf-8", errors="strict")
    if "<!ENTITY" in text:
        raise InputError("entity declarations are refused in scan XML", file=str(path))
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, _column = exc.position
        raise InputError(f"not well-formed XML: {exc}", file=str(path), line=line) from None
    if root.tag != "nmaprun":
        raise InputError(f"root element is <{root.tag}>, not <nmaprun>", file=str(path))
    started = root.get("start")
    rows: list[Row] = []
    for n, host in enumerate(root.iter("host"), start=1):
        rows.extend(_nmap_host(host, started, str(path), f"host[{n}]"))
    return rows


def _nmap_host(host: ET.Element, started: str | None, source: str, where: str) -> Iterator[Row]:
    status = host.find("status")
    if status is not None and status.get("state") != "up":
        return
    address = next(
        (a.get("addr") for a in host.iter("address") if a.get("addrtype") in ("ipv4", "ipv6")),
        None,
    )
    if not address:
        raise InputError("host without an ipv4/ipv6 address", file=source, column=where)
    ip = _ip(address, source, f"{where}.address")
    seen = _epoch(host.get("endtime") or host.get("starttime") or started, source, where)
    hostname = next((h.get("name") for h in host.iter("hostname")), None)
    os_cpe = _best_os_cpe(host)
    for port in host.iter("port"):
        state = port.find("state")
        if state is None or state.get("state") != "open":
            continue
        yield _nmap_port(port, ip, seen, hostname, os_cpe, source, where)


def _nmap_port(
    port: ET.Element,
    ip: str,
    seen: datetime,
    hostname: str | None,
    os_cpe: str | None,
    source: str,
    where: str,
) -> Row:
    service = port.find("service")
    cpes = [_cpe23(c.text or "") for c in service.iter("cpe")] if service is not None else []
    by_part = {c.split(":")[2]: c for c in reversed([c for c in cpes if c])}
    return {
        "ip": ip,
        "port": port.get("portid"),
        "protocol": port.get("protocol", "tcp"),
        "product": service.get("product") if service is not None else None,
        "vendor": None,
        "version": service.get("version") if service is not None else None,
        "cpe": by_part.get("a"),
        "os_cpe": by_part.get("o") or os_cpe,
        "hw_cpe": by_part.get("h"),
        "hostname": hostname,
        "observed_at": seen.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _best_os_cpe(host: ET.Element) -> str | None:
    matches = sorted(host.iter("osmatch"), key=lambda m: -int(m.get("accuracy", "0") or 0))
    for match in matches:
        for cpe in match.iter("cpe"):
            converted = _cpe23(cpe.text or "")
            if converted and converted.split(":")[2] == "o":
                return converted
    return None


def _cpe23(uri: str) -> str | None:
    """A CPE 2.2 URI (``cpe:/a:apache:http_server:2.4.49``) as a 2.3 formatted string."""
    text = uri.strip().lower()
    if text.startswith("cpe:2.3:"):
        return text
    if not text.startswith("cpe:/"):
        return None
    parts = text[5:].split(":")
    values = [re.sub(r"([^a-z0-9_.\-~%])", r"\\\1", p) or ANY for p in parts[:7]]
    values += [ANY] * (11 - len(values))
    converted = "cpe:2.3:" + ":".join(values)
    try:
        parse_cpe(converted)
    except InputError:
        return None
    return converted


def _epoch(value: str | None, source: str, where: str) -> datetime:
    if not value or not value.isdigit():
        raise InputError("no scan time (starttime/endtime)", file=source, column=where)
    return datetime.fromtimestamp(int(value), UTC)


def _ip(value: str, source: str, where: str, line: int | None = None) -> str:
    try:
        return ids.canonical_ip(value)
    except IdentifierError as exc:
        raise InputError(exc.reason, file=source, line=line, column=where) from None


# -- nuclei ----------------------------------------------------------------------------
def read_nuclei(path: Path) -> list[Row]:
    found: dict[tuple[str, str, str], Row] = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not JSON: {exc.msg}", file=str(path), line=number) from None
            row = _nuclei_row(event, str(path), number)
            key = (row["ip"], str(row["port"]), row["protocol"])
            found[key] = _better(found.get(key), row)
    return list(found.values())


def _nuclei_row(event: Any, source: str, line: int) -> Row:
    if not isinstance(event, dict):
        raise InputError("expected a JSON object per line", file=source, line=line)
    where = urlsplit(str(event.get("matched-at") or event.get("host") or ""))
    address = event.get("ip") or where.hostname
    if not address:
        raise InputError("no ip or host", file=source, line=line, column="ip")
    ip = _ip(str(address), source, "ip", line)
    port = str(event.get("port") or where.port or {"https": 443, "http": 80}.get(where.scheme))
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise InputError(f"{port!r} is not a port (1-65535)", file=source, line=line, column="port")
    info = event.get("info") or {}
    cpe, version = _nuclei_cpe(info, event.get("extracted-results") or [], source, line)
    host = where.hostname if where.hostname and where.hostname != ip else None
    return {
        "ip": ip,
        "port": port,
        "protocol": "tcp" if event.get("type") != "udp" else "udp",
        "product": (info.get("metadata") or {}).get("product") or event.get("template-id"),
        "vendor": (info.get("metadata") or {}).get("vendor"),
        "version": version,
        "cpe": cpe,
        "os_cpe": None,
        "hw_cpe": None,
        "hostname": host,
        "observed_at": _nuclei_time(event.get("timestamp"), source, line),
    }


def _nuclei_cpe(
    info: dict[str, Any], extracted: list[Any], source: str, line: int
) -> tuple[str | None, str | None]:
    text = (info.get("classification") or {}).get("cpe")
    version = next((m.group(1) for e in extracted if (m := _VERSION_IN_TEXT.search(str(e)))), None)
    if not text:
        return None, version
    try:
        cpe = parse_cpe(str(text), where="info.classification.cpe")
    except InputError as exc:
        raise InputError(
            exc.message, file=source, line=line, column="info.classification.cpe"
        ) from None
    if cpe.version == ANY and version:
        return str(cpe), version
    return str(cpe), version or (cpe.version if cpe.version != ANY else None)


def _nuclei_time(value: Any, source: str, line: int) -> str:
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"timestamp {value!r} is not ISO 8601", file=source, line=line, column="timestamp"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _better(old: Row | None, new: Row) -> Row:
    """Of two rows for one service, the one that says more (a CPE, then a version)."""
    if old is None:
        return new
    return new if _says(new) > _says(old) else old


def _says(row: Row) -> tuple[bool, bool]:
    return row["cpe"] is not None, row["version"] is not None
