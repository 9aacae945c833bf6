"""Permutations of protected domains, for the lookalike_domain detector (private to it).

For each protected domain this lists the registered domains a squatter would register to
imitate it, each in canonical form (lowercase IDNA A-labels), with the method that makes
it. The detector joins that table with new registrations: a lookup, never a comparison of
every pair of domains.

Methods:
- dnstwist's fuzzers on the label: omission, transposition, repetition, replacement,
  insertion, addition, vowel-swap, hyphenation, plural, bitsquatting (labels of at least
  ``MIN_EDIT_LABEL`` characters: an edit of a shorter label is just another short name),
  cyrillic (every letter), homoglyph (ASCII glyphs twice, Unicode glyphs once where the
  registry allows Latin IDN) and various (the suffix folded into the label);
- added here, because dnstwist lacks them: digit look-alikes in the homoglyph table
  (e→3, a→4, s→5 …), Cyrillic look-alikes of one or two letters (dnstwist only replaces
  them all), tld-swap over a configurable TLD list (``.中国`` included), combo-squats with
  keywords (label+kw, kw+label, label-kw, kw-label on the own suffix, .com and .cn), and
  pinyin of the owner's Chinese name, in full and as initials, on the own suffix and on
  every listed TLD.

dnstwist offers no public call that returns one fuzzer's labels, and its ``generate()``
punycodes and validates every name through its own objects (≈ 25 ms a domain against
≈ 1 ms); so the fuzzers are called directly on a Fuzzer whose label and suffix are set
here (its own suffix split is a heuristic that this module does not need).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import dnstwist
import idna
import pyarrow as pa

from longpan.core.regions import PROVINCES

MIN_EDIT_LABEL = 4  # keyboard / bit-flip edits only for labels at least this long
MIN_PINYIN_LABEL = 3  # shorter pinyin (initials of a two-character name) is too generic
PREFILTER_DISTANCE = 4  # no label fuzzer moves a label further than this (see could_imitate)
COMBO_SUFFIXES = ("com", "cn")
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司")
TRAILING_FORMS = ("集团", "公司")
# national and province names that open many names (full names first: 江苏省 before 江苏)
NAME_PREFIXES = tuple(
    sorted(
        {"中国", *PROVINCES, *(full for full, _abbr, _code in PROVINCES.values())},
        key=lambda p: (-len(p), p),
    )
)

EDIT_FUZZERS = (
    "omission",
    "transposition",
    "repetition",
    "replacement",
    "insertion",
    "addition",
    "vowel-swap",
    "hyphenation",
    "plural",
    "bitsquatting",
)
LEET = {"a": "4", "b": "8", "e": "3", "g": "9", "i": "1", "l": "1", "o": "0", "s": "5", "t": "7"}


def _stable(glyph: str) -> bool:
    """A glyph that IDNA accepts and UTS #46 leaves as it is."""
    try:
        mapped = idna.uts46_remap(glyph, std3_rules=False, transitional=False)
        idna.alabel("a" + glyph)
    except UnicodeError:
        return False
    return bool(mapped == glyph)


_FUZZER: Any = dnstwist.Fuzzer
ASCII_GLYPHS: dict[str, tuple[str, ...]] = {
    key: tuple(dict.fromkeys([*_FUZZER.glyphs_ascii.get(key, ()), *LEET.get(key, "")]))
    for key in sorted(set(_FUZZER.glyphs_ascii) | set(LEET))
}
CYRILLIC: dict[str, str] = {k: v for k, v in _FUZZER.latin_to_cyrillic.items() if _stable(v)}
_ASCII_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_KEEP = re.compile(r"[^a-z0-9]")


@dataclass(frozen=True)
class Protected:
    """A protected registered domain and who owns it (a key unit, or a brand)."""

    domain: str  # canonical registered domain
    owner_uscc: str | None = None
    owner_name: str | None = None
    kind: str = "brand"  # key_unit | brand


@dataclass(frozen=True)
class Settings:
    keywords: tuple[str, ...]
    tlds: tuple[str, ...]  # canonical suffixes (A-labels)


