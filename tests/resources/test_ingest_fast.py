"""The batch path gives exactly what the per-row path gives (rows, values, errors).

The per-row path (``validate.validate`` on ``reader.read_file``) is the reference. Each
generated file mixes canonical, canonicalisable and bad cells; both paths must keep the
same rows with the same values in the same order, and word every bad row's error (file,
line, column, reason) and rejects-file row the same.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longpan.core.errors import InputError
from longpan.resources.exchange import columns as c
from longpan.resources.exchange import fast, keys, source
from longpan.resources.exchange import parsers as p
from longpan.resources.exchange.columns import RawColumn
from longpan.resources.exchange.footers import footer_numbers
from longpan.resources.exchange.reader import read_file
from longpan.resources.exchange.tables import SPECS
from longpan.resources.exchange.validate import Validated, validate
from tests.resources import exchange_cases as cases

TABLES = sorted(cases.ROWS)


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of a few rows, so that duplicates and blank rows straddle batch borders."""
    monkeypatch.setattr(source, "BATCH_ROWS", 16)
    monkeypatch.setattr(source, "CSV_BLOCK", 1024)
    monkeypatch.setattr(fast, "ROW_GROUP", 40)


def reference(path: Path) -> Validated:
    return validate(SPECS[path.stem], read_file(path, path.read_bytes()))


