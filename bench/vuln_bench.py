"""Vulnerability matching at NVD size (a benchmark, not a test; results go to
docs/benchmarks.md, section "Vulnerability matching").

    .venv/bin/python bench/vuln_bench.py [--cves 300000] [--assets 100000] [--engine duckdb]
    .venv/bin/python bench/vuln_bench.py --reuse /tmp/vuln-bench-XXXX   # measure again

The home it fills is printed (``home``) and left in place for ``--reuse``; remove it after.

Generates a feed shaped like the real NVD sample's configurations — version ranges
(Start/End Including/Excluding), lists of exact versions with update fields (p1, sp1,
milestoneN, rcN, cumulative_update_N), sw_editions, firmware AND hardware nodes,
application AND operating-system nodes — over a long tail of products with a head of
popular ones, stores it through the same path as ``longpan vuln import-nvd``
(``feeds.store_records``: flattened cpeMatch rows with their version keys), ingests
synthetic assets through ``longpan ingest``, then times:

* the full match of every asset against every CVE (``match_assets``), and the
  detector's full output (drafts with evidence, as the runner receives them);
* re-matching one newly arrived CVE alone (``match_assets(cve_ids=[…])``), on a
  popular product.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from longpan.core.settings import load_settings
from longpan.detect.base import DetectionContext
from longpan.resources.ingest import ingest_folder
from longpan.store.workspace import Workspace
from longpan.vuln.feeds import store_records
from longpan.vuln.matching import match_assets
from longpan.vuln.nvd import Configuration, CpeMatch, CveRecord, Node, Score
from longpan.vuln.vulnerable_asset import VulnerableAsset

UPDATES = ("p1", "p2", "sp1", "milestone1", "rc1", "beta2", "cumulative_update_12")
HEAD = 300  # popular products (the ones assets run)
TAIL = 20000  # the long tail of products nobody here runs
HEAD_SHARE = 0.05  # share of CVEs on a popular product
PAGE = 30_000  # CVE records per incremental import
UNIT = "91320100134756233B"
COLUMNS = ("org_uscc", "ip", "port", "protocol", "product", "vendor", "version", "cpe")
COLUMNS += ("os_cpe", "hw_cpe", "hostname", "observed_at")


def version(rng: np.random.Generator) -> str:
    return f"{rng.integers(1, 13)}.{rng.integers(0, 31)}.{rng.integers(0, 61)}"


def product(rng: np.random.Generator) -> int:
    if rng.random() < HEAD_SHARE:
        return int(rng.integers(HEAD))
    return HEAD + int(rng.integers(TAIL))


def cpe(part: str, p: int, ver: str = "*", update: str = "*", edition: str = "*") -> str:
    return f"cpe:2.3:{part}:vendor{p}:product{p}:{ver}:{update}:*:*:{edition}:*:*:*"


def range_match(rng: np.random.Generator, p: int, part: str = "a") -> CpeMatch:
    """As in the sample: a fix within a branch (Tomcat 9.0.1 to 9.0.99, FortiOS 6.0.0 to
    6.0.18), or everything before a version (OpenSSH < 4.4, Jenkins < 2.442)."""
    major, minor = int(rng.integers(1, 13)), int(rng.integers(0, 31))
    end = f"{major}.{minor}.{rng.integers(1, 61)}"
    if rng.random() < 0.65:
        bounds = {"versionStartIncluding": f"{major}.{minor}.0"}
        bounds["versionEndExcluding" if rng.random() < 0.8 else "versionEndIncluding"] = end
    else:
        bounds = {"versionEndExcluding": end}
    edition = "lts" if rng.random() < 0.1 else "*"
    return CpeMatch(cpe(part, p, edition=edition), True, bounds)


def exact_matches(rng: np.random.Generator, p: int, part: str = "a") -> list[CpeMatch]:
    out = []
    for _ in range(int(rng.integers(3, 21))):
        update = UPDATES[int(rng.integers(len(UPDATES)))] if rng.random() < 0.2 else "*"
        out.append(CpeMatch(cpe(part, p, version(rng), update), True))
    return out


def configuration(rng: np.random.Generator, p: int) -> Configuration:
    kind = rng.random()
    if kind < 0.55:
        matches = [range_match(rng, p) for _ in range(int(rng.integers(1, 5)))]
        return Configuration(None, False, (Node("OR", False, tuple(matches)),))
    if kind < 0.80:
        return Configuration(None, False, (Node("OR", False, tuple(exact_matches(rng, p))),))
    if kind < 0.90:  # vulnerable firmware only together with its hardware
        firmware = exact_matches(rng, p, "o")[:5]
        hardware = CpeMatch(cpe("h", p, "-"), False)
        return Configuration(
            "AND", False, (Node("OR", False, tuple(firmware)), Node("OR", False, (hardware,)))
        )
    apps = [range_match(rng, p) for _ in range(int(rng.integers(1, 4)))]
    systems = [CpeMatch(cpe("o", 90000 + k, version(rng)), False) for k in range(3)]
    return Configuration(
        "AND", False, (Node("OR", False, tuple(apps)), Node("OR", False, tuple(systems)))
    )


def make_feed(count: int, seed: int, first: int = 0) -> list[CveRecord]:
    rng = np.random.default_rng(seed)
    start = datetime(2020, 1, 1)
    records = []
    for n in range(first, first + count):
        p = product(rng)
        configs = tuple(configuration(rng, p) for _ in range(1 + int(rng.random() < 0.2)))
        score = float(np.round(rng.uniform(2, 10), 1))
        records.append(
            CveRecord(
                cve_id=f"CVE-{2000 + n % 25}-{100000 + n}",
                published=start,
                last_modified=start + timedelta(minutes=n),
                status="Analyzed",
                description="generated",
                scores={"cvss31": Score(score, "CVSS:3.1/AV:N", None)},
                cwes=(),
                configurations=configs,
                source="generated",
            )
        )
    return records


def _product_of(record: CveRecord) -> int:
    criteria = record.configurations[0].nodes[0].matches[0].criteria
    return int(criteria.split(":")[3].removeprefix("vendor"))


def write_assets(folder: Path, count: int, seed: int) -> None:
    """Assets of 1,000 key units over the popular products, a few builds each."""
    rng = np.random.default_rng(seed + 1)
    builds = {p: [version(rng) for _ in range(40)] for p in range(HEAD)}
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "assets.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for n in range(count):
            p = int(rng.integers(HEAD))
            ver = builds[p][int(rng.integers(40))]
            ip = f"10.{n // 65536}.{(n // 256) % 256}.{n % 256}"
            firmware = rng.random() < 0.1
            row = [UNIT, ip, 443, "tcp", f"product{p}", f"vendor{p}", ver, "", "", "", "", ""]
            if firmware:
                row[7] = cpe("o", p, ver)
                row[9] = cpe("h", p, "-") if rng.random() < 0.5 else ""
            row[11] = "2025-01-01T00:00:00Z"
            out.writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cves", type=int, default=300_000)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", type=Path, help="a LONGPAN_HOME an earlier run filled")
    args = parser.parse_args()
    home = args.reuse or Path(tempfile.mkdtemp(prefix="vuln-bench-"))
    ws = Workspace(load_settings(home=home))
    ws.init()
    figures: dict[str, object] = {"home": str(home), "cves": args.cves, "assets": args.assets}
    if args.reuse is None:
        _fill(ws, home, args, figures)
    figures["cpe_match_rows"] = ws.lake.current("cve_cpe_matches").rows  # type: ignore[union-attr]
    _measure(ws, args.engine, figures)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(figures, indent=1))
    ws.close()


def _fill(ws: Workspace, home: Path, args: argparse.Namespace, figures: dict[str, object]) -> None:
    """The generated feed, page by page as NVD delivers it, then the assets."""
    generating = storing = 0.0
    for start in range(0, args.cves, PAGE):
        started = time.perf_counter()
        records = make_feed(min(PAGE, args.cves - start), args.seed + start, start)
        generating += time.perf_counter() - started
        started = time.perf_counter()
        store_records(ws, records, f"generated page {start // PAGE}")
        storing += time.perf_counter() - started
    figures["generate_s"] = round(generating, 1)
    figures["store_feed_s"] = round(storing, 1)
    write_assets(home / "delivery", args.assets, args.seed)
    started = time.perf_counter()
    ingest_folder(ws, home / "delivery")
    figures["ingest_assets_s"] = round(time.perf_counter() - started, 1)


def _timed(figures: dict[str, object], name: str, started: tuple[float, float]) -> None:
    """Wall time, and CPU time of all the process's threads (fairer on a shared machine)."""
    figures[f"{name}_s"] = round(time.perf_counter() - started[0], 2)
    figures[f"{name}_cpu_s"] = round(time.process_time() - started[1], 2)


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _measure(ws: Workspace, engine_name: str, figures: dict[str, object]) -> None:
    engine = ws.analytics(engine_name)
    match_assets(engine, cve_ids=["CVE-0000-0000"])  # warm the engine up (connection, files)
    started = _now()
    result = match_assets(engine)
    _timed(figures, "full_match", started)
    figures["identities"] = result.identities
    figures["candidates"] = result.candidates
    figures["hits"] = result.count
    counts = Counter(cve for _, found in result.groups for cve, _ in found)
    popular = counts.most_common(1)[0][0]  # the CVE that hits the most assets
    del result
    ctx = DetectionContext(
        engine,
        datetime(2025, 6, 1, tzinfo=UTC),
        VulnerableAsset.inputs,
        ws.lake.current_snapshots(),
    )
    started = _now()
    figures["findings"] = sum(1 for _ in VulnerableAsset().detect(ctx))
    _timed(figures, "detector_full", started)
    timings = []
    for _ in range(5):
        started = _now()
        one = match_assets(engine, cve_ids=[popular])
        timings.append((time.perf_counter() - started[0], time.process_time() - started[1]))
    figures["rematch_one_cve_s"] = round(sorted(timings)[2][0], 3)  # median of 5
    figures["rematch_one_cve_cpu_s"] = round(sorted(timings)[2][1], 3)
    figures["rematch_one_cve"] = popular
    figures["rematch_one_cve_hits"] = one.count


if __name__ == "__main__":
    main()
