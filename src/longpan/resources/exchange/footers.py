"""The ICP number in web-page footers, for a whole column (``parsers.footer_icp``).

``find_icp_numbers`` folds the text (NFKC, zero-width characters, dash and traditional
variants) and takes the first valid number its pattern finds. Most footers are plain:
ASCII and CJK ideographs with some full-width punctuation, at most one 'ICP', written
canonically ('苏ICP备12345678号-1'). Folding changes nothing in them that the pattern
can see, so the number is read here with one regular expression and checked as
``parse_icp`` checks it. Every other footer goes to the Python function, once per
distinct footer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longpan.core.identifiers.icp import PROVINCES
from longpan.resources.exchange import parsers as p
from longpan.resources.exchange.columns import mask
from longpan.resources.exchange.memo import Mask, map_unique, scatter

# Characters folding leaves alone or turns into punctuation or a space the pattern
# treats alike: printable ASCII, CJK ideographs (not 號備證), CJK and full-width
# punctuation (not the full-width hyphen, digits and letters).
_PLAIN = (
    r"^[\x20-\x7e\x{a9}\x{ae}\x{b7}\x{3000}-\x{3003}\x{3008}-\x{3011}"
    r"\x{4e00}-\x{5098}\x{509a}-\x{865e}\x{8660}-\x{8b48}\x{8b4a}-\x{9fff}"
    r"\x{ff01}-\x{ff0c}\x{ff0e}\x{ff0f}\x{ff1a}-\x{ff20}\x{ff3b}-\x{ff40}\x{ff5b}-\x{ff5e}]*$"
)
_NUMBER = (
    rf"(?P<head>[{''.join(sorted(PROVINCES))}]ICP(?P<kind>[备证]))(?P<digits>[0-9]+)号"
    r"(?:-(?P<service>[0-9]+)|$|[^ \x{3000}-])"  # no space then '-N' (Python's \s)
)


def footer_numbers(footers: pa.Array) -> pa.Array:
    """``parsers.footer_icp`` of every footer (null where there is none); no nulls in."""
    plain = mask(pc.match_substring_regex(footers, _PLAIN))
    icps = np.asarray(pc.count_substring(footers, "icp", ignore_case=True).to_numpy())
    none = plain & (icps == 0)
    one = plain & (icps == 1)
    found, read = _read_numbers(footers.filter(pa.array(one)))
    done = none.copy()
    done[one] = read
    result = scatter(pa.nulls(len(footers), pa.string()), one, found)
    slow = ~done
    if slow.any():
        numbers, _ = map_unique(footers.filter(pa.array(slow)), p.footer_icp, pa.string())
        result = scatter(result, slow, numbers)
    return result


def _read_numbers(footers: pa.Array) -> tuple[pa.Array, Mask]:
    """(the number of each footer, or null; footers whose number this could read)."""
    parts = pc.extract_regex(footers, _NUMBER)
    read = mask(parts.is_valid())
    head, kind = parts.field("head"), parts.field("kind")
    digits, service = parts.field("digits"), parts.field("service")
    size = np.asarray(pc.utf8_length(digits).to_numpy(), dtype=np.int64)
    year = pc.utf8_lpad(pc.utf8_slice_codeunits(digits, 0, 4), 1, "0").cast(pa.int64())
    years = np.asarray(year.to_numpy(), dtype=np.int64)
    filing = mask(pc.equal(kind, "备"))
    dated = (size == 10) & (years >= 2004) & (years <= 2099)
    valid = np.where(filing, (size == 8) | dated, size == 6)
    served = mask(pc.utf8_is_digit(service)) & ~mask(pc.starts_with(service, "0"))
    subject = pc.binary_join_element_wise(head, digits, "号", "")
    numbered = pc.binary_join_element_wise(subject, "-", service, "")
    number = pc.if_else(pa.array(served), numbered, subject)
    return pc.if_else(pa.array(read & valid), number, pa.scalar(None, pa.string())), read
