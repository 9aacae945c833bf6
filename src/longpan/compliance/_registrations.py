"""Shared building blocks of the registration detectors (expired_domain,
domain_moved_abroad); private to them.

- the registered domains of active website filings (service and subject filing active);
- WHOIS/RDAP observations up to the as-of time, and the candidates among them that are
  their domain's latest observation;
- EPP/RDAP status matching that ignores spelling (``pendingDelete``/``pending delete``);
- the registrar lookup (IANA id, then exact name) with the overseas test;
- follow-up lookups for the few flagged domains, and evidence/attribution helpers.

Both detectors first run one query over the whole lake that returns only the flagged
domains, then fetch the filings and the observations of those few domains.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, overload

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from longpan.detect.base import DetectionContext
from longpan.resources.attribution import majority_access_provider

# Status texts that mean "this name is not registered" (WHOIS "no match" answers,
# RDAP 404s turned into a status by the loader, registry "free"/"available" replies).
NOT_REGISTERED_STATUSES = ("unregistered", "available", "free", "no match", "not found")
# EPP/RDAP statuses of a registration the registrar has already deleted: it only lives
# on in the registry's grace periods and ends unless the registrant restores it.
LAPSED_STATUSES = ("redemptionPeriod", "pendingDelete")

_SEPARATORS = (" ", "_", "-")
_LITERAL_LIST = 64  # up to this many domains are passed as a literal list


def naive(moment: datetime) -> datetime:
    """The lake's form of a time (ctx.as_of is zone-aware UTC): naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """A time read back from an engine, as naive UTC (some return it zone-aware)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def status_key(text: str) -> str:
    """``redemptionPeriod``, ``redemption period`` and ``REDEMPTION_PERIOD`` alike."""
    key = text.lower()
    for sep in _SEPARATORS:
        key = key.replace(sep, "")
    return key


def _status_key_expr(status: ir.StringValue) -> ir.StringValue:
    key = status.fill_null("").lower()
    for sep in _SEPARATORS:
        key = key.replace(sep, "")
    return key


def status_in(status: ir.StringValue, codes: Sequence[str]) -> ir.BooleanValue:
    """True when one of ``codes`` appears in the (multi-code) status text.

    Case, spaces, ``_`` and ``-`` are ignored, so EPP (``pendingDelete``) and RDAP
    (``pending delete``) spellings match, and so does a code inside a list such as
    ``clientTransferProhibited,redemptionPeriod``.
    """
    keys = sorted({status_key(c) for c in codes if status_key(c)})
    if not keys:
        return ibis.literal(False)
    text = _status_key_expr(status)
    match = text.contains(keys[0])
    for key in keys[1:]:
        match = match | text.contains(key)
    return match


def filed_domains(ctx: DetectionContext, service_types: Sequence[str]) -> ir.Table:
    """(domain, service_licence, subject_licence, access_provider_uscc) for each
    registered domain listed by an active service filing of ``service_types``, before
    the subject filing is checked (see ``services_for``). A filing listing two names
    under one registered domain gives two equal rows. Only ``ctx.subjects`` when set."""
    svc = ctx.table("icp_services")
    active = svc.filter((svc.status == "active") & svc.service_type.isin(list(service_types)))
    if ctx.subjects is not None:
        wanted = sorted(ctx.subjects)
        if len(wanted) <= 32:  # a re-check: skip most rows before unnesting
            hit = active.registered_domains.contains(wanted[0])
            for subject in wanted[1:]:
                hit = hit | active.registered_domains.contains(subject)
            active = active.filter(hit)
    rows = active.select(
        "service_licence",
        "subject_licence",
        "access_provider_uscc",
        domain=active.registered_domains.unnest(),
    )
    rows = rows.filter(rows.domain.notnull() & (rows.domain != ""))
    if ctx.subjects is not None:
        rows = rows.filter(rows.domain.isin(sorted(ctx.subjects)))
    return rows


def observations(ctx: DetectionContext) -> ir.Table:
    """WHOIS/RDAP observations up to the as-of time (of ``ctx.subjects`` when set).

    For a re-check of a few subjects their rows are read once and kept in memory, so
    that the rule's several references to them do not each scan the whole dataset."""
    reg = ctx.table("domain_registrations")
    if ctx.subjects is not None:
        reg = reg.filter(reg.domain.isin(sorted(ctx.subjects)))
    reg = reg.filter(reg.observed_at <= ibis.literal(naive(ctx.as_of)))
    if ctx.subjects is not None and len(ctx.subjects) <= _LITERAL_LIST:
        return ctx.engine.materialised(reg)[0]
    return reg


def latest_matching(obs: ir.Table, candidates: ir.Table) -> ir.Table:
    """The rows of ``candidates`` (a filter of ``obs``) that are their domain's newest
    observation in ``obs``. Cheaper than finding every domain's latest row: the newest
    time is aggregated only over the candidates' domains (the key of the dataset is
    domain + observed_at, so the join gives at most one row per domain)."""
    theirs = obs.semi_join(candidates.select("domain").distinct(), "domain")
    newest = theirs.group_by("domain").agg(newest_at=theirs.observed_at.max())
    joined = candidates.join(
        newest,
        [candidates.domain == newest.domain, candidates.observed_at == newest.newest_at],
    )
    return joined.select(*[joined[c] for c in candidates.columns])