def expected_rejects(path: Path, ref: Validated) -> list[list[str]]:
    """The rejects file the per-row path writes, as CSV rows of strings."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    header = list(ref.rejected[0][1])
    writer.writerow(["_file", "_line", "_column", "_error", *header])
    for line, cells, error in ref.rejected:
        writer.writerow(
            [path.name, line, error.column, error.message, *(cells.get(h, "") for h in header)]
        )
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))


def assert_same(path: Path, tmp: Path) -> fast.Staged:
    """Both paths agree on ``path``: same table, same errors, same rejects file."""
    tmp = tmp / "staging"
    tmp.mkdir()
    try:
        ref = reference(path)
    except InputError as exc:
        with pytest.raises(InputError) as caught:
            fast.stage_file(SPECS[path.stem], path, tmp, keep_rejects=True)
        assert (type(caught.value), str(caught.value)) == (type(exc), str(exc))
        return fast.Staged(SPECS[path.stem], path, tmp / "none")
    staged = fast.stage_file(SPECS[path.stem], path, tmp, keep_rejects=True)
    table = pq.read_table(staged.output)
    assert table.schema.equals(ref.table.schema)
    assert table.to_pylist() == ref.table.to_pylist()
    assert [str(e) for e in staged.errors] == [str(e) for e in ref.errors]
    assert (staged.rows, staged.error_count) == (ref.table.num_rows, len(ref.errors))
    if ref.rejected:
        assert staged.rejects is not None
        with open(staged.rejects, encoding="utf-8", newline="") as f:
            assert list(csv.reader(f)) == expected_rejects(path, ref)
    else:
        assert staged.rejects is None
    return staged


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("table", TABLES)
def test_csv_files_give_the_same_result(table: str, seed: int, tmp_path: Path) -> None:
    path = tmp_path / f"{table}.csv"
    cases.write_csv(path, cases.generate(table, seed, 120), random.Random(seed))
    staged = assert_same(path, tmp_path)
    assert staged.rows + staged.error_count > 0


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("table", TABLES)
def test_parquet_string_files_give_the_same_result(table: str, seed: int, tmp_path: Path) -> None:
    path = tmp_path / f"{table}.parquet"
    cases.write_parquet_strings(path, cases.generate(table, seed, 120))
    assert pq.ParquetFile(path).num_row_groups > 1
    assert_same(path, tmp_path)


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("table", TABLES)
def test_parquet_native_files_give_the_same_result(table: str, seed: int, tmp_path: Path) -> None:
    path = tmp_path / f"{table}.parquet"
    cases.write_parquet_native(path, cases.generate(table, seed, 120), random.Random(seed))
    assert_same(path, tmp_path)


def test_many_canonical_rows_are_accepted_in_bulk(tmp_path: Path) -> None:
    rows = [
        f"www.site{i}.com,A,10.0.{i // 256}.{i % 256},2024-01-0{1 + i % 9}T00:00:00Z,"
        f"2024-02-01 08:00:00+08:00,{i}"
        for i in range(600)
    ]
    path = tmp_path / "dns_observations.csv"
    path.write_text("fqdn,rrtype,value,first_seen,last_seen,count\n" + "\n".join(rows), "utf-8")
    staged = assert_same(path, tmp_path)
    assert (staged.rows, staged.error_count) == (600, 0)


def test_duplicates_across_batches_name_the_first_line(tmp_path: Path) -> None:
    body = [f"www.s{i}.com,A,10.0.0.{i},2024-01-01,2024-01-02,1" for i in range(100)]
    body[70] = body[3].upper()  # the same key once canonical, 4 batches later
    body[90] = body[3]
    path = tmp_path / "dns_observations.csv"
    path.write_text("fqdn,rrtype,value,first_seen,last_seen,count\n" + "\n".join(body), "utf-8")
    staged = assert_same(path, tmp_path)
    assert [e.line for e in staged.errors] == [72, 92]
    assert all("first on line 5" in e.message for e in staged.errors)


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_csv_line_numbers_without_quoted_line_breaks(line_end: str, tmp_path: Path) -> None:
    lines = [
        "uscc,name,roles",
        "91320115MA1N4Q7K0N,a,carrier",
        "",
        "   ",
        ",,",
        "91320100134881026X,b,nobody",
        '"913211001412167374","c, with comma",carrier',
        "  ,  ",
        "91320505MA1MT2H35C,d,key_unit",
        "913200001347562336,,carrier",
    ]
    path = tmp_path / "organisations.csv"
    path.write_bytes((line_end.join(lines) + line_end).encode("utf-8"))
    staged = assert_same(path, tmp_path)
    assert [e.line for e in staged.errors] == [6, 10]


def test_csv_line_numbers_with_quoted_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "organisations.csv"
    path.write_text(
        "uscc,name,roles\n"
        '91320115MA1N4Q7K0N,"two\nlines",carrier\n'
        "91320100134881026X,b,nobody\n"
        '913211001412167374,"three\r\nline\nname",carrier\n'
        "bad,c,carrier\n",
        "utf-8",
    )
    staged = assert_same(path, tmp_path)
    assert [e.line for e in staged.errors] == [4, 8]


WHOLE_FILE_CASES = {
    "empty": b"",
    "blank": b" \n\t\n",
    "bom only": b"\xef\xbb\xbf",
    "bom and spaces": b"\xef\xbb\xbf \xe3\x80\x80\n",
    "gbk": "uscc,name,roles\n9132,南京,carrier\n".encode("gbk"),
    "bom and bad byte": b"\xef\xbb\xbfuscc,name,roles\n91,\xff,carrier\n",
    "repeated column": b"uscc,name,name,roles\n",
    "empty column name": b"uscc,,roles\n",
    "missing column": b"uscc,name\n91,a\n",
    "too few cells": b"uscc,name,roles\n91320115MA1N4Q7K0N,a,carrier\n91,b\n",
    "too many cells": b"uscc,name,roles\nbad,a,carrier\n91,b,c,d\n",
    "bad quote": b'uscc,name,roles\n91,"a"x,carrier\n',
    "quote inside a cell": b'uscc,name,roles\n91,a"b,carrier\n',
    "unterminated quote": b'uscc,name,roles\n91,"a,carrier\n',
    "first line empty": b"\nuscc,name,roles\n91,a,carrier\n",
    "header only": b"uscc,name,roles\n",
    "huge cell": b"uscc,name,roles\n91," + b"x" * 140_000 + b",carrier\n",
}


@pytest.mark.parametrize("case", sorted(WHOLE_FILE_CASES))
def test_whole_file_checks_are_the_same(case: str, tmp_path: Path) -> None:
    path = tmp_path / "organisations.csv"
    path.write_bytes(WHOLE_FILE_CASES[case])
    assert_same(path, tmp_path)


def test_unreadable_parquet_is_refused_the_same_way(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    cases.write_parquet_strings(good, cases.generate("entities", 0, 30))
    for name, data in {"empty": b"", "cut": good.read_bytes()[:200]}.items():
        path = tmp_path / name / "entities.parquet"
        path.parent.mkdir()
        path.write_bytes(data)
        assert_same(path, tmp_path / name)


def test_a_hash_collision_is_caught_and_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a useless first hash every row looks like a duplicate; the recheck fixes it."""
    seeds: list[int] = []

    class Colliding(keys.KeyHasher):
        def __init__(self, seed: int) -> None:
            super().__init__(seed)
            seeds.append(seed)
            if seed == 0:
                self.first = lambda strings: np.ones(len(strings), np.uint64)  # type: ignore[assignment,method-assign]

    monkeypatch.setattr(fast, "KeyHasher", Colliding)
    path = tmp_path / "dns_observations.csv"
    cases.write_csv(path, cases.generate("dns_observations", 5, 80), random.Random(5))
    staged = assert_same(path, tmp_path)
    assert seeds == [0, 1]
    assert staged.rows > 1


