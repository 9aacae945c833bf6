"""Re-create the binary bad-input cases under tests/data/bad/ (for maintainers).

The text cases (missing_column, bad_uscc_check, ...) are plain UTF-8 files edited by
hand. The two cases that cannot be edited as text are written here, deterministically:

* ``gbk_encoding/``      entities.csv encoded in GBK (first bad byte: line 2, column 20)
* ``truncated_parquet/`` entities.parquet written with pyarrow, then cut to half its bytes

Each folder also gets the valid organisations.csv (so a test can prove nothing else was
written) and its expected.txt. Run from anywhere::

    python tests/data/bad/make_bad.py

The Parquet bytes depend on the pyarrow version (its name is in the file footer); the
outputs are committed, so re-run this only when a case has to change.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent

ORGANISATIONS = """\
uscc,name,roles
913200001347562336,中国电信股份有限公司江苏分公司,carrier
91320115MA1N4Q7K0N,南京云擎数据科技有限公司,access_provider
91320100134881026X,江苏润泽农村商业银行股份有限公司,key_unit
"""

ENTITIES = """\
uscc,name,kind,province,city,status,status_date
91320115MA1N4Q7K0N,南京云擎数据科技有限公司,企业,江苏,南京,存续,2017-11-06
91320100134881026X,江苏润泽农村商业银行股份有限公司,企业,江苏,南京,存续,2005-03-18
91320104MA1M8C0L7D,南京鼎新电子商务有限公司,企业,江苏,南京,注销,2023-06-15
"""


def _first_non_utf8(data: bytes) -> tuple[int, int]:
    """(line, column) of the first byte that is not valid UTF-8, both 1-based.

    The column counts characters, as the reader reports it.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8")) + 1
        return line, column
    raise AssertionError("the GBK bytes happen to be valid UTF-8")


def _write_case(name: str, files: dict[str, bytes], expected: dict[str, object]) -> None:
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    for file_name, data in files.items():
        (folder / file_name).write_bytes(data)
    body = "".join(f"{key}={value}\n" for key, value in expected.items())
    (folder / "expected.txt").write_text(body, encoding="utf-8")


def make_gbk_encoding() -> None:
    data = ENTITIES.encode("gbk")
    line, column = _first_non_utf8(data)
    _write_case(
        "gbk_encoding",
        {"organisations.csv": ORGANISATIONS.encode("utf-8"), "entities.csv": data},
        {"file": "entities.csv", "line": line, "column": column},
    )


def make_truncated_parquet() -> None:
    header, *rows = (line.split(",") for line in ENTITIES.splitlines())
    table = pa.table({name: [row[i] for row in rows] for i, name in enumerate(header)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    whole = buffer.getvalue()
    _write_case(
        "truncated_parquet",
        {
            "organisations.csv": ORGANISATIONS.encode("utf-8"),
            "entities.parquet": whole[: len(whole) // 2],
        },
        {"file": "entities.parquet", "line": 1, "column": 1},
    )


def main() -> None:
    make_gbk_encoding()
    make_truncated_parquet()
    for name in ("gbk_encoding", "truncated_parquet"):
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
