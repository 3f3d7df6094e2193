"""Creates through the pipeline vs plain Core inserts, and child-insert cost vs sibling count."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, text

from xrm.data import Entity, EntityReference
from xrm.data.messages import CreateRequest
from xrm.data.rollup import recalculate
from xrm.plugin import open_environment
from xrm.schema import open_engine
from xrm.solution import SolutionManager

SOLUTION = Path(__file__).resolve().parent / "solutions" / "bench"


def fresh_database(url: str | None) -> str:
    if url is None:
        return f"sqlite:///{tempfile.mkdtemp(prefix='xrm-bench-')}/bench.db"
    schema = f"xrm_bench_{uuid.uuid4().hex[:8]}"
    engine = open_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def discard_database(url: str) -> None:
    """Drop the PostgreSQL schema :func:`fresh_database` made (a SQLite file stays in its temp folder)."""
    if "search_path%3D" not in url:
        return
    schema = url.rsplit("search_path%3D", 1)[1].split("&", 1)[0]
    engine = open_engine(url.split("?options=")[0].split("&options=")[0], isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def setup(url: str):  # type: ignore[no-untyped-def]
    engine = open_engine(url)
    SolutionManager(engine).install(SOLUTION)
    return open_environment(engine)


def bench_creates(env, rows: int, batch: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(pipeline seconds, core seconds) for ``rows`` orders in batches."""
    service = env.service()
    customers = [service.create(Entity("bch_customer", bch_name=f"c{i}")) for i in range(10)]
    started = time.perf_counter()
    for start in range(0, rows, batch):
        requests = [
            CreateRequest(
                Entity(
                    "bch_order",
                    bch_name=f"o{n}",
                    bch_amount=Decimal(n % 100),
                    bch_customerid=EntityReference("bch_customer", customers[n % 10]),
                )
            )
            for n in range(start, min(rows, start + batch))
        ]
        service.execute_multiple(requests, transactional=True)
    pipeline_seconds = time.perf_counter() - started

    table = env.table("bch_order")
    now = env.clock()
    started = time.perf_counter()
    for start in range(0, rows, batch):
        values = [
            {
                "bch_orderid": uuid.uuid4(),
                "bch_name": f"o{n}",
                "bch_amount": Decimal(n % 100),
                "bch_customerid": customers[n % 10],
                "bch_number": f"RAW-{n:08d}",
                "createdon": now,
                "modifiedon": now,
                "versionnumber": 1,
            }  # fmt: skip
            for n in range(start, min(rows, start + batch))
        ]
        with env.engine.begin() as connection:
            connection.execute(insert(table), values)
    core_seconds = time.perf_counter() - started
    return pipeline_seconds, core_seconds


def bench_siblings(env, big: int, samples: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Mean seconds of one child create under a parent with 10 vs ``big`` children."""
    service = env.service()
    small_parent = service.create(Entity("bch_customer", bch_name="small"))
    big_parent = service.create(Entity("bch_customer", bch_name="big"))
    table = env.table("bch_order")
    now = env.clock()
    for parent, count in ((small_parent, 10), (big_parent, big)):
        for start in range(0, count, 5000):
            values = [
                {
                    "bch_orderid": uuid.uuid4(),
                    "bch_name": "s",
                    "bch_amount": Decimal(1),
                    "bch_customerid": parent,
                    "bch_number": f"SIB-{parent.hex[:6]}-{n}",
                    "createdon": now,
                    "modifiedon": now,
                    "versionnumber": 1,
                }  # fmt: skip
                for n in range(start, min(count, start + 5000))
            ]
            with env.engine.begin() as connection:
                connection.execute(insert(table), values)
    with env.engine.begin() as connection:
        for name in ("bch_orders", "bch_revenue", "bch_average"):
            recalculate(env, connection, "bch_customer", name)

    def create(parent: uuid.UUID, n: int) -> float:
        started = time.perf_counter()
        service.create(
            Entity(
                "bch_order",
                bch_name=f"x{n}",
                bch_amount=Decimal(2),
                bch_customerid=EntityReference("bch_customer", parent),
            )
        )
        return time.perf_counter() - started

    for n in range(20):  # warm up
        create(small_parent, n)
    small, large = [], []
    for n in range(samples):  # interleaved, so drift (WAL growth, other load) hits both alike
        small.append(create(small_parent, n))
        large.append(create(big_parent, n))
    return statistics.median(small), statistics.median(large)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="PostgreSQL URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--siblings", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    url = fresh_database(args.database)
    env = setup(url)
    engine_name = env.engine.dialect.name
    try:
        pipeline_s, core_s = bench_creates(env, args.rows, args.batch)
        small, big = bench_siblings(env, args.siblings, args.samples)
    finally:
        env.engine.dispose()
        discard_database(url)
    print(f"engine: {engine_name}")
    print(f"creates through the pipeline (autonumber + 3 rollups + audit): {args.rows / pipeline_s:,.0f}/s")
    print(f"plain Core inserts of the same rows:                          {args.rows / core_s:,.0f}/s")
    print(f"ratio pipeline/core time:                                     {pipeline_s / core_s:.1f}x")
    print(
        f"one child create, parent with 10 children:                    {small * 1000:.2f} ms (median of {args.samples})"
    )
    print(f"one child create, parent with {args.siblings:,} children:           {big * 1000:.2f} ms")
    print(f"ratio 100k/10 siblings:                                       {big / small:.2f}x")


if __name__ == "__main__":
    main()