def is_ascii_label(text: str) -> bool:
    """Letters, digits and inner hyphens (and not an IDNA-reserved ``ab--`` label)."""
    return bool(_ASCII_LABEL.fullmatch(text)) and text[2:4] != "--"


def split(domain: str) -> tuple[str, str]:
    """A canonical registered domain's first label (in Unicode) and its suffix (A-labels)."""
    label, _, suffix = domain.partition(".")
    if label.startswith("xn--"):
        label = idna.ulabel(label)
    return label, suffix


def _canonical(label: str, suffix: str) -> str | None:
    """``label.suffix`` in canonical form (as ``canonical_domain`` gives it), or None.

    ``suffix`` is canonical already. Labels are built only from characters that are
    canonical themselves (the protected label's own, ASCII, and glyphs checked by
    ``_stable``), so a Unicode label needs only its punycode: the full IDNA check costs
    forty times more, and a name that fails it cannot be in the lake to match anyway.
    """
    if label.isascii():
        return f"{label}.{suffix}" if is_ascii_label(label) else None
    if label.startswith("-") or label.endswith("-"):
        return None
    alabel = "xn--" + label.encode("punycode").decode("ascii")
    return f"{alabel}.{suffix}" if len(alabel) <= 63 else None


# --- label fuzzers -----------------------------------------------------------------


def _fuzzer(label: str, suffix: str) -> Any:
    """A dnstwist Fuzzer on ``label`` and ``suffix`` (its __init__ would re-split the
    name with a heuristic, and tries to import an optional package on every call)."""
    fuzzer = _FUZZER.__new__(_FUZZER)
    fuzzer.subdomain, fuzzer.domain, fuzzer.tld = "", label, suffix
    fuzzer.dictionary, fuzzer.tld_dictionary, fuzzer.domains = [], [], set()
    return fuzzer


def _mix(label: str, glyphs: dict[str, tuple[str, ...]]) -> Iterator[str]:
    """Each character, and each pair of characters, replaced by one of its glyphs."""
    for i, ch in enumerate(label):
        for glyph in glyphs.get(ch, ()):
            yield label[:i] + glyph + label[i + 1 :]
    for i in range(len(label) - 1):
        window = label[i : i + 2]
        for part in {window[0], window[1], window}:
            for glyph in glyphs.get(part, ()):
                yield label[:i] + window.replace(part, glyph) + label[i + 2 :]


def homoglyphs(label: str, suffix: str) -> set[str]:
    """ASCII look-alikes (two rounds) and, where the registry allows, Unicode (one round)."""
    first = set(_mix(label, ASCII_GLYPHS))
    found = set(first)
    for once in first:
        found.update(_mix(once, ASCII_GLYPHS))
    found.update(_mix(label, _unicode_glyphs(suffix)))
    return found


@lru_cache(maxsize=64)
def _unicode_glyphs(suffix: str) -> dict[str, tuple[str, ...]]:
    """dnstwist's Unicode glyphs for the registry of ``suffix`` (none for .cn)."""
    table = _FUZZER.glyphs_idn_by_tld.get(suffix, _FUZZER.glyphs_unicode)
    return {k: tuple(g for g in v if _stable(g)) for k, v in table.items()}


def cyrillic(label: str) -> set[str]:
    """One or two letters replaced by their Cyrillic twin, and every letter replaced."""
    spots = [i for i, ch in enumerate(label) if ch in CYRILLIC]
    found = {"".join(CYRILLIC.get(ch, ch) for ch in label)} if spots else set()
    for n, i in enumerate(spots):
        one = label[:i] + CYRILLIC[label[i]] + label[i + 1 :]
        found.add(one)
        for j in spots[n + 1 :]:
            found.add(one[:j] + CYRILLIC[label[j]] + one[j + 1 :])
    return found


def _dnstwist(fuzzer: Any, name: str) -> set[str]:
    """One dnstwist fuzzer's labels (none if this dnstwist version lacks it)."""
    method: Callable[[], Iterable[str]] | None = getattr(fuzzer, "_" + name.replace("-", "_"), None)
    return set(method()) if method else set()


