"""``longpan threat``: take in threat indicators (STIX files, TAXII collections) and
retro-hunt them in every unit's logs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from longpan.cli.common import handle_errors, lang, out, print_json, workspace

if TYPE_CHECKING:  # the feeds (stix2, taxii2-client) are imported by the commands
    from longpan.threat.feeds import FeedResult

app = typer.Typer(
    name="threat",
    help="威胁预警 threat warnings: STIX 2.1 / TAXII 2.1 indicators and retro-hunts.",
    no_args_is_help=True,
)

LABELS = {
    "imported": ("指标入湖 (indicators imported)", "indicators imported"),
    "hunt": ("回溯命中 (retro-hunt)", "retro-hunt"),
    "no_hits": ("回溯无命中 (no unit hit)", "no unit hit"),
    "units": ("个单位", "unit(s)"),
}


def _t(key: str) -> str:
    zh, en = LABELS[key]
    return zh if lang() == "zh" else en


Engine = Annotated[str | None, typer.Option(help="duckdb or spark (default: LONGPAN_ENGINE)")]
NoHunt = Annotated[bool, typer.Option("--no-hunt", help="import only, do not retro-hunt")]
Json = Annotated[bool, typer.Option("--json", help="print the result as JSON")]


@app.command("import-stix")
@handle_errors
def import_stix_command(
    paths: Annotated[list[Path], typer.Argument(help="STIX 2.1 JSON files or folders")],
    engine: Engine = None,
    no_hunt: NoHunt = False,
    json_out: Json = False,
) -> None:
    """Import STIX 2.1 bundles (files or folders) and retro-hunt the new indicators."""
    from longpan.threat.feeds import import_stix

    ws = workspace()
    try:
        result = import_stix(ws, paths, hunt=not no_hunt, engine=engine)
    finally:
        ws.close()
    _report(result, json_out)


@app.command("pull-taxii")
@handle_errors
def pull_taxii_command(
    url: Annotated[str, typer.Argument(help="discovery URL (…/taxii2/) or API root")],
    collection: Annotated[str, typer.Option("--collection", help="collection id")],
    user: Annotated[str | None, typer.Option(help="HTTP Basic user")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="TAXII_PASSWORD", help="HTTP Basic password")
    ] = None,
    token: Annotated[str | None, typer.Option(envvar="TAXII_TOKEN", help="bearer token")] = None,
    added_after: Annotated[
        str | None, typer.Option("--added-after", help="only objects added after this time")
    ] = None,
    engine: Engine = None,
    no_hunt: NoHunt = False,
    json_out: Json = False,
) -> None:
    """Pull a TAXII 2.1 collection (incrementally) and retro-hunt the new indicators."""
    from longpan.threat.feeds import pull_taxii
    from longpan.threat.taxii import Credentials

    if user and password is None:
        password = typer.prompt("password", hide_input=True)
    ws = workspace()
    try:
        result = pull_taxii(
            ws,
            url,
            collection,
            credentials=Credentials(user, password, token),
            added_after=added_after,
            hunt=not no_hunt,
            engine=engine,
        )
    finally:
        ws.close()
    _report(result, json_out)


def _as_json(result: FeedResult) -> dict[str, Any]:
    run = result.hunt.run
    return {
        "imported": result.imported.as_dict(),
        "files": result.files,
        "pages": result.pages,
        "added_after": result.added_after,
        "retro_hunt": {
            "values": result.hunt.values,
            "warnings": result.hunt.warnings,
            "run": None if run is None else {"id": run.run_id, "status": run.status,
                                             "counts": run.counts, "errors": run.errors},
        },
    }  # fmt: skip


def _report(result: FeedResult, json_out: bool) -> None:
    if json_out:
        print_json(_as_json(result))
    else:
        counts = ", ".join(f"{k} {v}" for k, v in result.imported.as_dict().items() if v)
        out.print(f"{_t('imported')}: {counts or '0'}")
        for warning in result.hunt.warnings:
            units = ", ".join(warning["units"])
            line = (
                f"{_t('hunt')} [{warning['severity']}] {warning['subject']}: "
                f"{warning['unit_count']} {_t('units')} ({units})"
            )
            out.print(escape(line), highlight=False)
        if result.hunt.values and not result.hunt.warnings:
            out.print(_t("no_hits"))
    if result.hunt.run is not None and result.hunt.run.errors:
        raise typer.Exit(1)
