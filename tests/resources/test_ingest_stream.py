"""Ingest through staged files: log merges, rejects, error counts, all-or-nothing commits."""

from __future__ import annotations

import csv
import sys
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from longpan.core.errors import InputError
from longpan.resources.exchange import fast
from longpan.resources.exchange.columns import WHITESPACE
from longpan.resources.exchange.psl import optional_registered_domain, registered_domains
from longpan.resources.exchange.reader import read_file
from longpan.resources.exchange.tables import SPECS
from longpan.resources.exchange.validate import validate
from longpan.resources.ingest import IngestErrors, ingest_folder
from longpan.store import ordering
from longpan.store.datasets import DNS_LOGS, DNS_OBSERVATIONS, ENTITIES
from longpan.store.lake import PendingWrite, StagedWrite, conform, merge_log, ordered
from longpan.store.workspace import Workspace

HEADER = "fqdn,rrtype,value,first_seen,last_seen,count"


def _dns_folder(root: Path, name: str, lines: list[str], extra: str | None = None) -> Path:
    folder = root / name
    folder.mkdir()
    header = HEADER + (f",{extra}" if extra else "")
    body = [line + (f",{extra}-{i}" if extra else "") for i, line in enumerate(lines)]
    (folder / "dns_observations.csv").write_text("\n".join([header, *body]) + "\n", "utf-8")
    return folder


def _rows(first: int, last: int, count: int) -> list[str]:
    return [
        f"www.s{i}.com,A,10.0.0.{i % 250},2024-01-01T00:00:00Z,2024-02-01T00:00:00Z,{count}"
        for i in range(first, last)
    ]


def _reference_table(folder: Path) -> pa.Table:
    path = folder / "dns_observations.csv"
    return conform(
        DNS_OBSERVATIONS,
        validate(SPECS["dns_observations"], read_file(path, path.read_bytes())).table,
    )


def test_log_snapshots_merge_like_merge_log(sqlite_ws: Workspace, tmp_path: Path) -> None:
    first = _dns_folder(tmp_path, "a", _rows(0, 40, 1), extra="remark")
    second = _dns_folder(tmp_path, "b", _rows(30, 60, 2), extra="source")
    ingest_folder(sqlite_ws, first)
    ingest_folder(sqlite_ws, second)
    # Each delivery is stored in the dataset's declared order (registered domain first):
    # the kept earlier rows, then the new ones.
    earlier, later = (ordered(DNS_OBSERVATIONS, _reference_table(f)) for f in (first, second))
    expected = merge_log(DNS_OBSERVATIONS, earlier, later)
    got = sqlite_ws.lake.read(DNS_OBSERVATIONS)
    assert got.schema.equals(expected.schema)
    assert got.to_pylist() == expected.to_pylist()
    snapshot = sqlite_ws.lake.current("dns_observations")
    assert snapshot is not None and snapshot.rows == 60
    assert len(sqlite_ws.lake.files("dns_observations")) == 2


def test_ordered_deliveries_let_engines_skip_row_groups(
    sqlite_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ordering, "ORDERED_ROW_GROUP", 8)
    lines = [line.replace("www.", f"n{i % 3}.") for i, line in enumerate(_rows(0, 50, 1))]
    lines.append("com.cn,NS,ns.cernet.net,2024-01-01T00:00:00Z,2024-02-01T00:00:00Z,1")
    ingest_folder(sqlite_ws, _dns_folder(tmp_path, "a", list(reversed(lines))))
    ingest_folder(sqlite_ws, _dns_folder(tmp_path, "b", _rows(45, 70, 2)))
    first, second = sqlite_ws.lake.files("dns_observations")
    for path in (first, second):
        groups = [_domain_bounds(pq.ParquetFile(path).metadata, g) for g in range(_groups(path))]
        assert len(groups) > 2
        values = [v for g in groups for v in g if v is not None]
        assert values == sorted(values)  # row groups hold disjoint, ascending ranges
    last = pq.read_table(first).column("registered_domain").to_pylist()[-1]
    assert last is None  # a name that is itself a public suffix has none: it comes last


@pytest.mark.parametrize("staged", [False, True])
def test_a_dataset_sets_its_own_row_group_size(
    sqlite_ws: Workspace, tmp_path: Path, staged: bool
) -> None:
    folder = _dns_folder(tmp_path, "a", list(reversed(_rows(0, 23, 1))))
    table = _reference_table(folder)
    small = replace(DNS_OBSERVATIONS, row_group=5)
    if staged:
        path = tmp_path / "staged.parquet"
        pq.write_table(table, path)
        write: PendingWrite | StagedWrite = StagedWrite(small, path, 23, "x", ["a"])
    else:
        write = PendingWrite(small, table, "x", ["a"])
    sqlite_ws.lake.commit([write])
    (path,) = sqlite_ws.lake.files("dns_observations")
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [5] * 4 + [3]
    assert sqlite_ws.lake.read(DNS_OBSERVATIONS).to_pylist() == ordered(small, table).to_pylist()
    assert DNS_LOGS.group_rows == 1 << 14 and DNS_OBSERVATIONS.group_rows == 1 << 17