@lru_cache(maxsize=4096)
def pinyin_labels(name: str | None) -> tuple[tuple[str, str], ...]:
    """(label, method): the owner's name in pinyin, full and initials, with and without
    its legal form (股份有限公司 …, then a trailing 集团 or 公司)."""
    from pypinyin import Style, lazy_pinyin  # 0.3 s of dictionaries: not for every command

    found: dict[str, str] = {}
    for variant in _name_variants(name or ""):
        for style, method in ((Style.NORMAL, "pinyin"), (Style.FIRST_LETTER, "pinyin-initials")):
            label = _KEEP.sub("", "".join(lazy_pinyin(variant, style=style)).lower())
            if MIN_PINYIN_LABEL <= len(label) <= 63 and not label.isdigit():
                found.setdefault(label, method)
    return tuple(found.items())


def _name_variants(name: str) -> list[str]:
    """The name; without its legal form; without a trailing 集团/公司; and each of the
    last two without a leading 中国 or province name (when four characters remain)."""
    name = "".join(name.split())
    cuts = [name.find(form) for form in LEGAL_FORMS if form in name]
    core = name[: min(cuts)] if cuts else name
    short = core
    for form in TRAILING_FORMS:
        short = short.removesuffix(form)
    variants = [name, core, short]
    for text in (core, short):
        prefix = next((p for p in NAME_PREFIXES if text.startswith(p)), "")
        if prefix and len(text) - len(prefix) >= 4:
            variants.append(text[len(prefix) :])
    return [v for v in dict.fromkeys(variants) if any("\u4e00" <= ch <= "\u9fff" for ch in v)]


def _variants(domain: str, owner_name: str | None, settings: Settings) -> Iterator[tuple[str, str]]:
    """(candidate label or name, method) in order of preference; names contain a dot."""
    label, suffix = split(domain)
    for tld in settings.tlds:
        yield f"{label}.{tld}", "tld-swap"
    yield from ((v, "homoglyph") for v in sorted(homoglyphs(label, suffix)))
    yield from ((v, "cyrillic") for v in sorted(cyrillic(label)))
    if len(label) >= MIN_EDIT_LABEL:
        fuzzer = _fuzzer(label, suffix)
        for name in EDIT_FUZZERS:
            yield from ((v, name) for v in sorted(_dnstwist(fuzzer, name)))
    yield from ((v, "various") for v in _various(label, suffix))
    for word in settings.keywords:
        for combo in (f"{label}{word}", f"{word}{label}", f"{label}-{word}", f"{word}-{label}"):
            for tld in dict.fromkeys((suffix, *COMBO_SUFFIXES)):
                yield f"{combo}.{tld}", "combo"
    for reading, method in pinyin_labels(owner_name):
        for tld in dict.fromkeys((suffix, *settings.tlds)):
            yield f"{reading}.{tld}", method


def _various(label: str, suffix: str) -> list[str]:
    """dnstwist's 'various': the suffix run into the label (icbccom.cn, taobaocom.com)."""
    if "." in suffix:
        return [f"{label}{suffix}"]
    found = [f"{label}{suffix}.{suffix}"]
    if suffix != "com":
        found += [f"{label}-{suffix}.com", f"{label}{suffix}.com"]
    return found


@lru_cache(maxsize=8192)
def permutations_of(
    domain: str, owner_name: str | None, settings: Settings
) -> tuple[tuple[str, str], ...]:
    """(candidate, method) for one protected domain; each candidate once, itself excluded."""
    _label, suffix = split(domain)
    found: dict[str, str] = {}
    for variant, method in _variants(domain, owner_name, settings):
        head, dot, tail = variant.partition(".")
        candidate = _canonical(head, tail if dot else suffix)
        if candidate and candidate != domain:
            found.setdefault(candidate, method)
    return tuple(found.items())


@lru_cache(maxsize=8)
def permutation_table(
    protected: tuple[Protected, ...], settings: Settings, exclude: frozenset[str]
) -> pa.Table:
    """candidate → imitates, method, owner_uscc for ``protected``; ``exclude`` left out."""
    candidates: list[str] = []
    imitates: list[str] = []
    methods: list[str] = []
    owners: list[str | None] = []
    for p in protected:
        for candidate, method in permutations_of(p.domain, p.owner_name, settings):
            if candidate in exclude:
                continue
            candidates.append(candidate)
            imitates.append(p.domain)
            methods.append(method)
            owners.append(p.owner_uscc)
    return pa.table(
        {"candidate": candidates, "imitates": imitates, "method": methods, "owner_uscc": owners},
        schema=pa.schema(
            [(n, pa.string()) for n in ("candidate", "imitates", "method", "owner_uscc")]
        ),
    )


