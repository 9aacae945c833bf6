"""The sampling method of the integrity star-rating pilots, and its confidence interval.

Per access provider (the stratum), by its number of records N: N = 1 → that record;
2–49 → 2; 50–100 → 3; over 100 → 3 % (rounded up). A record is accurate when its
subject and access information are both correct. The province-wide estimate weights
each provider's sample accuracy by its share of records (a stratified estimate), with a
normal-approximation 95 % interval using the finite-population correction; a provider's
own interval is Wilson's, with the same correction: a provider sampled in full (one
record, or every record) has no sampling error, and a sample of 2 of 5 records says more
than 2 draws from an endless population would.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


def sample_size(population: int) -> int:
    if population <= 1:
        return population
    if population < 50:
        return 2
    if population <= 100:
        return 3
    return math.ceil(population * 0.03)


def draw(records: Sequence[str], seed: int, stratum: str) -> list[str]:
    """A reproducible simple random sample of ``records`` (ids) for one stratum."""
    chooser = random.Random(f"{seed}:{stratum}")
    ordered = sorted(records)
    return sorted(chooser.sample(ordered, sample_size(len(ordered))))


def wilson(accurate: int, n: int, population: int | None = None) -> tuple[float, float]:
    """Wilson's 95 % interval for ``accurate`` of ``n`` sampled; drawn without
    replacement from ``population`` records (when given), with the finite-population
    correction: the sample counts as n (N − 1) / (N − n) draws, exact when n = N."""
    if n == 0:
        return (0.0, 1.0)
    p = accurate / n
    if population is not None and n >= population:
        return (p, p)
    draws = float(n)
    if population is not None and population > 1:
        draws = n * (population - 1) / (population - n)
    denominator = 1 + Z95**2 / draws
    centre = (p + Z95**2 / (2 * draws)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / draws + Z95**2 / (4 * draws * draws)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Stratum:
    population: int
    sampled: int
    accurate: int


def stratified(strata: Sequence[Stratum]) -> tuple[float, float, float]:
    """(estimate, low, high) of the overall accuracy from per-stratum samples."""
    total = sum(s.population for s in strata if s.sampled)
    if total == 0:
        return (1.0, 1.0, 1.0)
    estimate = variance = 0.0
    for s in strata:
        if not s.sampled:
            continue
        weight = s.population / total
        p = s.accurate / s.sampled
        estimate += weight * p
        if s.sampled > 1:
            fpc = 1 - s.sampled / s.population
            variance += weight**2 * fpc * p * (1 - p) / (s.sampled - 1)
    half = Z95 * math.sqrt(variance)
    return (estimate, max(0.0, estimate - half), min(1.0, estimate + half))
