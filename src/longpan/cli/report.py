"""``longpan report``: accuracy rates, counts and filing statistics."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from longpan.cli.common import handle_errors, out, print_json, print_table, workspace


@handle_errors
def report(
    json_out: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
    seed: Annotated[int, typer.Option(help="seed of the accuracy sample")] = 0,
    engine: Annotated[str | None, typer.Option(help="duckdb or spark")] = None,
) -> None:
    """Print ICP/IP filing accuracy (census and sampled), finding counts, filing statistics."""
    from longpan.metrics.report import build_report

    figures = build_report(workspace(), engine=engine, seed=seed)
    if json_out:
        print_json(figures)
        return
    for key, title in (
        ("icp_accuracy", "ICP备案准确率 (ICP-filing accuracy)"),
        ("ip_accuracy", "IP地址备案准确率 (IP-filing accuracy)"),
    ):
        _print_accuracy(title, figures[key])
        _print_providers(title, figures[key]["by_provider"])
    counts = figures["counts"]
    _print_rows("线索数量 按类型 (findings by type)", counts["by_type"], ("title", "type", "count"))
    _print_rows("按地市 (by city)", counts["by_city"], ("city", "count"))
    _print_rows(
        "按注册服务机构 (by registrar)", counts["by_registrar"][:15], ("registrar", "count")
    )
    _print_rows(
        "按责任单位 (by responsible organisation)",
        [_named(r) for r in counts["by_provider"][:SHOWN]],
        ("name", "uscc", "type", "count"),
    )
    _print_rows(
        "备案统计 (filings by service type)",
        figures["filings"]["services"],
        ("service_type", "status", "count"),
    )
    _print_loop(figures["loop"])


LOOP_COLUMNS = (
    "organisations_notified",
    "batches",
    "findings_notified",
    "findings_handled",
    "closure_rate",
    "overdue",
    "overdue_rate",
    "median_days_to_close",
)


def _print_loop(loop: dict[str, Any]) -> None:
    """The closed-loop figures (闭环): overall, then by type, organisation and batch."""
    _print_rows("通报闭环 (closed loop)", [loop["overall"]], LOOP_COLUMNS)
    _print_rows("闭环 按类型 (by type)", loop["by_type"], ("title", "type", *LOOP_COLUMNS[2:]))
    _print_rows(
        "闭环 按责任单位 (by organisation)",
        loop["by_organisation"][:30],
        ("name", "uscc", *LOOP_COLUMNS[2:]),
    )
    _print_rows(
        "闭环 按批次 (by batch)", loop["by_batch"], ("title", "document_number", *LOOP_COLUMNS[2:])
    )


def _print_accuracy(title: str, figures: dict[str, Any]) -> None:
    census, sampled = figures["census"], figures["sampled"]
    low, high = sampled["ci95"]
    out.print(
        f"[bold]{title}[/]: 普查 census {census['rate']:.2%} "
        f"({census['accurate']:,}/{census['records']:,}); 抽样 sampled "
        f"{sampled['estimate']:.2%} (95% CI {low:.2%}–{high:.2%}, "
        f"n={sampled['sampled']:,})"
    )


SHOWN = 30  # rows of a long table printed (--json has them all)
PROVIDER_COLUMNS = (
    "name", "uscc", "records", "accurate", "rate", "sampled", "sample_rate", "ci95",
)  # fmt: skip


def _print_providers(title: str, rows: list[dict[str, Any]]) -> None:
    """Each access provider's accuracy, the least accurate first (a star rating's view)."""
    worst = sorted(rows, key=lambda r: (r["rate"], r["sample_rate"], r["uscc"]))
    more = f", {SHOWN} / {len(rows)}" if len(rows) > SHOWN else ""
    shown = [
        {
            **_named(r),
            "rate": f"{r['rate']:.2%}",
            "sample_rate": f"{r['sample_rate']:.2%}",
            "ci95": "{:.1%}–{:.1%}".format(*r["ci95"]),
        }
        for r in worst[:SHOWN]
    ]
    _print_rows(f"{title} 按接入商 (by access provider{more})", shown, PROVIDER_COLUMNS)


def _named(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with a name to show when no organisation is known for it."""
    if row.get("name"):
        return row
    unnamed = "未归属 (unattributed)" if row.get("uscc") is None else "未登记 (unknown)"
    return {**row, "name": unnamed}


def _print_rows(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    print_table(title, columns, ([row.get(c) for c in columns] for row in rows), right={"count"})
