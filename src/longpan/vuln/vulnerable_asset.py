"""vulnerable_asset (高危漏洞): a key unit's internet-facing service runs a product version
that an NVD configuration in the lake names as vulnerable to a CVE.

One finding per (asset, CVE): subject ``ip:port``, key the CVE id; critical when the CVE is in
CISA KEV or scores CVSS ≥ 9, else by its CVSS score. Responsible: the unit that owns
the asset. See docs/detectors/vulnerable_asset.md and docs/vuln.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pydantic import Field

from longpan.core.errors import IdentifierError
from longpan.core.subjects import service_subject, split_service
from longpan.detect.base import DetectionContext, Detector, FindingDraft, NoParams
from longpan.vuln.matching import Service, match_assets
from longpan.vuln.versions import parse_version

CVE_COLUMNS = (
    "cve_id",
    "description",
    "published",
    "last_modified",
    "cvss31_score",
    "cvss31_vector",
    "cvss31_severity",
    "cvss40_score",
    "cvss40_vector",
    "cvss40_severity",
    "cvss30_score",
    "cvss2_score",
)
ASSET_EVIDENCE = (
    "ip",
    "port",
    "protocol",
    "hostname",
    "product",
    "vendor",
    "version",
    "cpe",
    "os_cpe",
    "hw_cpe",
    "observed_at",
)
KEV_COLUMNS = ("cve_id", "date_added", "due_date", "known_ransomware_use", "required_action")


class VulnerableAssetParams(NoParams):
    max_asset_age_days: int = Field(
        365, ge=1, description="assets not seen for this many days are not matched"
    )


class VulnerableAsset(Detector):
    id = "vulnerable_asset"
    version = "1.0.0"
    capability = "S2"
    description = "Key units' internet-facing services running versions NVD lists as vulnerable"
    inputs = ("assets", "cves", "cve_cpe_matches", "kev")
    finding_types = ("vulnerable_asset",)
    subject_kinds = ("service",)
    titles = (("vulnerable_asset", "高危漏洞资产", "Vulnerable asset"),)
    Params = VulnerableAssetParams

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        for name in self.inputs:
            ctx.table(name)  # only declared inputs; raises otherwise
        cve_ids, services = _wanted(ctx.subjects)
        age = timedelta(days=self.params.max_asset_age_days)  # type: ignore[attr-defined]
        since = ctx.as_of.replace(tzinfo=None) - age
        result = match_assets(ctx.engine, cve_ids=cve_ids, services=services, since=since)
        found = result.cve_ids()
        cves = _by_id(ctx, "cves", CVE_COLUMNS, found)
        kev = _by_id(ctx, "kev", KEV_COLUMNS, found)
        per_cve = {c: _cve_part(cves.get(c, {}), kev.get(c)) for c in found}
        for asset, matched in result.groups:  # the parts many findings share are built once
            shared = _asset_part(asset)
            for cve_id, configurations in matched:
                yield _draft(asset, cve_id, configurations, shared, per_cve[cve_id])


def _wanted(subjects: frozenset[str] | None) -> tuple[list[str] | None, list[Service] | None]:
    """The CVEs and services a subject re-check is about (None: no restriction).

    A subject is a service: re-checking it re-matches that service against every CVE.
    """
    if subjects is None:
        return None, None
    services: set[Service] = set()
    for subject in subjects:
        try:
            services.add(split_service(subject))
        except IdentifierError:
            continue  # not one of ours
    return None, sorted(services)


def _by_id(
    ctx: DetectionContext, dataset: str, columns: tuple[str, ...], ids: set[str]
) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    table = ctx.table(dataset)
    rows = ctx.execute(table.filter(table.cve_id.isin(sorted(ids))).select(*columns))
    return {r["cve_id"]: r for r in rows}


def severity_of(cve: dict[str, Any], in_kev: bool) -> str:
    """critical for KEV or CVSS ≥ 9; else high ≥ 7, medium ≥ 4, low; medium unscored."""
    score = cvss_score(cve)
    if in_kev or (score is not None and score >= 9.0):
        return "critical"
    if score is None:
        return "medium"
    return "high" if score >= 7.0 else "medium" if score >= 4.0 else "low"


def cvss_score(cve: dict[str, Any]) -> float | None:
    """The score that ranks the CVE: v3.1, else v4.0, else v3.0, else v2."""
    for name in ("cvss31_score", "cvss40_score", "cvss30_score", "cvss2_score"):
        if cve.get(name) is not None:
            return float(cve[name])
    return None


def _asset_part(asset: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    """The service subject, the asset's evidence and its distribution note."""
    service = service_subject(asset["ip"], asset["port"], asset["protocol"])
    evidence = {name: asset[name] for name in ASSET_EVIDENCE}
    return service, evidence, _distribution_note(asset.get("version"))


def _cve_part(cve: dict[str, Any], kev: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The severity and the CVE's evidence (description, CVSS, KEV)."""
    evidence = {"description": cve.get("description"), "cvss": _cvss(cve), "kev": _kev(kev)}
    return severity_of(cve, kev is not None), evidence


def _draft(
    asset: dict[str, Any],
    cve_id: str,
    configurations: list[dict[str, Any]],
    asset_part: tuple[str, dict[str, Any], str | None],
    cve_part: tuple[str, dict[str, Any]],
) -> FindingDraft:
    service, asset_evidence, note = asset_part
    severity, cve_evidence = cve_part
    evidence = {"cve": cve_id, "asset": asset_evidence, **cve_evidence}
    evidence["matched"] = configurations
    if note:
        evidence["note"] = note
    return FindingDraft(
        type="vulnerable_asset",
        subject=service,
        key=cve_id,
        severity=severity,
        evidence=evidence,
        responsible_uscc=asset["org_uscc"],
    )


def _cvss(cve: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for version, key in (("3.1", "cvss31"), ("4.0", "cvss40")):
        if cve.get(f"{key}_score") is not None:
            out[version] = {
                "score": cve[f"{key}_score"],
                "vector": cve[f"{key}_vector"],
                "severity": cve[f"{key}_severity"],
            }
    for version, key in (("3.0", "cvss30"), ("2.0", "cvss2")):
        if not out and cve.get(f"{key}_score") is not None:
            out[version] = {"score": cve[f"{key}_score"]}
    return out


def _kev(kev: dict[str, Any] | None) -> dict[str, Any]:
    if kev is None:
        return {"listed": False}
    return {
        "listed": True,
        "date_added": kev["date_added"],
        "due_date": kev["due_date"],
        "known_ransomware_use": kev["known_ransomware_use"],
        "required_action": kev["required_action"],
    }


def _distribution_note(version: str | None) -> str | None:
    parsed = parse_version(version)
    if parsed is None or parsed.local is None:
        return None
    return (
        f"distribution build ({parsed.local}): the distribution may have backported the "
        f"fix; confirm with the package changelog before closing as a false positive"
    )
