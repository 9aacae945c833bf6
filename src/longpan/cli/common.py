"""What every command shares: the workspace, consoles, JSON output, error handling."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from longpan.core.errors import LongpanError

if TYPE_CHECKING:  # settings (pydantic) and stores load when a command runs (fast --help)
    from longpan.core.settings import Settings
    from longpan.store.workspace import Workspace

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

LABELS: dict[str, tuple[str, str]] = {
    "error": ("错误", "error"),
    "type": ("类型 type", "type"),
    "severity": ("级别 severity", "severity"),
    "status": ("状态 status", "status"),
    "count": ("数量 count", "count"),
    "subject": ("对象 subject", "subject"),
    "responsible": ("责任单位 responsible", "responsible"),
    "findings_summary": ("线索汇总 (findings summary)", "Findings summary"),
    "no_findings": ("暂无线索 (no findings)", "no findings"),
    "ingested": ("已入湖 (ingested)", "ingested"),
    "unchanged": ("未变化，跳过 (unchanged, skipped)", "unchanged, skipped"),
    "rejects": ("错误行已写入 (bad rows written to)", "bad rows written to"),
    "run": ("检测运行 (detection run)", "detection run"),
    "initialised": ("已初始化 (initialised)", "initialised"),
    "not_ingested": ("未入湖 (not tables, left out)", "not tables, left out"),
    "stix_hint": (
        "威胁情报 (STIX) 不随 ingest 入湖，另行导入 (threat indicators are imported apart)",
        "threat indicators (STIX) are imported apart",
    ),
    "missing_inputs": ("未入湖的输入 missing inputs", "missing inputs"),
    "missing_inputs_note": (
        "缺少输入的类型无从发现，召回率不可信：先导入其数据（威胁情报、漏洞库等，见 "
        "docs/synth.md）再检测。(Types with missing inputs cannot be found: import their "
        "data first — indicators, vulnerability records; see docs/synth.md.)",
        "Types with missing inputs cannot be found: import their data first (threat "
        "indicators, vulnerability records; see docs/synth.md), then detect again.",
    ),
}


def lang() -> str:
    """The configured UI language (LONGPAN_LANG)."""
    from longpan.core.settings import get_settings

    return get_settings().lang


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    right: Collection[str] = (),
) -> None:
    """A rich table of ``rows`` under ``columns`` on stdout (cells shown as text, None as
    nothing; the ``right`` columns, counts, aligned right)."""
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    out.print(table)


def t(key: str) -> str:
    zh, en = LABELS[key]
    return zh if lang() == "zh" else en


# How ``workspace()`` builds the workspace from the settings: the Workspace class when
# None; tests set a factory to inject a clock.
workspace_factory: Callable[[Settings], Workspace] | None = None


def workspace() -> Workspace:
    """The workspace of the configured LONGPAN_HOME, schema brought up to date."""
    from longpan.core.settings import get_settings
    from longpan.store.workspace import Workspace  # the stores load when a command runs

    ws = (workspace_factory or Workspace)(get_settings())
    ws.init()
    return ws


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Report user mistakes (LongpanError) as a clear message and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except LongpanError as exc:
            err.print(f"[bold red]{t('error')}:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")


@contextmanager
def progress_bar(
    description: str, total: int, enabled: bool = True
) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr; yields a callback to call as each item starts."""
    if not (enabled and err.is_terminal):  # no bar in pipes, logs and CI
        yield lambda _item: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total, item="")
        started = False

        def step(item: str) -> None:
            nonlocal started
            if started:
                bar.advance(task)
            started = True
            bar.update(task, item=item)

        yield step
        bar.update(task, completed=total)


def parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 date or time") from None
