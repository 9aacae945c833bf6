"""``longpan demo``: the main job end to end on embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from longpan.cli.common import handle_errors, out, progress_bar, workspace
from longpan.cli.detection import print_summary
from longpan.core.errors import InputError
from longpan.detect import registry
from longpan.detect.evaluate import evaluate_database
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder

# The example province that ships with the source tree (tests/data/example).
EXAMPLE = Path(__file__).resolve().parents[3] / "tests" / "data" / "example"


@handle_errors
def demo(
    data: Annotated[
        Path | None,
        typer.Option(help="exchange-format folder to load (default: the bundled example province)"),
    ] = None,
) -> None:
    """Ingest the example data, run every detector, print the findings summary."""
    folder = data or EXAMPLE
    if not folder.is_dir():
        raise InputError(f"example data not found at {folder}; pass --data DIR")
    ws = workspace()
    out.print(f"[bold]龙磐 Longpan demo[/] — LONGPAN_HOME={ws.settings.home.resolve()}")
    report = ingest_folder(ws, folder)
    written = sum(r.rows for r in report.tables)
    out.print(f"1. ingest {folder}: {len(report.tables)} tables, {written} rows written")
    detectors = registry.select(None)
    with progress_bar("detect", len(detectors)) as step:
        result = run_detection(ws, progress=step)
    out.print(f"2. detect: run #{result.run_id} on {result.engine}, {result.status}")
    with ws.sessions() as session:
        print_summary(list_findings(session))
        truth = folder / "truth.csv"
        if truth.is_file():
            overall = evaluate_database(session, truth)["overall"]
            out.print(
                f"3. eval against {truth.name}: precision {overall['precision']:.3f}, "
                f"recall {overall['recall']:.3f}"
            )
    if result.errors:
        raise typer.Exit(1)
