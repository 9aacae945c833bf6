"""Evidence uploads: type by content, no path tricks in names, size and count limits."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from longpan.cases.uploads import (
    DOCX,
    JPEG,
    MAX_UPLOADS,
    PDF,
    PNG,
    TEXT,
    XLSX,
    Upload,
    check_name,
    check_uploads,
    safe_download_name,
    sniff_content_type,
)
from longpan.core.errors import InputError

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def xlsx_bytes() -> bytes:
    book = Workbook()
    book.active.append(["整改", "完成"])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_bytes(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF_BYTES, PDF),
        (PNG_BYTES, PNG),
        (JPEG_BYTES, JPEG),
        (zip_bytes(["[Content_Types].xml", "word/document.xml"]), DOCX),
        ("已下线网站，关闭80端口。\nDone.\r\n".encode(), TEXT),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),  # a Windows executable
        (b"\x7fELF\x02\x01\x01\x00", None),  # a Linux executable
        (zip_bytes(["payload.sh"]), None),  # a zip that is no office document
        (zip_bytes(["[Content_Types].xml", "ppt/presentation.xml"]), None),
        (b"PK\x03\x04 truncated", None),
        (b"text with a NUL \x00 byte", None),
        (b"\xff\xfe not utf-8", None),
    ],
)
def test_type_comes_from_the_content(data: bytes, expected: str | None) -> None:
    assert sniff_content_type(data) == expected


def test_real_xlsx_is_recognised() -> None:
    assert sniff_content_type(xlsx_bytes()) == XLSX


@pytest.mark.parametrize(
    "name",
    [
        "../../x",
        "..\\..\\x",
        "/etc/passwd",
        "a/b.pdf",
        "C:evil.pdf",
        ".htaccess",
        "x\x00.pdf",
        "report\u202egpj.exe",
        "a..b",
        "",
        "   ",
    ],
)
def test_names_with_paths_or_tricks_are_refused(name: str) -> None:
    with pytest.raises(InputError) as caught:
        check_name(name)
    assert caught.value.column == "upload"


def test_plain_names_are_kept_as_metadata() -> None:
    assert check_name(" 整改报告 v2.pdf ") == "整改报告 v2.pdf"


def test_a_pdf_name_does_not_make_text_a_pdf() -> None:
    [checked] = check_uploads([Upload("evidence.pdf", b"just text")], 1024)
    assert checked.content_type == TEXT


def test_wrong_type_is_refused_naming_the_file() -> None:
    with pytest.raises(InputError, match=r"evidence\.png.*not PDF, PNG"):
        check_uploads([Upload("evidence.png", b"MZ\x90\x00binary")], 1024)


def test_oversized_and_empty_are_refused() -> None:
    with pytest.raises(InputError, match=r"big\.pdf.*2,048 bytes; the limit is 1,024"):
        check_uploads([Upload("big.pdf", PDF_BYTES + b"0" * (2048 - len(PDF_BYTES)))], 1024)
    with pytest.raises(InputError, match="empty"):
        check_uploads([Upload("empty.txt", b"")], 1024)


def test_too_many_files_are_refused() -> None:
    files = [Upload(f"f{i}.txt", b"ok") for i in range(MAX_UPLOADS + 1)]
    with pytest.raises(InputError, match=f"at most {MAX_UPLOADS}"):
        check_uploads(files, 1024)


def test_download_names_cannot_carry_paths() -> None:
    assert safe_download_name("苏通信安/2024\\5:号.pdf") == "苏通信安_2024_5_号.pdf"
    assert safe_download_name("..") == "file"
