"""Shared by the synthetic-province tests: loading a generated province as a user would."""

from __future__ import annotations

from pathlib import Path

from longpan.resources.ingest import IngestReport, ingest_folder
from longpan.store.workspace import Workspace
from longpan.synth.keyunits import FEED
from longpan.threat.feeds import import_stix
from longpan.vuln.feeds import import_kev, import_nvd
from tests.vuln.helpers import KEV, NVD


def load_province(ws: Workspace, folder: Path) -> IngestReport:
    """Ingest ``folder`` (strict: any bad row raises) and import its STIX bundle, and
    the real NVD sample and KEV when ../shared has them; the ingest report."""
    report = ingest_folder(ws, folder)
    import_stix(ws, [folder / FEED], hunt=False)  # detection follows
    if NVD.is_dir() and KEV.is_file():
        import_nvd(ws, [NVD])
        import_kev(ws, KEV)
    return report
