"""Version strings of real products, parsed into something that compares correctly.

Handled: dotted numeric (``2.4.49``), four and five parts (``2.5.10.1``,
``12.2.1.3.0``), Citrix builds (``13.0-92.19`` = 13.0 build 92.19), OpenSSH portable
(``8.9p1``: version 8.9, update ``p1``, as NVD writes it), pre-releases (``9.0.0.M10``,
``2.0.0-rc1``, ``1.0beta2``; NVD's update field ``milestone10``, ``rc1``, ``beta2``),
OpenSSL letters (``1.0.2k``), Ivanti releases (``9.1R11.3``: version 9.1, update
``r11.3``) and distribution suffixes (``2.4.49-ubuntu``, ``1:7.4p1-21+deb9u1``…), which
are recorded but never compared (a distribution may backport fixes).

Two keys per version, both plain strings so that every engine compares them alike:

* ``exact_key``: the release numbers only, for NVD criteria naming one version (its
  update is matched as a separate CPE attribute);
* ``range_key``: release numbers then the stage (dev < alpha < beta < milestone < rc <
  release), for versionStart/End bounds. Post-release updates (``p1``, ``sp1``, ``r11``)
  rank as the release itself: NVD ranges are written on the version field, so
  ``8.9p1`` lies in [8.6, 9.8) and ``9.8p1`` does not.

Both keys begin with the scheme letter: ``d`` dotted, ``c`` calendar (first number
1990–2100 or a date such as 20230101). Versions of different schemes are never
compared. A string that is none of the above is unparseable (``parse_version`` returns
None): it is reported, never called vulnerable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

MAX_PARTS = 8
MAX_DIGITS = 10
RELEASE_STAGE = 5
STAGES = {
    "dev": 0,
    "snapshot": 0,
    "alpha": 1,
    "a": 1,
    "beta": 2,
    "b": 2,
    "milestone": 3,
    "m": 3,
    "rc": 4,
    "cr": 4,
    "pre": 4,
    "preview": 4,
}
STAGE_NAMES = {0: "dev", 1: "alpha", 2: "beta", 3: "milestone", 4: "rc"}
POST_MARKERS = ("p", "sp", "patch", "update", "u", "r")

_RELEASE = re.compile(r"(?P<rel>\d+(?:\.\d+)*)")
_CITRIX_BUILD = re.compile(r"-(?P<build>\d+(?:\.\d+)*)$")
_LETTER = re.compile(r"(?P<letter>[a-z])(?=$|[-+~_])")
_STAGE = re.compile(
    r"[.\-_]?(?P<stage>dev|snapshot|alpha|beta|milestone|preview|pre|rc|cr|a(?=\d)|b(?=\d)|m(?=\d))"
    r"[.\-_]?(?P<num>\d*)"
)
_POST = re.compile(r"[.\-_]?(?P<post>sp|patch|update|p|u|r)[.\-_]?(?P<num>\d+(?:\.\d+)*)")
_LOCAL = re.compile(r"[-+~_ ](?P<local>[0-9a-z][0-9a-z.+~_ -]*)$")
_EPOCH = re.compile(r"^\d+:")


@dataclass(frozen=True)
class Version:
    text: str  # as given
    release: tuple[int, ...]
    stage: int = RELEASE_STAGE
    stage_number: int = 0
    post: str | None = None  # p1, sp1, r11.3 …: an update after the release
    local: str | None = None  # a distribution's build suffix, not compared

    @cached_property
    def scheme(self) -> str:
        first = self.release[0]
        return "c" if 1990 <= first <= 2100 or re.fullmatch(r"(19|20)\d{6}", str(first)) else "d"

    @cached_property
    def exact_key(self) -> str:
        padded = self.release + (0,) * (MAX_PARTS - len(self.release))
        return self.scheme + "".join(f"{n:0{MAX_DIGITS}d}" for n in padded)

    @cached_property
    def range_key(self) -> str:
        return f"{self.exact_key}{self.stage}{self.stage_number:0{MAX_DIGITS}d}"

    @property
    def update(self) -> str | None:
        """The CPE update attribute this version implies (``p1``, ``milestone10``…)."""
        if self.stage != RELEASE_STAGE:
            return f"{STAGE_NAMES[self.stage]}{self.stage_number or ''}"
        return self.post

    @property
    def base(self) -> str:
        """The release numbers as a CPE version string (``8.9``, ``13.0.92.19``)."""
        return ".".join(str(n) for n in self.release)


@lru_cache(maxsize=65536)
def parse_version(text: str | None) -> Version | None:
    """The version, or None when ``text`` is not a version this module understands."""
    if text is None:
        return None
    raw = text.strip()
    rest = _EPOCH.sub("", raw.lower().removeprefix("v"))
    found = _RELEASE.match(rest)
    if not found or not rest:
        return None
    release = [int(n) for n in found["rel"].split(".")]
    rest = rest[found.end() :]
    build = _CITRIX_BUILD.match(rest) if re.fullmatch(r"-\d+(?:\.\d+)*", rest) else None
    if build:
        release += [int(n) for n in build["build"].split(".")]
        rest = ""
    parsed = _suffixes(raw, release, rest)
    if parsed is None or len(parsed.release) > MAX_PARTS:
        return None
    if any(len(str(n)) > MAX_DIGITS for n in parsed.release):
        return None
    return parsed


def _suffixes(raw: str, release: list[int], rest: str) -> Version | None:
    """Read what follows the release numbers: a letter, a stage, a post-release, a
    distribution suffix, in that order; anything else makes the version unparseable."""
    stage, stage_number, post, local = RELEASE_STAGE, 0, None, None
    if letter := _LETTER.match(rest):
        release.append(ord(letter["letter"]) - ord("a") + 1)  # OpenSSL 1.0.2k > 1.0.2j
        rest = rest[letter.end() :]
    if found := _STAGE.match(rest):
        stage, stage_number = STAGES[found["stage"]], int(found["num"] or 0)
        rest = rest[found.end() :]
    elif found := _POST.match(rest):
        post = f"{found['post']}{found['num']}"
        rest = rest[found.end() :]
    if rest:
        found = _LOCAL.fullmatch(rest)
        if not found:
            return None
        local = found["local"]
    return Version(raw, tuple(release), stage, stage_number, post, local)


def with_update(version: Version, update: str | None) -> Version:
    """``version`` with the stage or post-release its CPE update attribute names.

    NVD writes OpenSSH 8.9p1 as version ``8.9`` update ``p1``, Tomcat 9.0.0.M10 as
    ``9.0.0`` update ``milestone10``; ANY (``*``), NA (``-``) or empty change nothing.
    """
    if not update or update in ("*", "-") or version.stage != RELEASE_STAGE or version.post:
        return version
    suffix = parse_version(f"0{update}") if not update[0].isdigit() else None
    if suffix is None or suffix.local or len(suffix.release) != 1:
        return version
    return Version(
        version.text, version.release, suffix.stage, suffix.stage_number, suffix.post, version.local
    )


def split_banner_version(text: str) -> tuple[str, str | None, Version | None]:
    """A banner's version as CPE version and update: ``8.9p1`` → (``8.9``, ``p1``),
    ``9.0.0.M10`` → (``9.0.0``, ``milestone10``); other versions come back as given.

    Unparseable text comes back unchanged with no update and no Version.
    """
    version = parse_version(text)
    if version is None or version.update is None:
        return text.strip(), None, version
    return version.base, version.update, version


def compare(a: Version, b: Version) -> int | None:
    """-1, 0 or 1 by range order; None when the two are of different schemes."""
    if a.scheme != b.scheme:
        return None
    ka, kb = a.range_key, b.range_key
    return (ka > kb) - (ka < kb)
