"""Filing subjects (主体): companies, individuals, government bodies, institutions and
associations, with their business-registry view and ICP subject licences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from longpan.synth import reference as ref
from longpan.synth.codes import icp_subject_numbers, org_codes, usccs
from longpan.synth.model import Shard, SynthConfig

Strings = npt.NDArray[np.str_]
Objects = npt.NDArray[np.object_]  # Python strings of any length
KINDS = ("company", "individual", "institution", "government", "association")
KIND_WEIGHTS = (0.885, 0.08, 0.02, 0.01, 0.005)
NATURE = {
    "company": "企业",
    "individual": "个人",
    "institution": "事业单位",
    "government": "政府机关",
    "association": "社会团体",
}
USCC_PREFIX = {"company": "91", "institution": "12", "government": "11", "association": "51"}
ENTITY_KIND = {
    "company": "企业",
    "institution": "事业单位",
    "government": "机关",
    "association": "社会组织",
}
CITY_NAMES = tuple(ref.CITIES)


@dataclass
class Subjects:
    kind: Strings
    city: Strings
    district: Strings  # GB/T 2260 code
    name: Objects  # 主办单位名称
    short: Objects  # short trade name used in titles
    label: Objects  # ASCII base for domain names
    industry: Objects
    uscc: Strings  # '' for individuals
    licence: Strings
    approved: npt.NDArray[np.datetime64]
    status: Strings  # active | cancelled
    entity_status: Strings  # 存续 | 在业 | 注销 | 吊销 | 迁出 ('' for individuals)
    entity_status_date: npt.NDArray[np.datetime64]

    def __len__(self) -> int:
        return len(self.kind)


def make_subjects(cfg: SynthConfig, rng: np.random.Generator) -> Subjects:
    n = cfg.n_subjects
    kind = rng.choice(np.array(KINDS), n, p=KIND_WEIGHTS)
    kind[:5] = KINDS  # every kind present even in the tiniest province
    _cap_public_bodies(kind, cfg.shard)
    city = rng.choice(np.array(CITY_NAMES), n, p=ref.CITY_WEIGHTS)
    district = _districts(city, rng)
    as_of = np.datetime64(cfg.as_of, "D")
    days_ago = (rng.beta(1.3, 2.4, n) * 15 * 365).astype("timedelta64[D]")
    approved = as_of - days_ago - np.timedelta64(1, "D")
    name, short, label, industry = _names(kind, city, district, rng, cfg.shard)
    uscc = _usccs(kind, district, approved, rng, cfg.shard)
    years = approved.astype("datetime64[Y]").astype(int) + 1970
    licence = icp_subject_numbers("苏", years, rng, cfg.shard)
    status = np.full(n, "active", dtype="<U9")
    entity_status = np.where(
        kind == "individual",
        "",
        rng.choice(np.array(["存续", "在业", "迁出"]), n, p=(0.76, 0.22, 0.02)),
    )
    status_date = approved + rng.integers(-900, -30, n).astype("timedelta64[D]")
    return Subjects(
        kind,
        city,
        district,
        name,
        short,
        label,
        industry,
        uscc,
        licence,
        approved,
        status,
        entity_status.astype("<U2"),
        status_date,
    )


def _districts(city: Strings, rng: np.random.Generator) -> Strings:
    out = np.empty(len(city), dtype="<U6")
    for name, (_abbr, _full, districts) in ref.CITIES.items():
        mask = city == name
        codes = np.array([code for code, _ in districts])
        out[mask] = rng.choice(codes, int(mask.sum()))
    return out


def _names(
    kind: Strings, city: Strings, district: Strings, rng: np.random.Generator, shard: Shard
) -> tuple[Objects, Objects, Objects, Objects]:
    n = len(kind)
    name = np.empty(n, dtype=object)
    short = np.empty(n, dtype=object)
    label = np.empty(n, dtype=object)
    industry = np.full(n, "", dtype=object)
    _companies(kind == "company", city, rng, shard, name, short, label, industry)
    _individuals(kind == "individual", rng, name, short, label)
    _public_bodies(kind, city, district, rng, shard, name, short, label)
    return name, short, label, industry  # object arrays: names vary in length


def _companies(
    mask: npt.NDArray[np.bool_],
    city: Strings,
    rng: np.random.Generator,
    shard: Shard,
    name: npt.NDArray[np.object_],
    short: npt.NDArray[np.object_],
    label: npt.NDArray[np.object_],
    industry: npt.NDArray[np.object_],
) -> None:
    """Unique names per city: a distinct (trade name, industry) pair for each company
    (and across shards: each shard draws from its own share of the combinations)."""
    chars, pinyin = np.array(ref.NAME_CHARS), np.array(ref.NAME_PINYIN)
    industries = np.array([i for i, _ in ref.INDUSTRIES])
    words = np.array([w for _, w in ref.INDUSTRIES])
    k, m = len(chars), len(industries)
    for city_name in np.unique(city[mask]):
        rows = np.flatnonzero(mask & (city == city_name))
        width = 2 if len(rows) <= 0.5 * shard.share(k * k * m) else 3
        combo = shard.choose(rng, k**width * m, len(rows))
        ind, rest = combo % m, combo // m
        core, core_py = np.full(len(rows), "", dtype=object), np.full(len(rows), "", dtype=object)
        for _ in range(width):
            core, core_py = core + chars[rest % k], core_py + pinyin[rest % k]
            rest //= k
        suffix = rng.choice(np.array(ref.COMPANY_SUFFIXES), len(rows))
        name[rows] = city_name + core + industries[ind] + suffix
        short[rows] = core + industries[ind]
        label[rows] = core_py + words[ind]
        industry[rows] = industries[ind]


def _individuals(
    mask: npt.NDArray[np.bool_],
    rng: np.random.Generator,
    name: npt.NDArray[np.object_],
    short: npt.NDArray[np.object_],
    label: npt.NDArray[np.object_],
) -> None:
    rows = np.flatnonzero(mask)
    s = rng.integers(0, len(ref.SURNAMES), len(rows))
    g1 = rng.integers(0, len(ref.GIVEN_CHARS), len(rows))
    g2 = rng.integers(0, len(ref.GIVEN_CHARS), len(rows))
    two = rng.random(len(rows)) < 0.6
    given = np.where(
        two,
        np.array(ref.GIVEN_CHARS, dtype=object)[g1] + np.array(ref.GIVEN_CHARS, dtype=object)[g2],
        np.array(ref.GIVEN_CHARS, dtype=object)[g1],
    )
    given_py = np.where(
        two,
        np.array(ref.GIVEN_PINYIN, dtype=object)[g1] + np.array(ref.GIVEN_PINYIN, dtype=object)[g2],
        np.array(ref.GIVEN_PINYIN, dtype=object)[g1],
    )
    full = np.array(ref.SURNAMES, dtype=object)[s] + given
    name[rows] = full
    short[rows] = full + "的个人网站"
    label[rows] = np.array(ref.SURNAME_PINYIN, dtype=object)[s] + given_py


def _body_options(kind: str) -> list[tuple[str, str, str, str]]:
    """Every distinct public body of a kind: (city, district code, name, domain label)."""
    options = []
    for city_name, (abbr, full, districts) in ref.CITIES.items():
        if kind == "association":
            options += [
                (city_name, districts[0][0], f"{city_name}市{a}", f"{abbr}{w}")
                for a, w in ref.ASSOCIATIONS
            ]
            continue
        bodies = (
            [(b, f"{full}{w}") for b, w in ref.GOV_BUREAUS]
            if kind == "government"
            else [(i, f"{abbr}{w}") for i, w, _ in ref.INSTITUTIONS]
        )
        for index, (code, district_name) in enumerate(districts):
            options += [
                (city_name, code, f"{city_name}市{district_name}{body}", f"{word}{index or ''}")
                for body, word in bodies
            ]
    return options


def _cap_public_bodies(kind: Strings, shard: Shard) -> None:
    """Public bodies are unique: beyond the distinct ones available (to this shard), rows
    become companies."""
    for body_kind in ("government", "institution", "association"):
        rows = np.flatnonzero(kind == body_kind)
        kind[rows[len(shard.deal(_body_options(body_kind))) :]] = "company"


def _public_bodies(
    kind: Strings,
    city: Strings,
    district: Strings,
    rng: np.random.Generator,
    shard: Shard,
    name: npt.NDArray[np.object_],
    short: npt.NDArray[np.object_],
    label: npt.NDArray[np.object_],
) -> None:
    for body_kind in ("government", "institution", "association"):
        rows = np.flatnonzero(kind == body_kind)
        options = shard.deal(_body_options(body_kind))  # each body exists in one shard only
        for row, pick in zip(rows, rng.choice(len(options), len(rows), replace=False), strict=True):
            city[row], district[row], name[row], label[row] = options[pick]
            short[row] = name[row]


def _usccs(
    kind: Strings,
    district: Strings,
    approved: npt.NDArray[np.datetime64],
    rng: np.random.Generator,
    shard: Shard,
) -> Strings:
    n = len(kind)
    modern = (approved >= np.datetime64("2016-01-01")) & (kind == "company")
    new_ids = shard.choose(rng, 31**6, n)  # "MA" + 6 characters
    old_ids = shard.choose(rng, 90_000_000, n) + 10_000_000  # 8 digits
    org = org_codes(np.where(modern, new_ids, old_ids), modern)
    prefix = np.array([USCC_PREFIX.get(str(k), "91") for k in kind])
    codes = usccs(prefix, district, org)
    return np.where(kind == "individual", "", codes)
