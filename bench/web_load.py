"""Load on the web UI: concurrent signed-in users browsing findings (a benchmark, not a test).

    LONGPAN_HOME=/tmp/G-large/home .venv/bin/python bench/web_load.py \
        --users 50 --think 2 --warmup 90 --seconds 60

The home must hold a province already ingested and detected (the large one: `longpan
ingest` + `longpan detect`). The script creates its own accounts (analysts, and one
enterprise user for each of the organisations with the most findings), starts uvicorn
with the app factory on an ephemeral 127.0.0.1 port in a subprocess (its stderr goes to
$LONGPAN_HOME/bench-server.log), signs N users in, and lets them browse at once (asyncio
+ httpx, each with its own session cookie), each looping over: the findings list with a
random filter, sort and page; a finding's detail page; the JSON list — with a pause of
about --think seconds after each page (0: none, a stress test). The first --warmup
seconds are not measured. Page time is from sending the request to the last byte of the
body; p50/p95/p99 per page kind and overall go to stdout, for docs/benchmarks.md
(section "Web").

The load generator runs on the same machine as the server: on 2 cores, its own CPU use
is part of what the server competes with (the figures are pessimistic, not flattering).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from longpan.accounts.users import create_user, find_user, reset_password
from longpan.core.settings import load_settings
from longpan.store.models import Finding, Organisation
from longpan.store.workspace import Workspace

PASSWORD = "bench-Password-2025"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SORTS = ("-id", "-severity", "-first_seen", "type", "subject", "status")
STATUSES = ("", "open", "notified", "closed")
SEVERITIES = ("", "high", "medium", "critical")


def prepare(home: Path, analysts: int, enterprises: int) -> tuple[list[str], list[str], int]:
    """Bench accounts (created once, password reset on reruns) and the largest finding id."""
    ws = Workspace(load_settings(home=home))
    ws.init()
    with ws.sessions() as session, session.begin():
        top_orgs = session.scalars(
            select(Finding.responsible_uscc)
            .where(Finding.responsible_uscc.in_(select(Organisation.uscc)))
            .group_by(Finding.responsible_uscc)
            .order_by(func.count().desc())
            .limit(enterprises)
        ).all()
        names = [(f"bench-analyst{i}", "analyst", None) for i in range(analysts)]
        names += [(f"bench-ent{i}", "enterprise", uscc) for i, uscc in enumerate(top_orgs)]
        for username, role, org in names:
            _ensure(session, username, role, org)
        max_id = int(session.scalar(select(func.max(Finding.id))) or 1)
    ws.close()
    staff = [n for n, role, _ in names if role == "analyst"]
    return staff, [n for n, role, _ in names if role == "enterprise"], max_id


def _ensure(session: Session, username: str, role: str, org: str | None) -> None:
    existing = find_user(session, username)
    if existing is None:
        create_user(
            session, username=username, role=role, password=PASSWORD, actor="bench", org_uscc=org
        )
    else:
        reset_password(session, existing.id, new_password=PASSWORD, actor="bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LONGPAN_HOME": str(home)}
    # uvicorn's own command line (what `longpan serve` runs, with the same factory); it
    # migrates nothing, so the home must be initialised (prepare() does).
    command = [sys.executable, "-m", "uvicorn", "longpan.web.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    log = open(home / "bench-server.log", "ab")  # noqa: SIM115 - open while the server runs
    server = subprocess.Popen(command, env=env, stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not start within 120 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    """Ask the server to stop; kill it if it is still draining after 30 s."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def login(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/login")
    token = CSRF.search(page.text)
    assert token, "no CSRF token on /login"
    form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    response = await client.post("/login", data=form)
    assert response.status_code == 303, f"login of {username} failed: {response.status_code}"


def random_list_query(rng: random.Random) -> str:
    params = {"sort": rng.choice(SORTS), "page": str(rng.randint(1, 20)), "size": "50"}
    for key, choices in (("status", STATUSES), ("severity", SEVERITIES)):
        value = rng.choice(choices)
        if value:
            params[key] = value
    return str(httpx.QueryParams(params))


