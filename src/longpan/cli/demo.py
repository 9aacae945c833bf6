"""``longpan demo``: the main job end to end on embedded defaults, ending with the web
platform on http://127.0.0.1:8000: demo users for every role (generated passwords,
printed) and one batch of notices already issued through the loop's services."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from longpan.cli.common import handle_errors, out, progress_bar, workspace
from longpan.cli.demo_loop import demo_loop, print_logins
from longpan.cli.detection import print_summary
from longpan.cli.serve import serve as serve_web
from longpan.core.errors import InputError
from longpan.detect import registry
from longpan.detect.evaluate import evaluate_database
from longpan.detect.findings import list_findings
from longpan.detect.runner import run_detection
from longpan.metrics.report import build_report
from longpan.resources.ingest import ingest_folder
from longpan.synth.generate import STEPS, generate
from longpan.synth.model import make_config

DEMO_SCALE, DEMO_SEED = "small", 1


@handle_errors
def demo(
    data: Annotated[
        Path | None,
        typer.Option(
            help="exchange-format folder to load (default: a small synthetic "
            "province, generated on first use)"
        ),
    ] = None,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="end by serving the web UI on http://127.0.0.1:8000 (default: when run "
            "from a terminal)",
        ),
    ] = None,
) -> None:
    """Generate a small synthetic province, ingest, detect, issue a demo batch, serve the UI."""
    ws = workspace()
    out.print(f"[bold]龙磐 Longpan demo[/] — LONGPAN_HOME={ws.settings.home.resolve()}")
    folder = data or _demo_province(ws.settings.home / "demo-province")
    if not folder.is_dir():
        raise InputError(f"no such folder: {folder}", file=str(folder))
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
            _print_eval(evaluate_database(session, truth))
    figures = build_report(ws)
    for key, label in (("icp_accuracy", "ICP备案准确率"), ("ip_accuracy", "IP地址备案准确率")):
        census = figures[key]["census"]
        out.print(
            f"4. {label} (census): {census['rate']:.2%} "
            f"({census['accurate']:,}/{census['records']:,}) — more: longpan report"
        )
    if result.errors:
        raise typer.Exit(1)
    logins = demo_loop(ws)
    ws.close()
    print_logins(logins)
    if serve if serve is not None else sys.stdin.isatty():
        serve_web(host="127.0.0.1", port=8000, workers=1)
    else:
        out.print("6. web: not started (not a terminal); run `longpan serve` to browse it")


def _demo_province(folder: Path) -> Path:
    """The small synthetic province of the demo, generated once."""
    if not (folder / "manifest.json").is_file():
        with progress_bar("synth", len(STEPS)) as step:
            generate(make_config(DEMO_SCALE, DEMO_SEED), folder, progress=step)
        out.print(f"0. synth: a {DEMO_SCALE} province of 江苏 (seed {DEMO_SEED}) in {folder}")
    return folder


def _print_eval(scores: dict[str, Any]) -> None:
    """Scores of the types that have a detector; the others are listed as not yet covered."""
    covered = registry.finding_types()
    out.print("3. eval against truth.csv:")
    for finding_type, s in scores["by_type"].items():
        if finding_type in covered:
            out.print(
                f"   {finding_type}: precision {s['precision']:.3f}, "
                f"recall {s['recall']:.3f} (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})"
            )
    missing = sorted(set(scores["by_type"]) - set(covered))
    if missing:
        out.print(f"   no detector yet for: {', '.join(missing)}")