def services_for(
    ctx: DetectionContext, service_types: Sequence[str], domains: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """The active filings (service and subject filing active) listing each of
    ``domains``; domains without any are left out."""
    if not domains:
        return {}
    subjects = ctx.table("icp_subjects")
    live = subjects.filter(subjects.status == "active").select("subject_licence")
    filed = only(filed_domains(ctx, service_types), domains).semi_join(live, "subject_licence")
    return filings_by_domain(ctx.execute(filed.order_by(["domain", "service_licence"])))


def only(table: ir.Table, domains: Sequence[str]) -> ir.Table:
    """The rows of ``table`` about ``domains`` (a list from a first query)."""
    if len(domains) <= _LITERAL_LIST:
        return table.filter(table.domain.isin(sorted(domains)))
    # a long IN list is slow to plan: join with an in-memory table instead
    wanted = ibis.memtable(pa.table({"domain": pa.array(sorted(domains), pa.string())}))
    return table.semi_join(wanted, "domain")


def with_registrar(ctx: DetectionContext, obs: ir.Table) -> ir.Table:
    """``obs`` plus the registrar each observation names, from the ``registrars`` table.

    Looked up by ``registrar_iana_id``; when that is empty or unknown, by the exact
    registrar name (case and surrounding spaces ignored, names shared by several
    registrars left unresolved). Adds ``reg_known`` (found), ``reg_matched_by``
    (``iana_id`` | ``name``), ``reg_iana_id``, ``reg_name``, ``reg_country``,
    ``reg_licence`` and ``reg_overseas`` (no MIIT licence, or country other than CN).
    """
    table = ctx.table("registrars")
    licence = table.cn_licence.fill_null("").strip()
    rr = table.mutate(
        key=table.name.strip().lower(),
        overseas=(licence == "") | (table.country.strip().upper() != "CN"),
    )
    by_id = rr.select(
        i_id=rr.iana_id,
        i_name=rr.name,
        i_country=rr.country,
        i_lic=rr.cn_licence,
        i_over=rr.overseas,
    )
    unique = rr.group_by("key").agg(n=rr.iana_id.count()).filter(lambda t: t.n == 1)
    named = rr.semi_join(unique, "key")
    by_name = named.select(
        n_key=named.key,
        n_id=named.iana_id,
        n_name=named.name,
        n_country=named.country,
        n_lic=named.cn_licence,
        n_over=named.overseas,
    )
    keyed = obs.mutate(obs_key=obs.registrar_name.strip().lower())
    j = keyed.left_join(by_id, keyed.registrar_iana_id == by_id.i_id).left_join(
        by_name, keyed.obs_key == by_name.n_key
    )
    use_id = j.i_id.notnull()
    use_name = ~use_id & j.n_id.notnull()

    def pick(a: ir.Value, b: ir.Value) -> ir.Value:
        return ibis.ifelse(use_id, a, b)

    return j.select(
        *[j[c] for c in obs.columns],
        reg_known=use_id | use_name,
        reg_matched_by=ibis.ifelse(
            use_id, "iana_id", ibis.ifelse(use_name, "name", ibis.null("string"))
        ),
        reg_iana_id=pick(j.i_id, j.n_id),
        reg_name=pick(j.i_name, j.n_name),
        reg_country=pick(j.i_country, j.n_country),
        reg_licence=pick(j.i_lic, j.n_lic),
        reg_overseas=pick(j.i_over, j.n_over),
    )


OBSERVATION_FIELDS = (
    "observed_at",
    "registrar_iana_id",
    "registrar_name",
    "registrant",
    "created_at",
    "expires_at",
    "status",
)


def observation_evidence(row: dict[str, Any]) -> dict[str, Any]:
    """One WHOIS/RDAP observation as evidence (times as naive UTC)."""
    return {k: utc(row[k]) if isinstance(row[k], datetime) else row[k] for k in OBSERVATION_FIELDS}


def filings_by_domain(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Group (domain, service_licence, subject_licence, access_provider_uscc) rows."""
    grouped: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        grouped[row["domain"]][row["service_licence"]] = {
            "service_licence": row["service_licence"],
            "subject_licence": row["subject_licence"],
            "access_provider_uscc": row["access_provider_uscc"],
        }
    return {d: [s[k] for k in sorted(s)] for d, s in grouped.items()}


def responsible(domain: str, services: list[dict[str, Any]]) -> str | None:
    """The access provider of most of the active services listing ``domain``."""
    found = majority_access_provider(services, f"access provider of the filing of {domain}")
    return found.uscc if found else None


def filing_evidence(services: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "service_licences": [s["service_licence"] for s in services],
        "subject_licences": sorted({s["subject_licence"] for s in services}),
        "access_providers": sorted(
            {s["access_provider_uscc"] for s in services if s["access_provider_uscc"]}
        ),
    }