async def user(
    client: httpx.AsyncClient,
    max_id: int,
    stop_at: float,
    times: dict[str, list[float]],
    seed: int,
    think: float,
) -> None:
    rng = random.Random(seed)

    async def pause() -> None:  # a person reads the page before the next click
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    while time.monotonic() < stop_at:
        listed = await timed(client, f"/findings?{random_list_query(rng)}", "list", times)
        await pause()
        detail_ids = [int(i) for i in re.findall(r'href="/findings/(\d+)"', listed)] or [
            rng.randint(1, max_id)
        ]
        await timed(client, f"/findings/{rng.choice(detail_ids)}", "detail", times)
        await pause()
        await timed(client, f"/api/findings?{random_list_query(rng)}", "api", times)
        await pause()


RECORD_FROM = [0.0]  # time.perf_counter() after which page times count (after the warm-up)


async def timed(
    client: httpx.AsyncClient, path: str, kind: str, times: dict[str, list[float]]
) -> str:
    started = time.perf_counter()
    if started < RECORD_FROM[0]:
        times = defaultdict(list)  # warm-up: the request is made, its time not kept
    try:
        response = await client.get(path)
    except httpx.TransportError:  # counted, not timed: the server dropped the connection
        times["dropped"].append(time.perf_counter() - started)
        return ""
    body = response.text
    elapsed = time.perf_counter() - started
    if response.status_code >= 500:
        times["errors"].append(elapsed)
    times[kind].append(elapsed)
    return body


def percentiles(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    p50, p95, p99 = cuts[49], cuts[94], cuts[98]
    ms = [f"{name} {v * 1000:6.0f} ms" for name, v in (("p50", p50), ("p95", p95), ("p99", p99))]
    return f"n {len(values):6d}   " + "   ".join(ms)


async def run(
    base: str, users: list[str], max_id: int, seconds: float, warmup: float, think: float
) -> dict[str, list[float]]:
    """Sign everyone in first (one at a time: the bench measures browsing, not a login
    storm), then let all of them browse at once: ``warmup`` seconds not counted (the
    server fills its caches, e.g. the subjects' cities), then ``seconds`` counted."""
    times: dict[str, list[float]] = defaultdict(list)
    clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in users]
    try:
        for client, username in zip(clients, users, strict=True):
            await login(client, username)
        RECORD_FROM[0] = time.perf_counter() + warmup
        stop_at = time.monotonic() + warmup + seconds
        await asyncio.gather(
            *(user(c, max_id, stop_at, times, seed, think) for seed, c in enumerate(clients))
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("LONGPAN_HOME", "var")))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60, help="measured time")
    parser.add_argument("--warmup", type=float, default=60, help="browsing not measured first")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--think",
        type=float,
        default=0,
        help="mean pause between a user's pages, seconds (0: no pause, a stress test)",
    )
    args = parser.parse_args()
    staff, enterprise, max_id = prepare(args.home, analysts=10, enterprises=10)
    people = [(staff + enterprise)[i % (len(staff) + len(enterprise))] for i in range(args.users)]
    port = free_port()
    workers = args.workers
    server = start_server(args.home, port, workers)
    try:
        url = f"http://127.0.0.1:{port}"
        times = asyncio.run(run(url, people, max_id, args.seconds, args.warmup, args.think))
    finally:
        stop(server)
    everything = [t for kind in ("list", "detail", "api") for t in times[kind]]
    print(f"{args.users} users (think {args.think:g} s), {workers} workers, "
          f"{args.warmup:.0f} s warm-up, "
          f"{args.seconds:.0f} s measured, "
          f"{len(everything) / args.seconds:.1f} pages/s, {len(times['errors'])} 5xx, "
          f"{len(times['dropped'])} dropped connections")  # fmt: skip
    for kind in ("list", "detail", "api"):
        print(f"{kind:8s} {percentiles(times[kind])}")
    print(f"{'all':8s} {percentiles(everything)}")


if __name__ == "__main__":
    main()
