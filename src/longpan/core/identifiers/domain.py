"""Domain names: canonical A-label form, registered domain (eTLD+1), containment.

The canonical form is lowercase, ASCII (IDNA A-labels, UTS #46 mapping,
non-transitional), without a trailing dot. ASCII labels may contain '_' because
service names such as ``_dmarc.example.com`` appear in passive-DNS data.
"""

from __future__ import annotations

import ipaddress
import re
import threading

import idna
import tldextract

from longpan.core.errors import IdentifierError

KIND = "domain"
MAX_LABEL = 63
MAX_NAME = 253

_DOTS = str.maketrans(dict.fromkeys("。．｡", "."))
_URL_CHARS = frozenset("/\\:@?#")
_ASCII_LABEL_RE = re.compile(r"[a-z0-9_-]+")
_extractor: tldextract.TLDExtract | None = None
_extractor_lock = threading.Lock()


def _fail(value: str, reason: str) -> IdentifierError:
    return IdentifierError(KIND, value, reason)


def _reject_non_names(text: str, value: str) -> None:
    """Refuse IP addresses, URLs and text with spaces, with a reason for each."""
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        pass
    else:
        raise _fail(value, "this is an IP address, not a domain name")
    if "://" in text:
        raise _fail(value, "this looks like a URL; pass only the host name")
    for ch in text:
        if ch.isspace():
            raise _fail(value, "a domain name cannot contain whitespace")
        if ch in _URL_CHARS:
            raise _fail(
                value,
                f"a domain name cannot contain {ch!r} "
                "(pass only the host name, without scheme, port, path or user)",
            )


def _remap(text: str, value: str) -> str:
    """UTS #46 mapping: case folding, width folding, full-width dots to '.'."""
    try:
        return idna.uts46_remap(text.translate(_DOTS), std3_rules=False, transitional=False)
    except UnicodeError as exc:
        raise _fail(value, f"not a valid internationalised name: {exc}") from None


def _check_ascii_label(label: str, value: str) -> str:
    if label.startswith("xn--"):
        try:
            again = idna.alabel(idna.ulabel(label)).decode("ascii")
        except UnicodeError as exc:  # idna.IDNAError is a UnicodeError
            raise _fail(value, f"label {label!r} is not valid punycode: {exc}") from None
        if again != label:
            raise _fail(
                value, f"label {label!r} is not in canonical punycode form (expected {again!r})"
            )
        return label
    if not _ASCII_LABEL_RE.fullmatch(label):
        bad = next(ch for ch in label if not _ASCII_LABEL_RE.fullmatch(ch))
        raise _fail(
            value, f"label {label!r} contains {bad!r}; expected letters, digits, '-' or '_'"
        )
    return label


def _idna_reason(label: str, exc: UnicodeError) -> str:
    """Explain why idna refused a Unicode label; says the length when that is why."""
    try:
        size = len("xn--" + label.encode("punycode").decode("ascii"))
    except UnicodeError:
        size = 0
    if size > MAX_LABEL:
        return f"label {label[:20]!r}... is {size} octets long as an A-label (at most {MAX_LABEL})"
    return f"label {label!r} cannot be converted to IDNA: {exc}"


def _to_alabel(label: str, value: str) -> str:
    if label.isascii():
        label = _check_ascii_label(label, value)
    else:
        try:
            label = idna.alabel(label).decode("ascii")
        except UnicodeError as exc:
            raise _fail(value, _idna_reason(label, exc)) from None
    if label.startswith("-") or label.endswith("-"):
        raise _fail(value, f"label {label!r} starts or ends with a hyphen")
    if len(label) > MAX_LABEL:
        raise _fail(
            value, f"label {label[:20]!r}... is {len(label)} octets long (at most {MAX_LABEL})"
        )
    return label


def _split_labels(text: str, value: str, allow_single: bool) -> list[str]:
    labels = text.split(".")
    if len(labels) == 1 and not allow_single:
        raise _fail(value, "a single label is not a domain name (expected at least one dot)")
    for i, label in enumerate(labels, start=1):
        if not label:
            raise _fail(value, f"label {i} is empty (consecutive, leading or extra dots)")
    return labels


def canonical_domain(value: str) -> str:
    """Canonical ASCII form of a domain name; raises IdentifierError if malformed."""
    return _canonical(value, allow_single=False)


def _canonical(value: str, *, allow_single: bool) -> str:
    text = value.strip().translate(_DOTS)
    if not text:
        raise _fail(value, "the value is empty")
    _reject_non_names(text, value)
    text = _remap(text, value)
    _reject_non_names(text, value)  # full-width '／', '：' etc. only show up after mapping
    text = text.removesuffix(".")
    if not text:
        raise _fail(value, "the value has no labels")
    labels = [_to_alabel(label, value) for label in _split_labels(text, value, allow_single)]
    if labels[-1].isdigit():
        raise _fail(value, f"the top-level label {labels[-1]!r} is all digits")
    name = ".".join(labels)
    if len(name) > MAX_NAME:
        raise _fail(value, f"the name is {len(name)} octets long (at most {MAX_NAME})")
    return name


def _get_extractor() -> tldextract.TLDExtract:
    """The offline public-suffix-list extractor, built once on first use."""
    global _extractor
    with _extractor_lock:
        if _extractor is None:
            _extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        return _extractor


def registered_domain(value: str) -> str:
    """The registered domain (eTLD+1) per the ICANN section of the public suffix list.

    ``a.b.www.example.com.cn`` -> ``example.com.cn``; ``例子.中国`` ->
    ``xn--fsqu00a.xn--fiqs8s``. Raises IdentifierError for a bare public suffix
    (``com.cn``) or a name under no known suffix.
    """
    name = canonical_domain(value)
    parts = _get_extractor()(name, include_psl_private_domains=False)
    if not parts.suffix:
        raise _fail(value, "the name does not end in a known public suffix")
    if not parts.domain:
        raise _fail(value, f"{parts.suffix!r} is itself a public suffix, not a registered domain")
    return f"{parts.domain}.{parts.suffix}"


def is_within(fqdn: str, domain: str) -> bool:
    """True when fqdn equals domain or is a subdomain of it (compared label by label).

    ``domain`` may also be a single label such as ``cn``.
    """
    child = _canonical(fqdn, allow_single=False).split(".")
    parent = _canonical(domain, allow_single=True).split(".")
    return len(child) >= len(parent) and child[len(child) - len(parent) :] == parent


def to_unicode(domain: str) -> str:
    """Display form: the canonical name with A-labels decoded to Unicode."""
    labels = canonical_domain(domain).split(".")
    return ".".join(idna.ulabel(label) if label.startswith("xn--") else label for label in labels)
