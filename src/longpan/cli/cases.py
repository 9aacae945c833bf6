"""Commands for the closed loop: ``longpan batch …``, ``verify``, ``remind``, ``escalation``.

Library twins of the web's batch, verification and escalation pages. Every command
acts as a platform user (``--user``), so the audit log says who did it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from longpan.cli.common import handle_errors, out, print_json, print_table, workspace
from longpan.core.errors import InputError, NotFoundError

if TYPE_CHECKING:  # the loop's services are imported by the commands (fast --help)
    from longpan.cases.batches import BatchView
    from longpan.cases.selection import FindingFilter
    from longpan.store.models import User
    from longpan.store.workspace import Workspace

batch_app = typer.Typer(help="通报批次 (batches of notices): preview, create, approve, issue.")

UserOption = Annotated[str, typer.Option("--user", help="act as this platform user (audited)")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]
TypeOption = Annotated[list[str] | None, typer.Option("--type", help="finding type(s)")]
SeverityOption = Annotated[list[str] | None, typer.Option("--severity", help="severity(ies)")]
OrgOption = Annotated[list[str] | None, typer.Option("--org", help="responsible USCC(s)")]
CityOption = Annotated[list[str] | None, typer.Option("--city", help="city, e.g. 南京市")]
SinceOption = Annotated[str | None, typer.Option("--since", help="first seen on/after (date)")]
UntilOption = Annotated[str | None, typer.Option("--until", help="first seen on/before (date)")]
FindingOption = Annotated[list[int] | None, typer.Option("--finding", help="finding id(s)")]


def register(app: typer.Typer) -> None:
    """Add the loop's commands to the main application."""
    app.add_typer(batch_app, name="batch")
    app.command("verify")(verify)
    app.command("remind")(remind)
    app.command("escalation")(escalation)


def _actor(ws: Workspace, username: str) -> User:
    from sqlalchemy import select

    from longpan.store.models import User

    with ws.sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"--user: no platform user {username!r} (create one: longpan user add)")
    return user


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def _filters(
    types: list[str] | None,
    severities: list[str] | None,
    orgs: list[str] | None,
    cities: list[str] | None,
    since: str | None,
    until: str | None,
    findings: list[int] | None,
) -> FindingFilter:
    from longpan.cases.selection import FindingFilter

    return FindingFilter(
        types=tuple(types or ()),
        severities=tuple(severities or ()),
        organisations=tuple(orgs or ()),
        cities=tuple(cities or ()),
        first_seen_from=_date(since, "--since"),
        first_seen_to=_date(until, "--until"),
        finding_ids=tuple(findings or ()),
    )


