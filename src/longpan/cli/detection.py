"""Commands for detection: detect, findings, eval."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from longpan.cli.common import (
    handle_errors,
    out,
    parse_as_of,
    print_json,
    print_table,
    progress_bar,
    t,
    workspace,
)

if TYPE_CHECKING:  # the detection stack is imported by the commands (fast --help)
    from longpan.detect.runner import RunResult
    from longpan.store.workspace import Workspace


def _split(values: list[str] | None) -> list[str] | None:
    """Accept both repeated options and comma-separated values."""
    if not values:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@handle_errors
def detect(
    engine: Annotated[
        str | None, typer.Option(help="duckdb or spark (default: LONGPAN_ENGINE)")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(help="finding type(s) to detect; repeat or separate with commas"),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="measure time-relative rules from this ISO date (default: the "
            "latest observation in the lake)",
        ),
    ] = None,
    subject: Annotated[list[str] | None, typer.Option(help="re-check only these subjects")] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="print the run and findings as JSON")
    ] = False,
) -> None:
    """Run the detectors over the lake and store their findings."""
    from longpan.detect import registry
    from longpan.detect.base import plan_recheck
    from longpan.detect.runner import run_detection

    # A re-check runs only the detectors of the subjects' kinds (and fails fast on a
    # subject of no known kind, before the workspace is opened).
    chosen, rechecked = plan_recheck(registry.select(_split(only)), _split(subject))
    ws = workspace()
    with progress_bar("detect", len(chosen), enabled=not json_out) as step:
        result = run_detection(
            ws,
            engine=engine,
            only=_split(only),
            as_of=parse_as_of(as_of),
            subjects=_split(subject),
            progress=step,
        )
    types = [ft for cls in chosen for ft in cls.finding_types]
    _print_detected(ws, result, types, rechecked, json_out)
    if result.errors:
        raise typer.Exit(1)


def _print_detected(
    ws: Workspace,
    result: RunResult,
    types: list[str],
    subjects: frozenset[str] | None,
    json_out: bool,
) -> None:
    """The run, then the re-checked subjects' findings or the summary of all findings."""
    from longpan.detect.findings import count_summary, list_findings

    with ws.sessions() as session:
        if subjects is not None:  # a re-check: those subjects' findings, not the province's
            records = [
                r for s in sorted(subjects) for r in list_findings(session, types=types, subject=s)
            ]
        elif json_out:
            records = list_findings(session, types=types)
        else:  # counted by the database: a province's findings are not read back
            _print_run(result)
            _print_summary_rows(count_summary(session, types))
            return
    if json_out:
        print_json({"run": _run_json(result), "findings": records})
    else:
        _print_run(result)
        if records:
            _print_findings(records)
        else:
            out.print(t("no_findings"))


def _run_json(result: RunResult) -> dict[str, Any]:
    return {
        "id": result.run_id,
        "status": result.status,
        "engine": result.engine,
        "as_of": result.as_of.isoformat(),
        "counts": result.counts,
        "errors": result.errors,
    }


def _print_run(result: RunResult) -> None:
    out.print(
        f"{t('run')} #{result.run_id} ({result.engine}, as of {result.as_of:%Y-%m-%d}): "
        f"{result.status}"
    )
    for detector_id, counts in result.counts.items():
        shown = ", ".join(f"{k} {v}" for k, v in counts.items())
        out.print(f"  {detector_id}: {shown}")
    for detector_id, error in result.errors.items():
        out.print(f"  [red]{detector_id} failed:[/] {error}", markup=True, highlight=False)


def print_summary(records: list[dict[str, Any]]) -> None:
    from longpan.detect.findings import summary

    _print_summary_rows(summary(records))


def _print_summary_rows(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print(t("no_findings"))
        return
    keys = ("type", "severity", "status", "count")
    print_table(
        t("findings_summary"),
        [t(k) for k in keys],
        ([row[k] for k in keys] for row in rows),
        right={t("count")},
    )


@handle_errors
def findings(
    type_: Annotated[list[str] | None, typer.Option("--type", help="finding type(s)")] = None,
    status: Annotated[list[str] | None, typer.Option(help="status(es), e.g. open")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print findings as JSON")] = False,
) -> None:
    """List stored findings."""
    from longpan.detect.findings import list_findings

    ws = workspace()
    with ws.sessions() as session:
        records = list_findings(session, types=_split(type_), statuses=_split(status))
    if json_out:
        print_json(records)
        return
    _print_findings(records)


def _print_findings(records: list[dict[str, Any]]) -> None:
    columns = [t(k) for k in ("type", "subject", "severity", "status", "responsible")]
    fields = ("type", "subject", "severity", "status", "responsible_uscc")
    print_table(None, columns, ([r[f] for f in fields] for r in records))


@handle_errors
def eval_(
    truth: Annotated[Path, typer.Argument(help="CSV with columns finding_type, subject")],
    json_out: Annotated[bool, typer.Option("--json", help="print scores as JSON")] = False,
) -> None:
    """Score the open findings against ground truth: precision and recall per type."""
    from longpan.detect.evaluate import evaluate_database

    ws = workspace()
    with ws.sessions() as session:
        scores = evaluate_database(session, truth, loaded=ws.lake.current_snapshots())
    if json_out:
        print_json(scores)
        return
    rows = [
        (name, f"{s['precision']:.3f}", f"{s['recall']:.3f}", s["tp"], s["fp"], s["fn"], missing)
        for name, s in [*scores["by_type"].items(), ("overall", scores["overall"])]
        for missing in [", ".join(s.get("missing_inputs", []))]
    ]
    print_table(None, ("type", "precision", "recall", "tp", "fp", "fn", t("missing_inputs")), rows)
    if any(s["missing_inputs"] for s in scores["by_type"].values()):
        out.print(t("missing_inputs_note"), highlight=False)
