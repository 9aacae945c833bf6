"""Commands for accounts: ``longpan user add`` and ``longpan user list``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from longpan.cli.common import handle_errors, out, print_json, print_table, workspace
from longpan.core.errors import InputError

if TYPE_CHECKING:  # accounts (argon2, the database) are imported by the commands
    from longpan.accounts.users import Account

app = typer.Typer(name="user", help="用户管理 (platform accounts).", no_args_is_help=True)


def _read_password() -> str:
    """One line from stdin when it is not a terminal (scripts); else prompt twice."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InputError("no password on standard input", column="password")
        return line
    return str(typer.prompt("密码 (password)", hide_input=True, confirmation_prompt=True))


@app.command("add")
@handle_errors
def add(
    username: Annotated[str, typer.Option(help="login name (3-64 letters, digits, . _ @ -)")],
    role: Annotated[str, typer.Option(help="admin, supervisor, analyst, enterprise or auditor")],
    org: Annotated[
        str | None, typer.Option(help="统一社会信用代码 of the organisation (enterprise users)")
    ] = None,
    name: Annotated[str, typer.Option(help="display name")] = "",
    email: Annotated[str | None, typer.Option(help="email address for reminders")] = None,
) -> None:
    """Create a user; the password is read from stdin (not a TTY) or prompted twice."""
    from longpan.accounts.users import check_new_user, create_user

    check_new_user(username, role, org)  # before asking for a password
    ws = workspace()
    password = _read_password()
    with ws.sessions() as session, session.begin():
        account = create_user(
            session,
            username=username,
            role=role,
            password=password,
            actor="system:cli",
            org_uscc=org,
            display_name=name,
            email=email,
            clock=ws.clock,
        )
    out.print(f"已创建用户 (user created): {account.username} ({account.role})")


def _json(account: Account) -> dict[str, object]:
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "organisation_uscc": account.organisation_uscc,
        "organisation_name": account.organisation_name,
        "email": account.email,
        "is_active": account.is_active,
        "created_at": account.created_at,
    }


@app.command("list")
@handle_errors
def list_(json_out: Annotated[bool, typer.Option("--json", help="print as JSON")] = False) -> None:
    """List the platform's users."""
    from longpan.accounts.users import list_users

    ws = workspace()
    with ws.sessions() as session:
        accounts = list_users(session)
    if json_out:
        print_json([_json(a) for a in accounts])
        return
    print_table(
        None,
        ("用户名 username", "角色 role", "单位 organisation", "启用 active"),
        (
            (a.username, a.role, _organisation(a), "是 yes" if a.is_active else "否 no")
            for a in accounts
        ),
    )


def _organisation(a: Account) -> str:
    return f"{a.organisation_uscc} {a.organisation_name or ''}" if a.organisation_uscc else ""