@batch_app.command("preview")
@handle_errors
def preview(
    user: UserOption,
    type_: TypeOption = None,
    severity: SeverityOption = None,
    org: OrgOption = None,
    city: CityOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    finding: FindingOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show which findings a batch with these filters would send, by organisation."""
    from longpan.cases.batches import preview_batch

    ws = workspace()
    filters = _filters(type_, severity, org, city, since, until, finding)
    result = preview_batch(ws, _actor(ws, user), filters)
    if json_out:
        print_json(asdict(result))
        return
    print_table(
        "批次预览 (batch preview)",
        ("organisation", "uscc", "findings"),
        ((g.name, g.uscc, len(g.findings)) for g in result.groups),
    )
    out.print(f"无法通报 (unaddressable): {len(result.unaddressable)}")
    out.print(f"已在办 (held): {len(result.held)}")


@batch_app.command("create")
@handle_errors
def create(
    user: UserOption,
    title: Annotated[str, typer.Option(help="e.g. 2024年第5批网络安全通报")],
    number: Annotated[str, typer.Option(help="文号 document number")],
    office: Annotated[str, typer.Option(help="issuing office, e.g. 江苏省通信管理局")],
    deadline_days: Annotated[int, typer.Option(help="working days to rectify")] = 10,
    type_: TypeOption = None,
    severity: SeverityOption = None,
    org: OrgOption = None,
    city: CityOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    finding: FindingOption = None,
    json_out: JsonOption = False,
) -> None:
    """Create a draft batch (one notice per responsible organisation)."""
    from longpan.cases.batches import create_batch

    ws = workspace()
    batch = create_batch(
        ws,
        _actor(ws, user),
        title=title,
        document_number=number,
        filters=_filters(type_, severity, org, city, since, until, finding),
        deadline_days=deadline_days,
        issuing_office=office,
    )
    _print_batch(batch, json_out)


@batch_app.command("approve")
@handle_errors
def approve(batch_id: int, user: UserOption, json_out: JsonOption = False) -> None:
    """Approve a draft batch (a supervisor other than its creator)."""
    from longpan.cases.batches import approve_batch

    ws = workspace()
    _print_batch(approve_batch(ws, _actor(ws, user), batch_id), json_out)


@batch_app.command("issue")
@handle_errors
def issue(batch_id: int, user: UserOption, json_out: JsonOption = False) -> None:
    """Issue an approved batch: deadlines, PDF and Excel, findings → notified."""
    from longpan.cases.batches import issue_batch

    ws = workspace()
    _print_batch(issue_batch(ws, _actor(ws, user), batch_id), json_out)


@batch_app.command("cancel")
@handle_errors
def cancel(
    batch_id: int,
    user: UserOption,
    reason: Annotated[str, typer.Option(help="why the batch is withdrawn")],
    json_out: JsonOption = False,
) -> None:
    """Cancel a batch that was not issued yet."""
    from longpan.cases.batches import cancel_batch

    ws = workspace()
    _print_batch(cancel_batch(ws, _actor(ws, user), batch_id, reason=reason), json_out)


@batch_app.command("list")
@handle_errors
def list_(user: UserOption, json_out: JsonOption = False) -> None:
    """List batches, newest first."""
    from longpan.cases.batches import list_batches

    ws = workspace()
    batches = list_batches(ws, _actor(ws, user))
    if json_out:
        print_json([asdict(b) for b in batches])
        return
    print_table(
        "通报批次 (batches)",
        ("id", "title", "document_number", "status", "notices", "findings"),
        (
            (b.id, b.title, b.document_number, b.status, b.notice_count, b.finding_count)
            for b in batches
        ),
    )


def _print_batch(batch: BatchView, json_out: bool) -> None:
    if json_out:
        print_json(asdict(batch))
        return
    out.print(
        f"批次 #{batch.id} {batch.title} ({batch.document_number}): {batch.status}; "
        f"{batch.notice_count} notices, {batch.finding_count} findings"
    )
    for notice in batch.notices:
        deadline = notice.deadline.isoformat() if notice.deadline else "-"
        out.print(f"  {notice.number}  {notice.organisation_name}  {notice.item_count}  {deadline}")


@handle_errors
def verify(user: UserOption, json_out: JsonOption = False) -> None:
    """Verify every rectified answer still waiting: re-run its detector on its subject."""
    from longpan.cases.verify import verify_pending

    ws = workspace()
    results = verify_pending(ws, _actor(ws, user))
    if json_out:
        print_json([asdict(r) for r in results])
        return
    for r in results:
        out.print(f"复核 verification #{r.id}: finding {r.finding_id} → {r.outcome}")
    out.print(f"{len(results)} verified")


@handle_errors
def remind(user: UserOption, json_out: JsonOption = False) -> None:
    """Send reminders for overdue notices (in the app; by email when SMTP is set)."""
    from longpan.cases.escalation import send_reminders

    ws = workspace()
    report = send_reminders(ws, _actor(ws, user), address=None)
    if json_out:
        print_json(asdict(report))
        return
    out.print(
        f"催办 reminders: {report.notices} notices, {report.in_app} in-app, "
        f"{report.emails_sent} emails sent, {len(report.email_errors)} email errors"
    )
    for problem in report.email_errors:
        out.print(f"  [red]{problem}[/]", highlight=False)


@handle_errors
def escalation(user: UserOption, json_out: JsonOption = False) -> None:
    """List overdue notices, most overdue first (督办清单)."""
    from longpan.cases.escalation import escalation_list

    ws = workspace()
    rows = escalation_list(ws, _actor(ws, user))
    if json_out:
        print_json([asdict(r) for r in rows])
        return
    print_table(
        "督办清单 (escalation list)",
        ("number", "organisation", "deadline", "days_overdue", "items", "reminders"),
        (_escalation_row(asdict(r)) for r in rows),
    )


def _escalation_row(r: dict[str, Any]) -> list[str]:
    return [
        r["number"],
        r["organisation_name"],
        r["deadline"].isoformat(),
        str(r["days_overdue"]),
        str(r["overdue_items"]),
        str(r["reminders_sent"]),
    ]
