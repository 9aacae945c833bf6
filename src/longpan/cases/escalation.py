"""Escalation (督办): overdue notices, reminders in the app and by email, the list
supervisors work from.

A notice is overdue when one of its items is past its deadline while the enterprise
still owes an answer (finding ``notified`` or ``reopened``); items waiting for the
regulator (a dispute, a verification) do not count against the enterprise. Reminders
go at most once a day per notice. Emails are sent after the reminders are committed,
and each email's outcome (sent or the SMTP error) is stored on its reminder, so a mail
server outage never loses the in-app reminders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from longpan.cases.access import READERS, STAFF, Actor, get_or_404, load_actor, require_role
from longpan.cases.deadlines import CHINA, local_today
from longpan.cases.mail import Mailer, smtp_mailer
from longpan.cases.notices import is_overdue
from longpan.core.errors import NotFoundError
from longpan.store.db import audit, transaction
from longpan.store.models import Batch, Finding, Notice, NoticeItem, Organisation, Reminder, User
from longpan.store.workspace import Workspace


@dataclass(frozen=True)
class OverdueNotice:
    notice_id: int
    number: str
    batch_title: str
    organisation_id: int
    organisation_uscc: str
    organisation_name: str
    deadline: date
    days_overdue: int
    overdue_items: int
    reminders_sent: int
    last_reminded_at: datetime | None


@dataclass(frozen=True)
class ReminderView:
    id: int
    notice_id: int
    channel: str
    recipient: str
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None
    read_at: datetime | None
    error: str | None


@dataclass
class ReminderReport:
    notices: int = 0
    in_app: int = 0
    emails_sent: int = 0
    email_errors: list[str] = field(default_factory=list)


def _overdue(session: Session, today: date) -> list[OverdueNotice]:
    rows = session.execute(
        select(NoticeItem, Finding, Notice, Batch, Organisation)
        .join(Finding, Finding.id == NoticeItem.finding_id)
        .join(Notice, Notice.id == NoticeItem.notice_id)
        .join(Batch, Batch.id == Notice.batch_id)
        .join(Organisation, Organisation.id == Notice.organisation_id)
        .where(Notice.status == "issued", NoticeItem.outcome.is_(None), NoticeItem.deadline < today)
    )
    late: dict[int, list[tuple[NoticeItem, Notice, Batch, Organisation]]] = {}
    for item, finding, notice, batch, org in rows:
        if is_overdue(item, finding, today):
            late.setdefault(notice.id, []).append((item, notice, batch, org))
    found = [_overdue_notice(entries, today) for entries in late.values()]
    return sorted(found, key=lambda o: (-o.days_overdue, o.number))


def _overdue_notice(
    entries: list[tuple[NoticeItem, Notice, Batch, Organisation]], today: date
) -> OverdueNotice:
    _item, notice, batch, org = entries[0]
    earliest = min(i.deadline for i, *_rest in entries if i.deadline is not None)
    return OverdueNotice(
        notice_id=notice.id,
        number=notice.number,
        batch_title=batch.title,
        organisation_id=org.id,
        organisation_uscc=org.uscc,
        organisation_name=org.name,
        deadline=earliest,
        days_overdue=(today - earliest).days,
        overdue_items=len(entries),
        reminders_sent=notice.reminder_count,
        last_reminded_at=notice.last_reminded_at,
    )


def escalation_list(
    ws: Workspace, actor: Actor, *, today: date | None = None
) -> list[OverdueNotice]:
    """Overdue notices, most overdue first (regulator staff and auditors)."""
    with ws.sessions() as session:
        require_role(load_actor(session, actor), READERS, "查看督办清单 (read the escalation list)")
        return _overdue(session, today or local_today(ws.clock))


def send_reminders(
    ws: Workspace,
    actor: Actor,
    *,
    address: str | None = None,
    today: date | None = None,
    mailer: Mailer | None = None,
) -> ReminderReport:
    """Remind the users of every overdue notice (once a day per notice)."""
    day = today or local_today(ws.clock)
    mailer = mailer or smtp_mailer(ws.settings)
    report = ReminderReport()
    with transaction(ws.sessions) as session:
        user = load_actor(session, actor)
        require_role(user, STAFF, "发送催办 (send reminders)")
        for overdue in _overdue(session, day):
            if _reminded_on(overdue.last_reminded_at, day):
                continue
            _remind(session, ws, overdue, mailer is not None, report)
            audit(
                session,
                actor=user.username,
                action="reminder.sent",
                object_type="notice",
                object_id=str(overdue.notice_id),
                details={"days_overdue": overdue.days_overdue, "items": overdue.overdue_items},
                address=address,
                clock=ws.clock,
            )
    if mailer is not None:
        _send_emails(ws, mailer, report)
    return report


def _reminded_on(last: datetime | None, day: date) -> bool:
    return last is not None and last.astimezone(CHINA).date() == day


def _remind(
    session: Session, ws: Workspace, overdue: OverdueNotice, email: bool, report: ReminderReport
) -> None:
    now = ws.clock()
    notice = session.get_one(Notice, overdue.notice_id)
    notice.last_reminded_at, notice.reminder_count = now, notice.reminder_count + 1
    subject, body = _message(overdue)
    users = session.scalars(
        select(User).where(
            User.organisation_id == overdue.organisation_id,
            User.role == "enterprise",
            User.is_active.is_(True),
        )
    )
    for user in users:
        base = {"notice_id": notice.id, "user_id": user.id, "subject": subject, "body": body}
        session.add(
            Reminder(**base, channel="app", recipient=user.username, created_at=now, sent_at=now)
        )
        report.in_app += 1
        if email and user.email:
            session.add(Reminder(**base, channel="email", recipient=user.email, created_at=now))
    report.notices += 1


def _message(overdue: OverdueNotice) -> tuple[str, str]:
    subject = f"【督办】{overdue.number} 已逾期 {overdue.days_overdue} 天"
    body = (
        f"{overdue.organisation_name}：\n\n"
        f"贵单位收到的通报《{overdue.batch_title}》（{overdue.number}）中有 "
        f"{overdue.overdue_items} 条线索已超过整改期限（{overdue.deadline.isoformat()}），"
        f"逾期 {overdue.days_overdue} 天。请尽快登录龙磐平台反馈整改情况。\n\n"
        f"Notice {overdue.number}: {overdue.overdue_items} finding(s) are "
        f"{overdue.days_overdue} day(s) past the deadline {overdue.deadline.isoformat()}. "
        "Please answer them on the Longpan platform.\n"
    )
    return subject, body


def _send_emails(ws: Workspace, mailer: Mailer, report: ReminderReport) -> None:
    with transaction(ws.sessions) as session:
        waiting = session.scalars(
            select(Reminder).where(
                Reminder.channel == "email", Reminder.sent_at.is_(None), Reminder.error.is_(None)
            )
        )
        for reminder in waiting:
            error = mailer(reminder.recipient, reminder.subject, reminder.body)
            if error is None:
                reminder.sent_at = ws.clock()
                report.emails_sent += 1
            else:
                reminder.error = error
                report.email_errors.append(f"{reminder.recipient}: {error}")


def my_reminders(ws: Workspace, actor: Actor, *, unread_only: bool = False) -> list[ReminderView]:
    """The actor's in-app reminders, newest first."""
    with ws.sessions() as session:
        user = load_actor(session, actor)
        query = select(Reminder).where(Reminder.user_id == user.id, Reminder.channel == "app")
        if unread_only:
            query = query.where(Reminder.read_at.is_(None))
        return [_view(r) for r in session.scalars(query.order_by(Reminder.id.desc()))]


def mark_reminder_read(
    ws: Workspace, actor: Actor, reminder_id: int, *, address: str | None = None
) -> ReminderView:
    with transaction(ws.sessions) as session:
        user = load_actor(session, actor)
        reminder = get_or_404(session, Reminder, reminder_id, "提醒 reminder")
        if reminder.user_id != user.id or reminder.channel != "app":
            raise NotFoundError(f"提醒 {reminder_id} 不存在 (reminder not found)")
        if reminder.read_at is None:
            reminder.read_at = ws.clock()
            audit(
                session,
                actor=user.username,
                action="reminder.read",
                object_type="reminder",
                object_id=str(reminder.id),
                address=address,
                clock=ws.clock,
            )
        return _view(reminder)


def _view(r: Reminder) -> ReminderView:
    return ReminderView(
        r.id,
        r.notice_id,
        r.channel,
        r.recipient,
        r.subject,
        r.body,
        r.created_at,
        r.sent_at,
        r.read_at,
        r.error,
    )
