"""The synthetic key units' assets: realistic builds, and truth the detector agrees with
when the real NVD sample and KEV catalogue are in the lake."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

from longpan.resources.ingest import ingest_folder
from longpan.synth.assets import CATALOGUE, NEAR_MISS_KIND, make_assets
from longpan.vuln.feeds import import_kev, import_nvd
from longpan.vuln.matching import match_assets
from tests.conftest import make_workspace
from tests.vuln.helpers import KEV, NVD, ORG, needs_shared

UNITS = [ORG, "913200001347542387", "91320200MA1MABCD6T"]


def _addresses() -> list[str]:
    return [str(a) for a in ipaddress.ip_network("10.20.0.0/22").hosts()]


def test_every_catalogue_entry_is_used_and_truth_is_per_asset_and_cve() -> None:
    out = make_assets(
        UNITS * 10, iter(_addresses()), np.random.default_rng(7), datetime(2025, 1, 1)
    )
    products = {r["product"] for r in out.rows}
    assert {"Apache httpd", "OpenSSH", "Citrix ADC", "Microsoft Exchange", "Jenkins"} <= products
    assert len({t[1] for t in out.truth}) == len(out.truth)
    assert out.truth and out.near_misses
    again = make_assets(
        UNITS * 10, iter(_addresses()), np.random.default_rng(7), datetime(2025, 1, 1)
    )
    assert again.rows == out.rows  # deterministic for a seed


@needs_shared
def test_detector_finds_exactly_the_truth(tmp_path: Path) -> None:
    out = make_assets(
        UNITS * 30,
        iter(_addresses()),
        np.random.default_rng(11),
        datetime(2025, 1, 1),
        outdated_share=0.5,
    )
    folder = tmp_path / "delivery"
    folder.mkdir()
    pacsv.write_csv(out.table(), folder / "assets.csv")
    ws = make_workspace(tmp_path / "home")
    ingest_folder(ws, folder)
    import_nvd(ws, [NVD])
    import_kev(ws, KEV)
    hits = match_assets(ws.analytics()).hits
    found = {(f"{h.asset['ip']}:{h.asset['port']}", h.cve_id) for h in hits}
    # truth: subject ip:port, the CVE last in the note
    assert found == {(subject, note.rsplit(" ", 1)[1]) for _t, subject, note in out.truth}
    assert all(len(s.outdated) and len(s.current) for s in CATALOGUE)
    ws.close()


def test_each_unit_takes_its_own_addresses_and_both_kinds_are_planted() -> None:
    lines = {u: ipaddress.ip_network(f"10.30.{i}.0/28") for i, u in enumerate(UNITS)}
    hosts = {u: (str(a) for a in net.hosts()) for u, net in lines.items()}
    out = make_assets(UNITS, hosts, np.random.default_rng(3), datetime(2025, 1, 1))
    assert all(ipaddress.ip_address(r["ip"]) in lines[str(r["org_uscc"])] for r in out.rows)
    first_unit = [r for r in out.rows if r["org_uscc"] == UNITS[0]]
    subjects = [f"{r['ip']}:{r['port']}" for r in first_unit[:2]]
    assert subjects[0] in {s for _t, s, _n in out.truth}  # the first host is outdated
    assert subjects[1] in {s for s, _k, _n in out.near_misses}  # the second is current
    assert {k for _s, k, _n in out.near_misses} == {NEAR_MISS_KIND}
