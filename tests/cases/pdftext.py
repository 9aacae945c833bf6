"""Text and fonts of a PDF, read with the standard library (no PDF package is installed).

Enough for WeasyPrint's output: Flate streams, Identity-H fonts with a ToUnicode
bfchar/bfrange map, and text drawn with hex strings in Tj/TJ.
"""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n")
_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_BFRANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_TEXT_OBJECT = re.compile(rb"BT(.*?)ET", re.S)
_HEX = re.compile(rb"<([0-9a-fA-F]*)>")


def streams(pdf: bytes) -> list[bytes]:
    found = []
    for match in _STREAM.finditer(pdf):
        end = pdf.find(b"endstream", match.end())
        try:
            found.append(zlib.decompress(pdf[match.end() : end]))
        except zlib.error:
            continue
    return found


def _unicode_map(decoded: list[bytes]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for stream in decoded:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
            for code, text in _BFCHAR.findall(block):
                mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
            for low, high, start in _BFRANGE.findall(block):
                for offset in range(int(high, 16) - int(low, 16) + 1):
                    mapping[int(low, 16) + offset] = chr(int(start, 16) + offset)
    return mapping


def pdf_text(pdf: bytes) -> str:
    """The text of every text object, one per line."""
    decoded = streams(pdf)
    mapping = _unicode_map(decoded)
    lines = []
    for stream in decoded:
        if b"beginbfchar" in stream:
            continue
        for text_object in _TEXT_OBJECT.findall(stream):
            codes = b"".join(_HEX.findall(text_object)).decode()
            glyphs = [int(codes[i : i + 4], 16) for i in range(0, len(codes) - 3, 4)]
            lines.append("".join(mapping.get(g, "") for g in glyphs))
    return "\n".join(lines)


def embedded_fonts(pdf: bytes) -> list[str]:
    """Names of the embedded font programs (BaseFont of fonts with a FontFile)."""
    text = b"\n".join([pdf, *streams(pdf)])
    return sorted({m.decode() for m in re.findall(rb"/FontName\s*/([^\s/<>\[\]]+)", text)})
