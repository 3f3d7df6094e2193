"""GraphQL benchmark: requests per second and p50/p99 over a real HTTP connection to `xrm serve`,
against hand-written SQL baselines (the floor), plus schema build time and memory.

    .venv/bin/python -m benchmarks.graphql.run [--database URL] [--scale 0.1] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid

import httpx
from sqlalchemy import select

from benchmarks.graphql.dataset import Sizes, generate
from benchmarks.graphql.workloads import workloads
from benchmarks.pipeline import discard_database, fresh_database
from xrm.graphql import build_schema, build_schema_for
from xrm.plugin import open_environment
from xrm.schema import open_engine
from xrm.server.tokens import issue_token
from xrm.server.users import create_user
from xrm.solution import SolutionManager


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-m", "xrm", "serve", "--database", url, "--port", str(port), "--no-worker"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("xrm serve did not become ready")


def _grant(env, user: uuid.UUID, role: str) -> None:  # type: ignore[no-untyped-def]
    from xrm.data import EntityReference

    env.service().assign_role(EntityReference("systemuser", user), role)


def _agent(env) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """A customer service representative (business-unit depth on cases) in the first data unit."""
    units = env.table("businessunit")
    with env.engine.connect() as connection:
        unit = connection.execute(select(units.c.businessunitid).where(units.c.name == "Unit 00")).scalar_one()
    from xrm.data import Entity, EntityReference

    name = f"agent-{uuid.uuid4().hex[:6]}"
    values = {"domainname": name, "fullname": name, "businessunitid": EntityReference("businessunit", unit)}
    agent = env.service().create(Entity("systemuser", values))
    _grant(env, agent, "customer_service_representative")
    return agent


def _timed(client: httpx.Client, workload, requests: int) -> float:  # type: ignore[no-untyped-def]
    """p50 seconds of ``workload`` over ``requests`` requests (after a warm-up)."""
    for n in range(5):
        client.post("/graphql", json={"query": workload.document, "variables": workload.variables(-n - 1)})
    samples = []
    for n in range(requests):
        started = time.perf_counter()
        response = client.post("/graphql", json={"query": workload.document, "variables": workload.variables(n)})
        samples.append(time.perf_counter() - started)
        if response.status_code != 200 or response.json().get("errors"):
            raise RuntimeError(f"{workload.name}: {response.json().get('errors')}")
    return _percentiles(samples)[0]


def security_figures(base: str, admin_token: str, agent_token: str, workload, requests: int) -> str:  # type: ignore[no-untyped-def]
    """The cost of record security: the same list workload as a business-unit-depth agent vs an administrator."""
    figures = {}
    for label, token in (("administrator", admin_token), ("agent", agent_token)):
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            figures[label] = _timed(client, workload, requests)
    admin, agent = figures["administrator"], figures["agent"]
    return (
        f"security: {workload.name}: administrator p50 {admin * 1000:.2f} ms, business-unit agent p50 "
        f"{agent * 1000:.2f} ms, ratio {agent / admin:.2f}"
    )


def schema_figures(env) -> list[str]:  # type: ignore[no-untyped-def]
    from xrm.testing import synthetic_model

    lines = []
    builds = (
        ("installed model", lambda: build_schema(env)),
        ("synthetic 500 entities x 20 attributes", lambda: build_schema_for(synthetic_model(500, 20))),
    )
    for label, build in builds:
        started = time.perf_counter()
        build()
        seconds = time.perf_counter() - started
        tracemalloc.start()  # a second build measures memory (tracing slows allocation a lot)
        build()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        lines.append(
            f"schema build, {label}: {seconds:.2f} s (incl. compiling the model for the synthetic one), peak {peak / 2**20:.0f} MiB"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="PostgreSQL URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--scale", type=float, default=1.0, help="data set size relative to 1k/5k/20k/100k")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    url = fresh_database(args.database)
    engine = open_engine(url)
    SolutionManager(engine).install("case")
    env = open_environment(engine)
    started = time.perf_counter()
    sizes = Sizes().scaled(args.scale)
    generate(env, sizes)
    print(f"engine: {engine.dialect.name}; data {sizes} loaded in {time.perf_counter() - started:.0f} s")
    user = create_user(env, f"bench-{uuid.uuid4().hex[:6]}")
    _grant(env, user, "system_administrator")
    token = issue_token(engine, user).token
    agent_token = issue_token(engine, _agent(env)).token
    with engine.connect() as connection:
        case = connection.execute(select(env.table("incident").c.incidentid).limit(1)).scalar_one()
        account = connection.execute(select(env.table("account").c.accountid).limit(1)).scalar_one()
    process, base = _serve(url)
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            print(f"{'workload':<58} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'floor p50':>10} {'ratio':>6}")
            for workload in workloads(engine, case, account):
                for n in range(5):  # warm up
                    client.post(
                        "/graphql", json={"query": workload.document, "variables": workload.variables(-n - 1)}
                    ).raise_for_status()
                samples, floor = [], []
                began = time.perf_counter()
                for n in range(args.requests):
                    t0 = time.perf_counter()
                    response = client.post(
                        "/graphql", json={"query": workload.document, "variables": workload.variables(n)}
                    )
                    samples.append(time.perf_counter() - t0)
                    body = response.json()
                    if response.status_code != 200 or body.get("errors"):
                        raise RuntimeError(f"{workload.name}: {body.get('errors')}")
                elapsed = time.perf_counter() - began
                for n in range(args.requests):
                    t0 = time.perf_counter()
                    workload.baseline(engine, n)
                    floor.append(time.perf_counter() - t0)
                p50, p99 = _percentiles(samples)
                f50, _ = _percentiles(floor)
                print(
                    f"{workload.name:<58} {args.requests / elapsed:>8.0f} {p50 * 1000:>8.2f} {p99 * 1000:>8.2f} {f50 * 1000:>10.2f} {p50 / f50:>6.1f}"
                )
            print(security_figures(base, token, agent_token, workloads(engine, case, account)[0], args.requests))
        for line in schema_figures(env):
            print(line)
    finally:
        process.terminate()
        process.wait(timeout=10)
        engine.dispose()
        discard_database(url)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
