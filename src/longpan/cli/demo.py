"""``longpan demo``: the main job end to end on embedded defaults, ending with the web
platform on http://127.0.0.1:8000: demo users for every role (generated passwords,
printed) and one batch of notices already issued through the loop's services.

Besides the tables, the demo imports the province's threat indicators
(``feeds/indicators.stix.json``) and, when it finds the real reference data
(``shared/data`` next to the checkout, where the tests find it, or ``--reference-data``),
the NVD sample and the CISA KEV catalogue, so that vulnerability alerts (高危漏洞) and
threat warnings (APT威胁预警) are found too."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from longpan.cli.common import handle_errors, out, progress_bar, workspace
from longpan.cli.detection import print_summary
from longpan.cli.serve import serve as serve_web
from longpan.core.errors import InputError

if TYPE_CHECKING:  # the whole platform is imported when the demo runs (fast --help)
    from longpan.store.workspace import Workspace

DEMO_SCALE, DEMO_SEED = "small", 1
NVD_DIR, KEV_FILE = Path("nvd"), Path("kev") / "known_exploited_vulnerabilities.json"
_HERE = Path(__file__).resolve()  # <checkout>/src/longpan/cli/demo.py
# shared/data beside the checkout (as tests/conftest.py finds it), or beside the cwd
REFERENCE_CANDIDATES = (
    _HERE.parents[min(4, len(_HERE.parents) - 1)] / "shared" / "data",
    Path.cwd().parent / "shared" / "data",
)


@handle_errors
def demo(
    data: Annotated[
        Path | None,
        typer.Option(
            help="exchange-format folder to load (default: a small synthetic "
            "province, generated on first use)"
        ),
    ] = None,
    reference_data: Annotated[
        Path | None,
        typer.Option(
            "--reference-data",
            help="folder with the real NVD sample (nvd/) and CISA KEV (kev/) to import "
            "(default: shared/data next to the checkout, when present)",
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
    from longpan.cli.demo_loop import demo_loop, print_logins
    from longpan.detect import registry
    from longpan.detect.evaluate import evaluate_database
    from longpan.detect.findings import list_findings
    from longpan.detect.runner import run_detection
    from longpan.metrics.report import build_report
    from longpan.resources.ingest import ingest_folder
    from longpan.synth.model import GENERATOR_VERSION

    ws = workspace()
    out.print(f"[bold]龙磐 Longpan demo[/] — LONGPAN_HOME={ws.settings.home.resolve()}")
    folder = data or _demo_province(ws.settings.home / f"demo-province-{GENERATOR_VERSION}")
    if not folder.is_dir():
        raise InputError(f"no such folder: {folder}", file=str(folder))
    reference = _reference_folder(reference_data)
    report = ingest_folder(ws, folder)
    written = sum(r.rows for r in report.tables)
    out.print(f"1. ingest {folder}: {len(report.tables)} tables, {written} rows written")
    _import_feeds(ws, folder, reference)
    detectors = registry.select(None)
    with progress_bar("detect", len(detectors)) as step:
        result = run_detection(ws, progress=step)
    out.print(f"2. detect: run #{result.run_id} on {result.engine}, {result.status}")
    with ws.sessions() as session:
        print_summary(list_findings(session))
        truth = folder / "truth.csv"
        if truth.is_file():
            _print_eval(evaluate_database(session, truth, ws.lake.current_snapshots()))
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
    from longpan.synth.generate import generate, step_count
    from longpan.synth.model import make_config

    if not (folder / "manifest.json").is_file():
        cfg = make_config(DEMO_SCALE, DEMO_SEED)
        with progress_bar("synth", step_count(cfg)) as step:
            generate(cfg, folder, progress=step)
        out.print(f"0. synth: a {DEMO_SCALE} province of 江苏 (seed {DEMO_SEED}) in {folder}")
    return folder


def _reference_folder(given: Path | None) -> Path | None:
    """The folder holding nvd/ and kev/: ``given`` (which must hold them), else the first
    default candidate that does, else None."""
    for candidate in [given] if given else REFERENCE_CANDIDATES:
        if (candidate / NVD_DIR).is_dir() and (candidate / KEV_FILE).is_file():
            return candidate
    if given:
        raise InputError(
            f"--reference-data: {given} holds no {NVD_DIR}/ folder and {KEV_FILE} file",
            file=str(given),
        )
    return None


def _import_feeds(ws: Workspace, folder: Path, reference: Path | None) -> None:
    """Threat indicators of the folder, then the NVD sample and KEV (or say why not)."""
    from longpan.synth.keyunits import FEED
    from longpan.threat.feeds import import_stix
    from longpan.vuln.feeds import import_kev, import_nvd

    bundle = folder / FEED
    if bundle.is_file():
        stix = import_stix(ws, [bundle], hunt=False, actor="system:demo")  # detect follows
        got = stix.imported
        out.print(
            f"   威胁情报 {bundle}: {got.indicators} indicator(s), {got.added} added, "
            f"{got.revoked} revoked, {got.unchanged} unchanged"
        )
    else:
        out.print(f"   威胁情报: no {FEED} in {folder}; threat warnings skipped")
    if reference is None:
        looked = ", ".join(str(c) for c in REFERENCE_CANDIDATES)
        out.print(
            f"   漏洞库: vulnerability alerts skipped — the real NVD/KEV data was not found "
            f"(looked in {looked}); give --reference-data DIR to import it"
        )
        return
    nvd = import_nvd(ws, [reference / NVD_DIR], actor="system:demo")
    kev = import_kev(ws, reference / KEV_FILE, actor="system:demo")
    out.print(
        f"   漏洞库 {reference}: NVD {nvd.read} record(s), {len(nvd.changed)} new or changed; "
        f"KEV {kev.read} entries, {len(kev.new)} new"
    )


def _not_loaded(inputs: list[str]) -> str:
    return f" — not loaded: {', '.join(inputs)}" if inputs else ""


def _print_eval(scores: dict[str, Any]) -> None:
    """Scores of the types that have a detector; the others are listed as not yet covered."""
    from longpan.detect import registry

    covered = registry.finding_types()
    out.print("3. eval against truth.csv:")
    for finding_type, s in scores["by_type"].items():
        if finding_type in covered:
            out.print(
                f"   {finding_type}: precision {s['precision']:.3f}, "
                f"recall {s['recall']:.3f} (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})"
                + _not_loaded(s["missing_inputs"])
            )
    missing = sorted(set(scores["by_type"]) - set(covered))
    if missing:
        out.print(f"   no detector yet for: {', '.join(missing)}")
