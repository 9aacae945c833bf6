"""Commands for the stores and the resource graph: init, ingest, show."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text
from rich.tree import Tree

from longpan.cli.common import (
    handle_errors,
    out,
    print_json,
    print_table,
    progress_bar,
    t,
    workspace,
)

if TYPE_CHECKING:  # the stores are imported by the commands that use them (fast --help)
    from longpan.resources.ingest import IngestReport


@handle_errors
def init() -> None:
    """Create the data folder (LONGPAN_HOME) and the database schema. Safe to rerun."""
    ws = workspace()
    out.print(
        f"{t('initialised')}: {ws.settings.home.resolve()}  "
        f"({ws.db.url.render_as_string(hide_password=True)})"
    )


@handle_errors
def ingest(
    folder: Annotated[Path, typer.Argument(help="folder of exchange-format CSV or Parquet files")],
    strict: Annotated[
        bool,
        typer.Option(
            "--strict/--skip-bad",
            help="--strict: write nothing if any row is bad; --skip-bad: write the good rows "
            "and put the bad ones in a rejects file",
        ),
    ] = True,
    json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Validate a folder of exchange-format files and write lake snapshots."""
    from longpan.resources.ingest import find_table_files, ingest_folder

    ws = workspace()
    files, _ = find_table_files(folder)
    with progress_bar("ingest", len(files), enabled=not json_out) as step:
        report = ingest_folder(ws, folder, mode="strict" if strict else "skip-bad", progress=step)
    if json_out:
        print_json(_report_json(report))
    else:
        _print_report(report)


def _report_json(report: IngestReport) -> dict[str, Any]:
    return {
        "folder": report.folder,
        "changed": report.changed,
        "tables": [vars(r) for r in report.tables],
        "ignored": report.ignored,
        "rejects_dir": report.rejects_dir,
    }


def _print_report(report: IngestReport) -> None:
    status = {"written": t("ingested")}
    rows = [
        (r.table, status.get(r.status, t("unchanged")), r.rows, r.rejected, r.snapshot)
        for r in report.tables
    ]
    columns = ("table", "status", "rows", "rejected", "snapshot")
    print_table(f"{t('ingested')}: {report.folder}", columns, rows)
    if report.rejects_dir:
        out.print(f"{t('rejects')}: {report.rejects_dir}")
    if report.ignored:
        out.print(f"{t('not_ingested')}: {', '.join(report.ignored)}", highlight=False)
    for bundle in _stix_bundles(Path(report.folder), report.ignored):
        out.print(f"{t('stix_hint')}: longpan threat import-stix {bundle}", highlight=False)


def _stix_bundles(folder: Path, ignored: list[str]) -> list[Path]:
    """The STIX bundles (``*.stix.json``) among the entries ingest left out, or in them."""
    found: list[Path] = []
    for entry in (folder / name for name in ignored):
        found += sorted(entry.rglob("*.stix.json")) if entry.is_dir() else [entry]
    return [p for p in found if p.name.endswith(".stix.json")]


@handle_errors
def show(
    subject: Annotated[
        str, typer.Argument(help="a domain, IP, IP range (a-b), ICP number or 统一社会信用代码")
    ],
    json_out: Annotated[
        bool, typer.Option("--json", help="print the neighbourhood as JSON")
    ] = False,
) -> None:
    """Show a subject's neighbourhood in the resource graph and who is responsible."""
    from longpan.detect.store import jsonable
    from longpan.resources.graph import neighbourhood

    ws = workspace()
    graph = jsonable(neighbourhood(ws.analytics(), subject))
    if json_out:
        print_json(graph)
        return
    out.print(_tree(f"{graph['subject']}  ({graph['kind']})", graph), soft_wrap=False)


def _tree(label: str, graph: dict[str, Any]) -> Tree:
    tree = Tree(Text(label, style="bold"))
    responsible = graph.get("responsible")
    if responsible:
        tree.add(
            Text(
                f"{t('responsible')}: {responsible['uscc']} {responsible['name'] or ''} "
                f"— {responsible['reason']}"
            )
        )
    for key, value in graph.items():
        if key in ("subject", "kind", "responsible") or value in (None, [], {}):
            continue
        _add(tree, key, value)
    return tree


def _label(key: str, text: str) -> Text:
    """A tree label: the key highlighted, the data as plain text (never read as markup)."""
    label = Text(key, style="cyan") if key else Text()
    return label.append(f" {text}" if key and text else text)


def _add(tree: Tree, key: str, value: Any) -> None:
    if isinstance(value, list):
        branch = tree.add(_label(key, f"({len(value)})"))
        for item in value:
            if isinstance(item, dict | list):
                _add(branch, "", item)
            else:
                branch.add(Text(str(item)))
    elif isinstance(value, dict):
        text = ", ".join(
            f"{k}={v}"
            for k, v in value.items()
            if v not in (None, [], {}) and not isinstance(v, dict | list)
        )
        branch = tree.add(_label(key, text))
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                _add(branch, k, v)
    else:
        tree.add(_label(key, f": {value}"))