def test_a_delivery_bigger_than_one_sort_run_is_written_in_ordered_runs(
    sqlite_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ordering, "ORDERED_ROW_GROUP", 8)
    monkeypatch.setattr(ordering, "SORT_RUN_ROWS", 20)
    lines = list(reversed(_rows(0, 70, 1)))
    folder = _dns_folder(tmp_path, "a", lines)
    ingest_folder(sqlite_ws, folder)
    files = sqlite_ws.lake.files("dns_observations")
    assert [p.name for p in files] == [f"part-00000-{i:03d}.parquet" for i in range(3)]
    for path in files:  # each run is ordered on its own
        domains = pq.read_table(path).column("registered_domain").to_pylist()
        assert domains == sorted(domains)
    expected = ordered(DNS_OBSERVATIONS, _reference_table(folder))
    got = sqlite_ws.lake.read(DNS_OBSERVATIONS).sort_by("registered_domain")
    assert got.to_pylist() == expected.to_pylist()  # every row, once
    ingest_folder(sqlite_ws, _dns_folder(tmp_path, "b", _rows(60, 80, 2)))  # merges the runs
    merged = sqlite_ws.lake.read(DNS_OBSERVATIONS)
    assert merged.num_rows == 80
    assert sorted(merged.column("count").to_pylist()) == [1] * 60 + [2] * 20


def _groups(path: Path) -> int:
    return int(pq.ParquetFile(path).metadata.num_row_groups)


def _domain_bounds(meta: pq.FileMetaData, group: int) -> tuple[str | None, str | None]:
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    stats = meta.row_group(group).column(names.index("registered_domain")).statistics
    if stats is None or not stats.has_min_max:
        return None, None
    return stats.min, stats.max


def test_a_second_log_delivery_that_replaces_everything(
    sqlite_ws: Workspace, tmp_path: Path
) -> None:
    ingest_folder(sqlite_ws, _dns_folder(tmp_path, "a", _rows(0, 10, 1)))
    ingest_folder(sqlite_ws, _dns_folder(tmp_path, "b", _rows(0, 10, 5)))
    got = sqlite_ws.lake.read(DNS_OBSERVATIONS).to_pylist()
    assert [r["count"] for r in got] == [5] * 10


def test_skip_bad_moves_the_rejects_file(sqlite_ws: Workspace, tmp_path: Path) -> None:
    lines = _rows(0, 5, 1)
    lines[2] = lines[2].replace("10.0.0.2", "2001:db8::1")  # an IPv6 address in an A record
    folder = _dns_folder(tmp_path, "in", lines)
    report = ingest_folder(sqlite_ws, folder, mode="skip-bad")
    (result,) = report.tables
    assert (result.rows, result.rejected) == (4, 1)
    assert report.rejects_dir is not None
    with open(Path(report.rejects_dir) / "dns_observations.csv", encoding="utf-8") as f:
        (rejected,) = list(csv.DictReader(f))
    assert (rejected["_line"], rejected["_column"]) == ("4", "3 (value)")
    assert rejected["value"] == "2001:db8::1"
    assert not list((sqlite_ws.lake.root / ".staging").iterdir())


def test_strict_mode_counts_every_bad_row(
    sqlite_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast, "MAX_ERRORS", 5)
    lines = [line.replace("2024-01-01T00:00:00Z", "01/01/2024") for line in _rows(0, 30, 1)]
    with pytest.raises(IngestErrors) as caught:
        ingest_folder(sqlite_ws, _dns_folder(tmp_path, "in", lines))
    assert caught.value.total == 30 and len(caught.value.errors) == 5
    assert "30 bad rows" in str(caught.value)
    assert "… and 10 more bad rows" in str(caught.value)
    assert sqlite_ws.lake.current("dns_observations") is None


def test_a_failed_commit_leaves_no_staged_snapshot(sqlite_ws: Workspace, tmp_path: Path) -> None:
    lake = sqlite_ws.lake
    staging = lake.staging_dir()
    good = pa.table(
        {
            "uscc": ["A"],
            "name": ["n"],
            "kind": ["企业"],
            "province": ["江苏"],
            "city": [None],
            "status": ["存续"],
            "status_date": pa.array([None], pa.date32()),
        }
    )
    pq.write_table(conform(ENTITIES, good), staging / "entities.parquet")
    bad = pa.table({"fqdn": ["x.cn"]})  # misses columns: conform refuses it
    with pytest.raises(InputError):
        lake.commit(
            [
                StagedWrite(ENTITIES, staging / "entities.parquet", 1, "h1", []),
                PendingWrite(DNS_OBSERVATIONS, bad, "h2", []),
            ]
        )
    assert lake.current("entities") is None
    assert not (lake.root / "entities").exists() or not any((lake.root / "entities").iterdir())


def test_whitespace_is_what_str_strip_removes() -> None:
    assert WHITESPACE == "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace())


def test_registered_domains_match_the_python_function() -> None:
    """Every rule of the bundled list (Unicode ones too), as a suffix and under names."""
    from longpan.core.identifiers import canonical_domain
    from longpan.core.identifiers.domain import _get_extractor

    names = set()
    for rule in _get_extractor().tlds:
        base = rule.replace("*", "例子").lstrip("!")
        for name in (base, f"www.{base}", f"a.b.{base}", f"点心.{base}"):
            try:
                names.add(canonical_domain(name))
            except InputError:
                continue
    canonical = sorted(names)
    assert sum("xn--" in name for name in canonical) > 1000
    got = registered_domains(pa.array(canonical)).to_pylist()
    assert got == [optional_registered_domain(n) for n in canonical]
