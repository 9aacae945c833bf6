"""Domain matching in two passes: the level hash columns derived at ingest, the integer
narrowing, and the exact pass that keeps hash collisions and look-alikes out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from longpan.detect.base import DetectionContext
from longpan.resources.exchange.netlogs import (
    dns_log_derive,
    dns_log_derive_batch,
    level_name,
    name_hash,
    name_levels,
)
from longpan.resources.ingest import ingest_folder
from longpan.store.datasets import DNS_LOGS
from longpan.store.lake import PendingWrite
from longpan.store.workspace import Workspace
from longpan.threat import matching as m
from longpan.threat import narrowing as nw
from longpan.threat.feeds import import_stix
from longpan.threat.ioc_hit import IocHit
from tests.conftest import make_workspace
from tests.threat.conftest import UNITS, indicator, write_bundle
from tests.threat.test_ioc_hit import write_csv

A, B = UNITS[:2]
AS_OF = datetime(2024, 12, 31, 12, tzinfo=UTC)
TS = "2024-12-30T08:00:00"
IDN = "xn--fsqu00a.xn--fiqs8s"  # 例子.中国


def test_level_columns_of_a_name() -> None:
    assert level_name("c.b.a.evil.example", "evil.example", 1) == "a.evil.example"
    assert level_name("c.b.a.evil.example", "evil.example", 2) == "b.a.evil.example"
    assert level_name("a.evil.example", "evil.example", 2) is None
    assert level_name("evil.example", "evil.example", 1) is None
    deep = name_levels("x.www.example.com.cn")
    assert deep == {
        "base_domain": "example.com.cn",
        "base_hash": name_hash("example.com.cn"),
        "level1_hash": name_hash("www.example.com.cn"),
        "level2_hash": name_hash("x.www.example.com.cn"),
    }
    bare = name_levels("localhost")  # one label: its own base, no level below
    assert bare["base_domain"] == "localhost" and bare["level1_hash"] is None


def test_row_and_batch_derivations_agree() -> None:
    names = ["evil.example", "a.evil.example", "c.b.a.evil.example", f"www.{IDN}", "com.cn"]
    cols = {
        "qname": pa.array(names),
        "client_ip": pa.array(["10.0.0.1"] * len(names)),
        "answer": pa.array(["198.51.100.9", None, "x.example", None, None]),
    }
    batch = dns_log_derive_batch(cols)
    for i, name in enumerate(names):
        row = dns_log_derive({"qname": name, "client_ip": "10.0.0.1",
                              "answer": cols["answer"][i].as_py()})  # fmt: skip
        assert {k: batch[k][i].as_py() for k in row} == row


def test_ingest_derives_levels_of_canonical_names(sqlite_ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    write_csv(folder / "dns_logs.csv", "ts,org_uscc,client_ip,qname,answer", [
        (TS, A, "10.0.0.5", "Login.EVIL.Example.", ""),  # uppercase, trailing dot
        (TS, A, "10.0.0.5", "WWW.例子.中国.", ""),  # IDN: stored as A-labels
    ])  # fmt: skip
    ingest_folder(sqlite_ws, folder)
    rows = {r["qname"]: r for r in sqlite_ws.lake.read(DNS_LOGS).to_pylist()}
    login = rows["login.evil.example"]
    assert login["base_hash"] == name_hash("evil.example")
    assert login["level1_hash"] == name_hash("login.evil.example")
    assert login["level2_hash"] is None
    assert rows[f"www.{IDN}"]["level1_hash"] == name_hash(f"www.{IDN}")


DOMAINS = (
    "login.evil.example",  # level 1
    "b.a.deep.example",  # level 2
    "d.c.b.deeper.example",  # level 3: deeper than the level columns
    "例子.中国",  # IDN, level 0
    "plain.example",  # level 0
)
LOGS = [
    ("login.evil.example", True),
    ("x.Login.Evil.Example.", True),
    ("evil.example", False),  # the parent of a level-1 indicator
    ("xlogin.evil.example", False),
    ("login.evil.example.com", False),
    ("c.b.a.deep.example", True),
    ("a.deep.example", False),
    ("z.a.deep.example", False),  # same level-1 parent, other level 2
    ("e.d.c.b.deeper.example", True),
    ("c.b.deeper.example", False),
    ("x.d.c.bb.deeper.example", False),
    ("m.例子.中国", True),
    ("notplain.example", False),
    ("plain.example.cn", False),
    ("PLAIN.EXAMPLE.", True),
]


def bundle(folder: Path) -> Path:
    objects = [indicator(100 + n, f"[domain-name:value = '{v}']") for n, v in enumerate(DOMAINS)]
    return write_bundle(folder / "bundle.json", objects)


@pytest.fixture
def levels_ws(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path / "home")
    folder = tmp_path / "logs"
    folder.mkdir()
    rows = [(TS, A, f"10.0.0.{i}", name, "") for i, (name, _) in enumerate(LOGS)]
    write_csv(folder / "dns_logs.csv", "ts,org_uscc,client_ip,qname,answer", rows)
    ingest_folder(ws, folder)
    import_stix(ws, [bundle(folder)], hunt=False)
    return ws


def observed(ws: Workspace, engine_name: str) -> set[str]:
    ctx = DetectionContext(ws.analytics(engine_name), AS_OF, IocHit.inputs)
    drafts = IocHit().detect(ctx)
    return {s["observed"] for d in drafts if d.type == "ioc_hit" for s in d.evidence["samples"]}


def canonical(name: str) -> str:
    return name.rstrip(".").lower().replace("例子.中国", IDN)


@pytest.mark.parametrize("listed", [True, False], ids=["listed", "joined"])
def test_every_level_matches_exactly(
    levels_ws: Workspace, engine_name: str, listed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not listed:  # more candidates than a filter lists: the semi-join path
        monkeypatch.setattr(nw, "MAX_LISTED", 0)
    expected = {canonical(name) for name, hit in LOGS if hit}
    assert observed(levels_ws, engine_name) == expected
    levels_ws.close()


def test_narrowing_returns_only_the_hashes_that_occur(levels_ws: Workspace) -> None:
    engine = levels_ws.analytics("duckdb")
    scope = m.Scope(AS_OF, 30)
    live = m.live_indicators(engine.table("indicators"), scope)
    hunt = m.DomainHunt.of(live, engine.execute)
    rows = m.in_window(engine.table("dns_logs"), scope)
    found = nw.candidates(engine.execute(nw.narrowing(rows, hunt.domains, hunt.subs,
                                                      m.DNS_NAMES)))  # fmt: skip
    assert found.hashes == {
        "base_hash": sorted(name_hash(v) for v in ("deeper.example", IDN, "plain.example")),
        "level1_hash": [name_hash("login.evil.example")],
        "level2_hash": [name_hash("b.a.deep.example")],
    }
    levels_ws.close()


def crafted_logs() -> pa.Table:
    """Rows whose hash columns claim an indicator's hashes but whose names are others: a
    64-bit collision, written past ingest (which would derive the true hashes)."""
    rows: list[dict[str, Any]] = [
        {"qname": "x.other.example", "base_domain": "other.example",
         "base_hash": name_hash("plain.example"), "level1_hash": name_hash("login.evil.example"),
         "level2_hash": name_hash("b.a.deep.example")},
        {"qname": "y.login.evil.example", "base_domain": "evil.example",
         "base_hash": name_hash("evil.example"), "level1_hash": name_hash("login.evil.example"),
         "level2_hash": name_hash("y.login.evil.example")},
    ]  # fmt: skip
    for n, row in enumerate(rows):
        row.update(ts=datetime(2024, 12, 30, 8), org_uscc=B, client_ip=f"10.9.0.{n}",
                   answer=None, client_key=None, answer_key=None)  # fmt: skip
    return pa.Table.from_pylist(rows, schema=DNS_LOGS.schema)


def test_hash_collisions_never_hit(levels_ws: Workspace, engine_name: str) -> None:
    levels_ws.lake.commit([PendingWrite(DNS_LOGS, crafted_logs(), "crafted", ["crafted"])])
    seen = observed(levels_ws, engine_name)
    assert "x.other.example" not in seen  # every hash collides, no name matches
    assert "y.login.evil.example" in seen  # a true hit among the crafted rows
    levels_ws.close()