@st.composite
def _timestamp_texts(draw: st.DrawFn) -> str:
    text = (
        f"{draw(st.integers(900, 9999)):04d}-{draw(st.integers(0, 13)):02d}"
        f"-{draw(st.integers(0, 32)):02d}"
    )
    if draw(st.booleans()):
        text += draw(st.sampled_from(["T", " ", "t"]))
        text += ":".join(f"{draw(st.integers(0, 61)):02d}" for _ in range(3))
        digits = draw(st.integers(0, 7))
        if digits:
            text += "." + "".join(str(draw(st.integers(0, 9))) for _ in range(digits))
        zone = draw(st.sampled_from(["", "Z", "+", "-", "+08", "z"]))
        if zone in ("+", "-"):
            zone += f"{draw(st.integers(0, 25)):02d}:{draw(st.integers(0, 61)):02d}"
        text += zone
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(_timestamp_texts(), min_size=1, max_size=20))
def test_timestamp_cells_parse_as_python_does(texts: list[str]) -> None:
    column = RawColumn(pa.array(texts))
    for check, parse in ((c.iso_timestamp, p.iso_timestamp), (c.iso_date, p.iso_date)):
        found = check(column)
        assert found is not None
        ok, values = found
        for text, accepted, value in zip(texts, ok, values.to_pylist(), strict=True):
            try:
                expected = parse(text)
            except ValueError:
                assert not accepted, text
                continue
            assert not accepted or value == expected, text


def test_usual_timestamps_take_the_fast_path() -> None:
    texts = [
        "2024-01-08T10:02:11Z",
        "2024-01-08 10:02:11+08:00",
        "2024-01-08T10:02:11.5",
        "2024-01-08",
    ]
    found = c.iso_timestamp(RawColumn(pa.array(texts)))
    assert found is not None and found[0].all()
    assert found[1].to_pylist() == [p.iso_timestamp(t) for t in texts]


@st.composite
def _icp_texts(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(["苏", "京", "粤", "港", "x", ""]))
    kind = draw(st.sampled_from(["ICP备", "ICP证", "icp备", "ICP", "ICP備"]))
    digits = "".join(str(draw(st.integers(0, 9))) for _ in range(draw(st.integers(5, 11))))
    if draw(st.booleans()):
        digits = draw(st.sampled_from(["2003", "2004", "2099", "2100", "1999"])) + digits[:6]
    text = province + kind + digits + draw(st.sampled_from(["号", "", "號"]))
    if draw(st.booleans()):
        text += draw(st.sampled_from(["-", "－"])) + str(draw(st.integers(0, 120)))
        text += draw(st.sampled_from(["", "0"]))
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(_icp_texts(), min_size=1, max_size=20))
def test_icp_cells_parse_as_python_does(texts: list[str]) -> None:
    column = RawColumn(pa.array(texts))
    for check, parse in ((c.icp_subject, p.subject_licence), (c.icp_service, p.service_licence)):
        found = check(column)
        assert found is not None
        for text, accepted in zip(texts, found[0], strict=True):
            if accepted:
                assert parse(text) == text


def test_usual_icp_numbers_take_the_fast_path() -> None:
    subjects = ["苏ICP备12345678号", "苏ICP备2021012345号", "京ICP证030173号"]
    services = ["苏ICP备12345678号-1", "苏ICP备2021012345号-12"]
    assert c.icp_subject(RawColumn(pa.array(subjects)))[0].all()  # type: ignore[index]
    assert c.icp_service(RawColumn(pa.array(services)))[0].all()  # type: ignore[index]


FOOTER_PIECES = [
    "© 2024 某公司 版权所有 ",
    "苏ICP备12345678号",
    "苏ICP备12345678号-1",
    "苏ICP备2021012345号-12",
    "京ICP证030173号",
    "苏ICP备1234567号",
    "苏ICP备2003012345号",
    "苏ICP备12345678号-01",
    "苏ICP备12345678号-",
    "苏ICP备12345678号 -3",
    "苏ICP备12345678号\u3000-3",
    "苏ICP备12345678",
    "苏 ICP备12345678号",
    "苏icp备12345678号",
    "苏ICP备１２３４５６７８号－１",
    "苏ICP備12345678號",
    "苏公网安备32010202010001号",
    "：（【，\u3000 ",
    "增值电信业务经营许可证：B1-20180123",
    "X ICP备12345678号",
    "号-5",
    "\u200b",
    "苏ICP备12345678号—2",
    "粤ICP备2100123456号",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(FOOTER_PIECES), min_size=1, max_size=5), max_size=30))
def test_footer_numbers_are_found_as_python_finds_them(pieces: list[list[str]]) -> None:
    footers = ["".join(parts) for parts in pieces]
    assert footer_numbers(pa.array(footers, pa.string())).to_pylist() == [
        p.footer_icp(f) for f in footers
    ]
