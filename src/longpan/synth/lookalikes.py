"""Look-alike domains of key units' and well-known brands' domains.

Made with the tricks squatters use — typos, homoglyphs (ASCII and Cyrillic IDN),
the owner's name in pinyin and pinyin initials, TLD swaps and combo-squats — newly
registered (the irregularity) or registered years ago (a near miss).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
from pypinyin import Style, lazy_pinyin

from longpan.core.errors import IdentifierError
from longpan.core.identifiers import canonical_domain, registered_domain, to_unicode
from longpan.synth import reference as ref
from longpan.synth.inject import Province
from longpan.synth.universe import DomainRecord, Whois, at

ASCII_GLYPHS = {"o": "0", "l": "1", "i": "1", "m": "rn", "e": "3", "a": "4", "s": "5"}
CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у"}
SWAP_TLDS = ("com", "cn", "com.cn", "net", "top", "xyz", "cc", "vip")

Method = Callable[[str, str, str, np.random.Generator], str | None]


def _split(domain: str) -> tuple[str, str]:
    """First label (in Unicode, so that edits stay valid IDN) and the rest."""
    label, _, suffix = to_unicode(domain).partition(".")
    return label, suffix


def _typo(domain: str, _owner: str, _tld: str, rng: np.random.Generator) -> str | None:
    label, suffix = _split(domain)
    if len(label) < 4:
        return None
    i = int(rng.integers(1, len(label) - 1))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        label = label[:i] + label[i + 1 :]  # omission
    elif kind == 1:
        label = label[: i - 1] + label[i] + label[i - 1] + label[i + 1 :]  # transposition
    else:
        label = label[:i] + label[i] + label[i:]  # repetition
    return f"{label}.{suffix}"


def _homoglyph(domain: str, _owner: str, _tld: str, rng: np.random.Generator) -> str | None:
    label, suffix = _split(domain)
    spots = [i for i, ch in enumerate(label) if ch in ASCII_GLYPHS]
    if not spots:
        return None
    i = spots[int(rng.integers(0, len(spots)))]
    return f"{label[:i]}{ASCII_GLYPHS[label[i]]}{label[i + 1 :]}.{suffix}"


def _idn(domain: str, _owner: str, _tld: str, rng: np.random.Generator) -> str | None:
    label, suffix = _split(domain)
    spots = [i for i, ch in enumerate(label) if ch in CYRILLIC]
    if not spots:
        return None
    i = spots[int(rng.integers(0, len(spots)))]
    return canonical_domain(f"{label[:i]}{CYRILLIC[label[i]]}{label[i + 1 :]}.{suffix}")


def _pinyin(domain: str, owner: str, tld: str, rng: np.random.Generator) -> str | None:
    if not owner:
        return None
    short = owner.removesuffix("股份有限公司").removesuffix("有限公司")
    syllables = lazy_pinyin(short)
    if rng.random() < 0.5:
        label = "".join(syllables)
    else:
        label = "".join(lazy_pinyin(short, style=Style.FIRST_LETTER))
    return f"{label}.{tld}" if f"{label}.{tld}" != domain else None


def _tld_swap(domain: str, _owner: str, _tld: str, rng: np.random.Generator) -> str | None:
    label, suffix = _split(domain)
    options = [t for t in SWAP_TLDS if t != suffix]
    return f"{label}.{options[int(rng.integers(0, len(options)))]}"


def _combo(domain: str, _owner: str, _tld: str, rng: np.random.Generator) -> str | None:
    label, suffix = _split(domain)
    word = ref.LOOKALIKE_KEYWORDS[int(rng.integers(0, len(ref.LOOKALIKE_KEYWORDS)))]
    joined = (f"{label}-{word}", f"{word}-{label}", f"{label}{word}")[int(rng.integers(0, 3))]
    return f"{joined}.{suffix}"


METHODS: dict[str, Method] = {
    "typo": _typo,
    "homoglyph": _homoglyph,
    "idn": _idn,
    "pinyin": _pinyin,
    "tld_swap": _tld_swap,
    "combo": _combo,
}


def protected_domains(p: Province) -> list[tuple[str, str]]:
    """(domain, owner name) of key units' filed domains, then the brand list.

    Key units all live in the first shard; later shards are handed its list.
    """
    if p.protected is not None:
        return p.protected
    units = {u.uscc for u in p.net.key_units}
    found = []
    for service in p.services.rows:
        if p.subjects.uscc[service.subject] in units and service.domains:
            found += [(d, str(p.subjects.name[service.subject])) for d in service.domains]
    return found + [(b, "") for b in ref.BRANDS]


def lookalikes(p: Province) -> None:
    """Newly registered look-alikes: 0.5 per protected domain of the whole province,
    so all made once, in the first shard (which holds the key units)."""
    if p.cfg.shard.index > 0:
        return
    protected = protected_domains(p)
    count = max(6, round(p.cfg.rates["lookalike_domain"] * len(protected)))
    names = list(METHODS)
    for n in range(count):
        method = names[n % len(names)]  # every method used
        made = _make(p, protected, method)
        if made:
            domain, target = made
            _register(p, domain, p.days_ago(1, 28), "lookalike")
            p.flag("lookalike_domain", domain, f"{method} of {target}")


def old_similar(p: Province) -> None:
    """Similar domains registered years ago: not newly registered, so not flagged."""
    protected = protected_domains(p)
    for n in range(max(1, round(0.002 * len(p.services.websites())))):
        made = _make(p, protected, list(METHODS)[n % len(METHODS)])
        if made:
            domain, target = made
            _register(p, domain, p.days_ago(1500, 4000), "old_similar_domain")
            p.near(domain, "old_similar_domain", f"registered years ago, similar to {target}")


def _make(p: Province, protected: list[tuple[str, str]], method: str) -> tuple[str, str] | None:
    for _attempt in range(20):
        target, owner = protected[int(p.rng.integers(0, len(protected)))]
        tld = _split(target)[1]
        candidate = METHODS[method](target, owner, tld, p.rng)
        if candidate is None or tld.endswith(("gov.cn", "edu.cn")):
            continue  # nobody but the government and schools can register those
        try:
            domain = canonical_domain(candidate)
        except IdentifierError:
            continue
        if (
            registered_domain(domain) == domain
            and domain not in p.universe.by_domain
            and domain not in p.services.taken_domains
        ):
            p.services.taken_domains.add(domain)
            return domain, target
    return None


def _register(p: Province, domain: str, created_day: date, tag: str) -> DomainRecord:
    registrar = ref.REGISTRARS[int(p.rng.integers(0, len(ref.REGISTRARS)))]
    record = DomainRecord(domain, -1, [], None, None, tag=tag)
    observed = min(p.cfg.as_of, created_day + timedelta(days=int(p.rng.integers(0, 3))))
    expires = created_day + timedelta(days=365 * int(p.rng.integers(1, 12)))
    while expires <= p.cfg.as_of:
        expires += timedelta(days=365)
    record.whois = [
        Whois(
            at(observed, p.rng),
            registrar.iana_id,
            registrar.name,
            "REDACTED FOR PRIVACY",
            at(created_day, p.rng),
            at(expires, p.rng).replace(hour=0, minute=0, second=0),
            "ok",
        )
    ]
    p.universe.add(record)
    return record
