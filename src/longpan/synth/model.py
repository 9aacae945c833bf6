"""What to generate: scales, irregularity rates, and the generator's configuration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from longpan.core.errors import InputError

GENERATOR_VERSION = "1.1.0"
T = TypeVar("T")
ScaleName = Literal["tiny", "small", "medium", "large", "xl"]


@dataclass(frozen=True)
class Scale:
    name: str
    services: int
    dns_rows: int  # target number of passive-DNS observations
    access_providers: int
    parquet: bool  # CSV for the small scales, Parquet above
    shards: int = 1  # generated in this many parts, one at a time, to bound memory
    # key units' network logs (14 days): DNS queries per unit and day (flows, HTTP: half)
    logs_per_unit_day: int = 10


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("tiny", 100, 1_500, 3, parquet=False),
        Scale("small", 5_000, 60_000, 12, parquet=False, logs_per_unit_day=60),
        Scale("medium", 100_000, 1_000_000, 40, parquet=True, logs_per_unit_day=300),
        Scale("large", 500_000, 20_000_000, 120, parquet=True, logs_per_unit_day=800),
        Scale("xl", 5_000_000, 200_000_000, 400, parquet=True, shards=20, logs_per_unit_day=1_200),
    )
}

# Share of the eligible population given each irregularity (with at least one each).
DEFAULT_RATES: dict[str, float] = {
    "unfiled_website": 0.02,  # of websites: extra unfiled sites served in the province
    "false_filing": 0.006,  # of filed website domains
    "shell_website": 0.008,  # of website filings
    "dissolved_subject": 0.01,  # of company subjects
    "expired_domain": 0.006,  # of filed website domains
    "domain_moved_abroad": 0.008,  # of filed website domains
    "lookalike_domain": 0.5,  # look-alikes per protected domain
    "ip_filing_inaccurate": 0.01,  # of IP filings
}
# How many of each near-miss kind, as a share of websites (at least one each).
NEAR_MISS_RATE = 0.002
NEAR_MISS_KINDS = (
    "subdomain_of_filed",
    "sister_site_on_filed_ip",
    "domestic_transfer",
    "expired_after_cancellation",
    "renewal_after_expiry",
    "cdn_shared_address",
    "old_similar_domain",
    "unfiled_outside_province",
    "site_404",
)


@dataclass(frozen=True)
class Shard:
    """One of ``count`` parts of a province generated one after the other.

    Identifier spaces (organisation codes, licence numbers, company-name combinations,
    public bodies) are dealt out so that no two shards can draw the same value: shard
    ``index`` takes every ``count``-th value starting at ``index``. With one shard
    (every scale but xl) that is the whole space, drawn exactly as before.
    """

    index: int = 0
    count: int = 1

    def share(self, size: int) -> int:
        """How many of ``range(size)`` belong to this shard."""
        return (size - self.index + self.count - 1) // self.count

    def spread(self, draws: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Numbers drawn below ``share(size)`` mapped to this shard's values below ``size``."""
        return draws * self.count + self.index

    def choose(self, rng: np.random.Generator, size: int, n: int) -> npt.NDArray[np.int64]:
        """``n`` distinct numbers below ``size``, all in this shard's share."""
        return self.spread(rng.choice(self.share(size), n, replace=False))

    def integer(self, rng: np.random.Generator, low: int, high: int) -> int:
        """One number in ``[low, high)`` from this shard's share."""
        return low + int(rng.integers(0, self.share(high - low))) * self.count + self.index

    def deal(self, items: Sequence[T]) -> list[T]:
        """This shard's share of a list of distinct things (every count-th item)."""
        return list(items[self.index :: self.count])


@dataclass(frozen=True)
class SynthConfig:
    scale: Scale
    seed: int
    as_of: date = date(2024, 12, 31)
    province: str = "江苏"
    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    shard: Shard = Shard()

    @property
    def n_subjects(self) -> int:
        # Jiangsu's real ratio: 265k subjects for 456k services (this shard's part).
        return max(20, round(self.scale.services / self.shard.count / 1.72))

    @property
    def seed_sequence(self) -> int | list[int]:
        """The random seed of this shard (the plain seed when there is one shard)."""
        return self.seed if self.shard.count == 1 else [self.seed, 31, self.shard.index]

    def count(self, finding_type: str, population: int) -> int:
        return max(1, round(self.rates[finding_type] * population))


def make_config(
    scale: str,
    seed: int,
    *,
    as_of: date | None = None,
    province: str = "江苏",
    rates: dict[str, float] | None = None,
) -> SynthConfig:
    """Validate the user's choices and build the configuration."""
    if scale not in SCALES:
        raise InputError(f"--scale: unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if province not in ("江苏", "江苏省"):
        raise InputError(
            f"--province: no reference data for {province!r} yet; only 江苏 is available"
        )
    merged = dict(DEFAULT_RATES)
    for name, value in (rates or {}).items():
        if name not in DEFAULT_RATES:
            raise InputError(
                f"--rate: unknown irregularity {name!r}; known: {', '.join(DEFAULT_RATES)}"
            )
        if not 0 <= value <= 1 and name != "lookalike_domain":
            raise InputError(f"--rate: the rate for {name} must be between 0 and 1")
        merged[name] = value
    return SynthConfig(SCALES[scale], seed, as_of or date(2024, 12, 31), "江苏", merged)
