"""Stored files: evidence uploads and generated notice documents.

Files live under ``$LONGPAN_HOME/uploads/`` — outside any web root — under a random
generated name. The client's file name is checked (a name with a path in it is
refused) and kept only as metadata. The type is decided by the CONTENT (magic bytes),
never by the extension or the browser's claimed type.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from longpan.core.errors import InputError, NotFoundError
from longpan.core.settings import Settings

MAX_UPLOADS = 5
MAX_NAME = 255
PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain; charset=utf-8"
ALLOWED_TYPES = (PDF, PNG, JPEG, XLSX, DOCX, TEXT)
_TEXT_CONTROLS = frozenset("\t\n\r\f")


@dataclass(frozen=True)
class Upload:
    """A file as received: its client-side name (metadata only) and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    data: bytes
    content_type: str


def uploads_dir(settings: Settings) -> Path:
    return settings.home / "uploads"


def sniff_content_type(data: bytes) -> str | None:
    """The file's type from its first bytes, or None when it is none we accept."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    return TEXT if _is_plain_text(data) else None


def _office_type(data: bytes) -> str | None:
    """XLSX and DOCX are zip files; tell them apart by their required parts."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "xl/workbook.xml" in names:
        return XLSX
    if "word/document.xml" in names:
        return DOCX
    return None


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c in _TEXT_CONTROLS or unicodedata.category(c) != "Cc" for c in text)


def check_name(filename: str) -> str:
    """The client's file name if it is a plain name; a path or a trick is refused."""
    name = unicodedata.normalize("NFC", filename or "").strip()
    if not name:
        raise InputError("上传文件缺少文件名 (the upload has no file name)", column="upload")
    bad = (
        "/" in name
        or "\\" in name
        or name.startswith(".")
        or ".." in name
        or ":" in name
        or any(unicodedata.category(c) in ("Cc", "Cf") for c in name)
    )
    if bad or len(name) > MAX_NAME:
        raise InputError(
            f"文件名不合法: {name!r} (file name {name!r} is not allowed: no paths, leading "
            f"dots, '..', ':' or control characters, at most {MAX_NAME} characters)",
            column="upload",
        )
    return name


def safe_download_name(name: str) -> str:
    """A name safe to offer in Content-Disposition: no path separators or controls."""
    cleaned = "".join(
        "_" if c in '/\\:*?"<>|' or unicodedata.category(c) in ("Cc", "Cf") else c for c in name
    )
    return cleaned.strip(" .") or "file"


def check_uploads(
    uploads: tuple[Upload, ...] | list[Upload], max_bytes: int
) -> list[CheckedUpload]:
    """Validate every upload before anything is stored (all or nothing)."""
    if len(uploads) > MAX_UPLOADS:
        raise InputError(
            f"最多上传 {MAX_UPLOADS} 个文件 (at most {MAX_UPLOADS} files per answer)",
            column="upload",
        )
    return [_check_one(u, max_bytes) for u in uploads]


def _check_one(upload: Upload, max_bytes: int) -> CheckedUpload:
    name = check_name(upload.filename)
    if not upload.data:
        raise InputError(f"{name}: 文件为空 (the file is empty)", column="upload")
    if len(upload.data) > max_bytes:
        raise InputError(
            f"{name}: 文件过大 {len(upload.data):,} 字节，上限 {max_bytes:,} "
            f"(the file is {len(upload.data):,} bytes; the limit is {max_bytes:,})",
            column="upload",
        )
    content_type = sniff_content_type(upload.data)
    if content_type is None:
        raise InputError(
            f"{name}: 文件类型不支持 (the content is not PDF, PNG, JPEG, XLSX, DOCX or "
            "UTF-8 text, whatever its name says)",
            column="upload",
        )
    return CheckedUpload(name, upload.data, content_type)


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    size: int
    sha256: str


class FileStore:
    """Writes files under generated names; removes them again if the caller fails."""

    def __init__(self, settings: Settings) -> None:
        self.root = uploads_dir(settings)
        self.written: list[Path] = []

    def put(self, data: bytes) -> StoredFile:
        self.root.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        path = self.root / name
        with open(path, "xb") as f:  # "x": never overwrite
            f.write(data)
        os.chmod(path, 0o600)
        self.written.append(path)
        return StoredFile(name, len(data), hashlib.sha256(data).hexdigest())

    def remove(self, stored_name: str) -> None:
        """Remove one file written by this store (e.g. a document rendered again)."""
        path = self.root / stored_name
        if path in self.written:
            path.unlink(missing_ok=True)
            self.written.remove(path)

    def discard(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()


@contextmanager
def file_store(settings: Settings) -> Iterator[FileStore]:
    """A FileStore whose files are removed when the block (and its transaction) fails."""
    store = FileStore(settings)
    try:
        yield store
    except BaseException:
        store.discard()
        raise


def stored_path(settings: Settings, stored_name: str) -> Path:
    """The path of a stored file; the name must be one we generated."""
    if len(stored_name) != 32 or not all(c in "0123456789abcdef" for c in stored_name):
        raise NotFoundError("附件不存在 (attachment not found)")
    path = uploads_dir(settings) / stored_name
    if not path.is_file():
        raise NotFoundError("附件文件缺失 (the attachment's file is missing)")
    return path
