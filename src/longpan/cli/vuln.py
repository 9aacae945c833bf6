"""``longpan vuln …``: CVE feeds, scanner imports and the assets nobody can assess."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from longpan.cli.common import handle_errors, out, print_json, workspace

if TYPE_CHECKING:  # the vulnerability services are imported by the commands (fast --help)
    from longpan.vuln.feeds import FeedImport
    from longpan.vuln.service import Rematch

app = typer.Typer(
    name="vuln",
    help="高危漏洞 vulnerability alerts: NVD/KEV feeds, scanner imports, matching",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
EngineOption = Annotated[str | None, typer.Option(help="duckdb or spark (default: LONGPAN_ENGINE)")]


@app.command("import-nvd")
@handle_errors
def import_nvd_command(
    paths: Annotated[
        list[Path], typer.Argument(help="NVD CVE API 2.0 JSON: records, pages or folders")
    ],
    engine: EngineOption = None,
    json_out: JsonOption = False,
) -> None:
    """Import NVD CVE records (newer lastModified wins) and re-match the changed CVEs."""
    from longpan.vuln.service import import_nvd_and_rematch

    feed, rematch = import_nvd_and_rematch(workspace(), paths, engine=engine)
    _report(feed, rematch, json_out)


@app.command("import-kev")
@handle_errors
def import_kev_command(
    file: Annotated[Path, typer.Argument(help="CISA known_exploited_vulnerabilities.json")],
    engine: EngineOption = None,
    json_out: JsonOption = False,
) -> None:
    """Import the CISA KEV catalogue and re-match the CVEs it adds or drops."""
    from longpan.vuln.service import import_kev_and_rematch

    feed, rematch = import_kev_and_rematch(workspace(), file, engine=engine)
    _report(feed, rematch, json_out)


@app.command("import-scan")
@handle_errors
def import_scan_command(
    file: Annotated[Path, typer.Argument(help="nmap XML (-sV) or nuclei JSONL")],
    org: Annotated[str, typer.Option("--org", help="统一社会信用代码 of the unit scanned")],
    engine: EngineOption = None,
    json_out: JsonOption = False,
) -> None:
    """Import a scan as the unit's assets (validated as by longpan ingest) and match them."""
    from longpan.vuln.service import import_scan_and_rematch

    report, count, rematch = import_scan_and_rematch(workspace(), file, org, engine=engine)
    data = {
        "file": str(file),
        "services": count,
        "changed": report.changed,
        "snapshot": next((t.snapshot for t in report.tables if t.snapshot), None),
        **_rematch_json(rematch),
    }
    if json_out:
        print_json(data)
        return
    state = "已入湖 ingested" if report.changed else "未变化 unchanged"
    out.print(f"{file}: {count} 个服务 services, {state}")
    _print_rematch(rematch)


@app.command("unassessed")
@handle_errors
def unassessed_command(engine: EngineOption = None, json_out: JsonOption = False) -> None:
    """Assets with CVEs for their product whose version cannot be compared."""
    from longpan.vuln.matching import unassessed

    ws = workspace()
    rows = unassessed(ws.analytics(engine))
    if json_out:
        print_json(rows)
        return
    for row in rows:
        out.print(
            f"{row['subject']}  {row['product'] or row['cpe']} {row['version'] or ''}: "
            f"{row['problem']} ({row['cves']} CVE)"
        )
    out.print(f"无法评估 unassessed: {len(rows)}")


def _report(feed: FeedImport, rematch: Rematch, json_out: bool) -> None:
    data = {
        "source": feed.source,
        "read": feed.read,
        "new": feed.new,
        "updated": feed.updated,
        "ignored": feed.ignored,
        "snapshot": feed.snapshot,
        **_rematch_json(rematch),
    }
    if json_out:
        print_json(data)
        return
    out.print(
        f"读取 read {feed.read}, 新增 new {len(feed.new)}, 更新 updated {len(feed.updated)}, "
        f"忽略 ignored {feed.ignored}"
    )
    _print_rematch(rematch)


def _rematch_json(rematch: Rematch) -> dict[str, Any]:
    run = rematch.run
    return {
        "rematched_subjects": rematch.subjects,
        "run": None
        if run is None
        else {"id": run.run_id, "status": run.status, "counts": run.counts, "errors": run.errors},
    }


def _print_rematch(rematch: Rematch) -> None:
    if rematch.run is None:
        out.print("无需重新匹配 nothing to re-match")
        return
    counts = rematch.run.counts.get("vulnerable_asset", {})
    out.print(
        f"重新匹配 re-matched {rematch.subjects} 个对象 subjects: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    if rematch.run.errors:
        raise typer.Exit(1)
