"""Escalation: overdue notices, in-app reminders, email through a real local SMTP
server (aiosmtpd on 127.0.0.1), at most one reminder a day per notice."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from longpan.cases.access import ForbiddenError
from longpan.cases.answers import submit_answer
from longpan.cases.escalation import (
    escalation_list,
    mark_reminder_read,
    my_reminders,
    send_reminders,
)
from longpan.cases.notices import get_notice, list_notices
from longpan.cases.selection import FindingFilter
from longpan.core.errors import NotFoundError
from longpan.store.workspace import Workspace
from tests.cases.conftest import ORG_A, People, audit_actions, issued_batch, set_clock

Seeded = tuple[Workspace, People, dict[str, int]]
AFTER_DEADLINE = datetime(2025, 1, 20, 2, 0, tzinfo=UTC)  # deadline was 2025-01-15


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def _with_smtp(ws: Workspace, port: int) -> Workspace:
    settings = ws.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": "longpan@gov.test"}
    )
    return Workspace(settings, clock=ws.clock)


def test_nothing_is_overdue_before_the_deadline(seeded: Seeded) -> None:
    ws, people, _ids = seeded
    issued_batch(ws, people, FindingFilter())
    assert escalation_list(ws, people.supervisor) == []
    assert send_reminders(ws, people.analyst).notices == 0


def test_overdue_notices_get_reminders_in_app_and_by_email(
    seeded: Seeded, smtp: tuple[Inbox, int]
) -> None:
    ws, people, _ids = seeded
    inbox, port = smtp
    issued_batch(ws, people, FindingFilter())
    # ORG_B answers in time; ORG_A does not.
    [b] = list_notices(ws, people.ent_b)
    [item] = get_notice(ws, people.ent_b, b.id).items
    submit_answer(ws, people.ent_b, item.id, kind="disputed", text="不属于我司")

    set_clock(ws, AFTER_DEADLINE)
    [overdue] = escalation_list(ws, people.supervisor)
    assert (overdue.organisation_uscc, overdue.overdue_items) == (ORG_A[0], 2)
    assert overdue.days_overdue == 5  # 15 → 20 January
    [a] = list_notices(ws, people.ent_a, overdue=True)
    assert a.overdue and a.id == overdue.notice_id

    mailing = _with_smtp(ws, port)
    report = send_reminders(mailing, people.analyst, address="10.0.0.1")
    mailing.close()
    assert (report.notices, report.in_app, report.emails_sent, report.email_errors) == (1, 1, 1, [])

    [(sender, recipients, raw)] = inbox.messages
    assert sender == "longpan@gov.test" and recipients == ["ent_a@example.test"]
    message = message_from_bytes(raw)
    assert "已逾期 5 天" in str(make_header(decode_header(message["Subject"])))
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes) and "2 条线索已超过整改期限" in body.decode("utf-8")

    [reminder] = my_reminders(ws, people.ent_a, unread_only=True)
    assert my_reminders(ws, people.ent_b) == []
    with pytest.raises(NotFoundError):
        mark_reminder_read(ws, people.ent_b, reminder.id)
    assert mark_reminder_read(ws, people.ent_a, reminder.id).read_at is not None
    assert my_reminders(ws, people.ent_a, unread_only=True) == []
    assert ("ana", "reminder.sent", "10.0.0.1") in audit_actions(ws)

    # Once a day: a second run the same day sends nothing; the next day it does.
    assert send_reminders(ws, people.analyst).notices == 0
    set_clock(ws, AFTER_DEADLINE.replace(day=21))
    assert send_reminders(ws, people.analyst).notices == 1
    [listed] = escalation_list(ws, people.auditor)
    assert listed.reminders_sent == 2


def test_an_smtp_failure_is_recorded_not_raised(seeded: Seeded) -> None:
    ws, people, _ids = seeded
    issued_batch(ws, people, FindingFilter(organisations=(ORG_A[0],)))
    set_clock(ws, AFTER_DEADLINE)
    nobody_listens = _with_smtp(ws, _free_port())
    report = send_reminders(nobody_listens, people.analyst)
    nobody_listens.close()
    assert report.in_app == 1 and report.emails_sent == 0
    assert len(report.email_errors) == 1 and "ent_a@example.test" in report.email_errors[0]
    assert len(my_reminders(ws, people.ent_a)) == 1  # the in-app reminder is kept


def test_only_staff_send_reminders_and_enterprises_see_no_escalation_list(
    seeded: Seeded,
) -> None:
    ws, people, _ids = seeded
    for someone in (people.auditor, people.ent_a):
        with pytest.raises(ForbiddenError):
            send_reminders(ws, someone)
    with pytest.raises(ForbiddenError):
        escalation_list(ws, people.ent_a)