# --- similarity and the re-check prefilter -------------------------------------------


def _build_fold() -> dict[str, str]:
    """One character → the ASCII letter it looks like (Cyrillic, accented, digits)."""
    fold = {cyr: lat for lat, cyr in CYRILLIC.items()}
    for base, glyphs in _FUZZER.glyphs_unicode.items():
        if len(base) == 1:
            fold.update(dict.fromkeys(glyphs, base))
    fold.update({"0": "o", "1": "l", "i": "l", "3": "e", "4": "a", "5": "s", "7": "t"})
    fold.update({"8": "b", "9": "g"})
    return fold


_FOLD = _build_fold()
_MULTI = (("rn", "m"), ("vv", "w"), ("cl", "d"))


def fold(label: str) -> str:
    """Per character: the ASCII letter each character looks like."""
    out = []
    for ch in label:
        ch = _FOLD.get(ch, ch)
        if not ch.isascii():
            base = unicodedata.normalize("NFKD", ch)[0]
            ch = _FOLD.get(base, base) if base.isascii() else ch
        out.append(ch)
    return "".join(out)


def skeleton(label: str) -> str:
    """What the label looks like: folded, and rn/vv/cl read as m/w/d."""
    text = fold(label)
    for pair, single in _MULTI:
        text = text.replace(pair, single)
    return text


def distance(a: str, b: str, limit: int | None = None) -> int:
    """Optimal-string-alignment (Damerau) distance; stops early beyond ``limit``."""
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
        if limit is not None and min(row) > limit:
            return limit + 1
    return row[-1]


def ratio(a: str, b: str) -> float:
    longest = max(len(a), len(b))
    return 1.0 - distance(a, b) / longest if longest else 1.0


TLD_FACTOR = 0.9  # a look-alike under another suffix is a little less convincing


def similarity(candidate: str, protected: Protected, method: str) -> float:
    """How much ``candidate`` looks like ``protected`` (1.0 = identical to the eye).

    The labels, as written and as they look (skeletons), are compared by Damerau distance
    over the longer length, the better of the two counting; pinyin
    candidates are compared with the owner name's reading they spell. Another suffix
    costs ``TLD_FACTOR``.
    """
    c_label, c_suffix = split(candidate)
    p_label, p_suffix = split(protected.domain)
    score = max(ratio(c_label, p_label), ratio(skeleton(c_label), skeleton(p_label)))
    if method.startswith("pinyin"):
        readings = pinyin_labels(protected.owner_name)
        score = max([score, *(ratio(c_label, r) for r, _method in readings)])
    if c_suffix != p_suffix:
        score *= TLD_FACTOR
    return round(score, 3)


def could_imitate(candidate: str, protected: Protected) -> bool:
    """A necessary condition for ``candidate`` to be among ``protected``'s permutations.

    Every label fuzzer changes at most four characters (two rounds of two-character
    glyphs), and folding characters never lengthens a distance; tld-swap, various and
    combos keep the label whole; pinyin spells a reading of the owner's name. The
    re-check of a few subjects generates permutations only for protected domains that
    pass, so it finds exactly what the full run finds.
    """
    c_label, _ = split(candidate)
    p_label, _ = split(protected.domain)
    if p_label in c_label or c_label in dict(pinyin_labels(protected.owner_name)):
        return True
    return distance(fold(c_label), fold(p_label), PREFILTER_DISTANCE) <= PREFILTER_DISTANCE


def relevant(subjects: Iterable[str], protected: Sequence[Protected]) -> tuple[Protected, ...]:
    """The protected domains that any of ``subjects`` could imitate."""
    names = [s for s in subjects if "." in s]
    return tuple(p for p in protected if any(_safe_could(s, p) for s in names))


def _safe_could(candidate: str, protected: Protected) -> bool:
    try:
        return could_imitate(candidate, protected)
    except (UnicodeError, ValueError):
        return False
