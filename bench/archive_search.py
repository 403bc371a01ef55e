"""Archive search on PostgreSQL with 1 000 000 catalogued recordings (issue 5: p95 ≤ 50 ms).

Builds a private schema ``bench_archive`` in the ``test`` database (the real Alembic migrations, then
COPY of 1M recordings + 1M catalogue entries over a 111-branch tree), runs combined-filter searches
through the real ``ArchiveService.search`` (branch scope, blind-index hashes, capped count, page of
20, masking), and prints p50/p95 per query next to baselines measured in the same run (a primary-key
lookup through the repository, and ``SELECT 1``). The schema is dropped at the end.

``python bench/archive_search.py [ROWS]`` (default 1 000 000); ``make bench BENCH=archive_search``.
Needs PostgreSQL at 127.0.0.1:5432 (trust, database ``test``); exits 0 with a note when absent.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from dualrec.core.identity import Principal
from dualrec.core.rbac import Permission
from dualrec.db.engine import make_engine, make_session_factory
from dualrec.db.migrate import upgrade
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.archive.catalogue import ArchiveFilters, ArchiveService
from dualrec.services.common.blind_index import BlindIndex
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.common.secretbox import SecretBox
from dualrec.storage.filesystem import FilesystemBlobStore

SCHEMA = "bench_archive"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
URL = f"{ADMIN_URL}?options=-csearch_path%3D{SCHEMA}"
SECRET = "bench-secret-key-0123456789abcdef0123456789"
START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3 * 365
TYPES = ("insurance", "wealth", "securities", "fund")
CUSTOMERS = 200_000
RUNS = 60


def _branches(conn: sa.Connection) -> tuple[list[int], dict[int, list[int]]]:
    """HQ → 10 regions → 10 branches each; returns leaf ids and region id → its subtree ids."""
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(sa.text("DELETE FROM branches"))
    rows: list[tuple[int, str, str, int | None, str]] = [(1, "总行", "HQ", None, "/1/")]
    regions: dict[int, list[int]] = {}
    leaves = []
    next_id = 2
    for r in range(10):
        rid = next_id
        next_id += 1
        rows.append((rid, f"分行{r}", f"R{r}", 1, f"/1/{rid}/"))
        regions[rid] = [rid]
        for b in range(10):
            bid = next_id
            next_id += 1
            rows.append((bid, f"支行{r}-{b}", f"R{r}B{b}", rid, f"/1/{rid}/{bid}/"))
            regions[rid].append(bid)
            leaves.append(bid)
    for bid, name, code, parent, path in rows:
        conn.execute(
            sa.text(
                "INSERT INTO branches (id, name, code, parent_id, path, created_at) "
                "VALUES (:i, :n, :c, :p, :path, :t)"
            ),
            {"i": bid, "n": name, "c": code, "p": parent, "path": path, "t": now},
        )
    return leaves, regions


def _existing_rows(admin: sa.Engine) -> int:
    try:
        with admin.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {SCHEMA}.archive_entries")).scalar() or 0)
    except sa.exc.SQLAlchemyError:
        return -1


def _regions(engine: sa.Engine) -> dict[int, list[int]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, parent_id FROM branches WHERE parent_id IS NOT NULL")).all()
    regions: dict[int, list[int]] = {int(i): [int(i)] for i, parent in rows if parent == 1}
    for i, parent in rows:
        if parent != 1:
            regions[int(parent)].append(int(i))
    return regions


def _id_number(n: int) -> str:
    return f"11010519{80 + n % 20:02d}0101{n % 10000:04d}"[:17] + "X"


def generate(engine: sa.Engine, rows: int, leaves: list[int]) -> None:
    rng = random.Random(7)
    index = BlindIndex(SECRET)
    box = SecretBox(SECRET)
    sealed_names = [box.seal(f"客户{i}") for i in range(500)]
    sealed_numbers = [box.seal(_id_number(i)) for i in range(500)]
    name_hashes = [index.name(f"客户{i}") for i in range(CUSTOMERS)]
    number_hashes = [index.id_number(_id_number(i)) for i in range(CUSTOMERS)]
    now = datetime.now(UTC).replace(tzinfo=None)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        rec_cols = (
            "id, branch_id, created_by, running_no, filename, content_type, size, sha256, blob_key, inputs, "
            "status, verdict, risk_score, created_at, updated_at"
        )
        entry_cols = (
            "recording_id, branch_id, status, filename, file_format, content_type, size, sha256, "
            "duration_ms, av, task_id, attempt_no, business_type, business_no, contract_no, product, "
            "customer_id, customer_name_sealed, customer_name_hash, id_number_sealed, id_number_hash, "
            "phone_sealed, created_by, recorded_at, qc_status, qc_verdict, retention_code, retention_basis, "
            "retention_manual, contract_end, expires_on, secrecy_level, carrier_numbers, legal_hold, "
            "legal_hold_reason, legal_hold_by, created_at, updated_at"
        )
        batch: list[tuple[object, ...]] = []
        entries: list[tuple[object, ...]] = []
        for n in range(rows):
            rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            branch = leaves[rng.randrange(len(leaves))]
            at = (START + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))).replace(tzinfo=None)
            customer = rng.randrange(CUSTOMERS)
            verdict = rng.choices(("PASS", "REVIEW", "FAIL"), (80, 15, 5))[0]
            btype = TYPES[n % len(TYPES)]
            sha = f"{rng.getrandbits(256):064x}"
            batch.append(
                (
                    rid,
                    branch,
                    "bench",
                    f"B{n:07d}",
                    "recording.mp4",
                    "video/mp4",
                    1_000_000,
                    sha,
                    f"{rng.getrandbits(128):032x}",
                    "{}",
                    "done",
                    verdict,
                    10,
                    at,
                    at,
                )
            )
            expires = date(at.year + 10, at.month, min(at.day, 28))
            entries.append(
                (
                    rid,
                    branch,
                    "active",
                    "recording.mp4",
                    "mp4",
                    "video/mp4",
                    1_000_000,
                    sha,
                    600_000,
                    "{}",
                    None,
                    None,
                    btype,
                    f"B{n:07d}",
                    f"HT{n // 2:07d}",
                    "产品",
                    f"C{customer:06d}",
                    sealed_names[customer % 500],
                    name_hashes[customer],
                    sealed_numbers[customer % 500],
                    number_hashes[customer],
                    "",
                    "bench",
                    at,
                    "done",
                    verdict,
                    "D10",
                    "recorded_at",
                    False,
                    None,
                    expires,
                    "内部",
                    "[]",
                    False,
                    "",
                    "",
                    now,
                    now,
                )
            )
            if len(batch) == 50_000 or n == rows - 1:
                with cur.copy(f"COPY recordings ({rec_cols}) FROM STDIN") as cp:
                    for row in batch:
                        cp.write_row(row)
                with cur.copy(f"COPY archive_entries ({entry_cols}) FROM STDIN") as cp:
                    for row in entries:
                        cp.write_row(row)
                batch.clear()
                entries.clear()
        raw.commit()
    finally:
        raw.close()
    # what autovacuum does to a table that has settled: statistics and the visibility map (index-only
    # scans for the counts)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE recordings"))
        conn.execute(sa.text("VACUUM ANALYZE archive_entries"))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    admin = sa.create_engine(
        ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    reuse = bool(os.environ.get("BENCH_KEEP_SCHEMA")) and _existing_rows(admin) == rows
    try:
        with admin.connect() as conn:
            if not reuse:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(exc).__name__}); skipped")
        return 0
    engine = make_engine(URL)
    try:
        t0 = time.perf_counter()
        if reuse:  # BENCH_KEEP_SCHEMA=1 and a kept schema of the same size: measure again only
            regions = _regions(engine)
            print(f"reusing the kept schema {SCHEMA} ({rows:,} rows)")
        else:
            upgrade(URL)
            with engine.begin() as conn:
                leaves, regions = _branches(conn)
            generate(engine, rows, leaves)
            print(f"generated {rows:,} recordings + catalogue entries in {time.perf_counter() - t0:.1f} s")
        return run_queries(engine, rows, regions)
    finally:
        engine.dispose()
        if not os.environ.get("BENCH_KEEP_SCHEMA"):  # set it to look at the plans afterwards
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


def run_queries(engine: sa.Engine, rows: int, regions: dict[int, list[int]]) -> int:
    uows = UnitOfWorkFactory(make_session_factory(engine))
    with tempfile.TemporaryDirectory() as tmp:
        service = ArchiveService(uows, FilesystemBlobStore(Path(tmp)), SecretBox(SECRET), BlindIndex(SECRET))
        hq = Actor(Principal("user", 1, "bench-hq", "admin", 1, "/1/", frozenset(Permission)), RequestMeta())
        region_id = next(iter(regions))
        regional = Actor(
            Principal(
                "user",
                2,
                "bench-region",
                "branch_supervisor",
                region_id,
                f"/1/{region_id}/",
                frozenset({Permission.ARCHIVE_SEARCH}),
            ),
            RequestMeta(),
        )
        rng = random.Random(11)
        with engine.connect() as conn:
            sample: list[tuple[str, str, str, str]] = [
                (str(r[0]), str(r[1]), str(r[2]), str(r[3]))
                for r in conn.execute(
                    sa.text(
                        "SELECT recording_id, customer_id, business_no, contract_no FROM archive_entries "
                        "TABLESAMPLE SYSTEM (1) LIMIT 500"
                    )
                )
            ]

        def day(offset: int) -> datetime:
            return START + timedelta(days=offset)

        def pick() -> tuple[str, str, str, str]:
            return sample[rng.randrange(len(sample))]

        def customer_name() -> str:
            return f"客户{int(pick()[1][1:])}"

        queries: list[tuple[str, Actor, Callable[[], ArchiveFilters]]] = [
            ("customer id", hq, lambda: ArchiveFilters(customer_id=pick()[1])),
            (
                "customer name (hash) + 1 year",
                hq,
                lambda: ArchiveFilters(
                    customer_name=customer_name(), recorded_from=day(365), recorded_to=day(730)
                ),
            ),
            (
                "ID number (hash) + business type",
                hq,
                lambda: ArchiveFilters(
                    id_number=_id_number(int(pick()[1][1:])), business_type=rng.choice(TYPES)
                ),
            ),
            ("business no", hq, lambda: ArchiveFilters(business_no=pick()[2])),
            ("contract no, regional scope", regional, lambda: ArchiveFilters(contract_no=pick()[3])),
            (
                "type + FAIL + 1 month, regional",
                regional,
                lambda: ArchiveFilters(
                    business_type=rng.choice(TYPES),
                    qc_verdict="FAIL",
                    recorded_from=(s := day(rng.randrange(SPAN_DAYS - 31))),
                    recorded_to=s + timedelta(days=31),
                ),
            ),
            (
                "branch subtree + 1 week",
                hq,
                lambda: ArchiveFilters(
                    branch_id=rng.choice(regions[region_id][1:]),
                    recorded_from=(s := day(rng.randrange(SPAN_DAYS - 7))),
                    recorded_to=s + timedelta(days=7),
                ),
            ),
            ("regional scope, no filter (page 1, count capped)", regional, lambda: ArchiveFilters()),
            (
                "type + REVIEW + 1 quarter, all branches",
                hq,
                lambda: ArchiveFilters(
                    business_type=rng.choice(TYPES),
                    qc_verdict="REVIEW",
                    recorded_from=(s := day(rng.randrange(SPAN_DAYS - 92))),
                    recorded_to=s + timedelta(days=92),
                ),
            ),
        ]

        def timed(fn: Callable[[], object]) -> list[float]:
            fn()  # warm the plan cache and connection
            out = []
            for _ in range(RUNS):
                t = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t) * 1000)
            return out

        def pk() -> object:
            with uows() as uow:
                return uow.archive.get(pick()[0])

        def select1() -> object:
            with uows() as uow:
                return uow.session.execute(sa.text("SELECT 1")).scalar()

        base_p50, base_p95 = percentiles(timed(pk))
        s1_p50, s1_p95 = percentiles(timed(select1))
        print(f"\n{rows:,} entries, {RUNS} runs each, page of 20, ms (ratio = p50 / primary-key p50)")
        print(f"{'query':52} {'p50':>7} {'p95':>7} {'ratio':>6} {'hits(last)':>11}")
        label = "baseline: SELECT 1 (session round trip)"
        print(f"{label:52} {s1_p50:7.2f} {s1_p95:7.2f} {s1_p50 / base_p50:6.2f}")
        print(f"{'baseline: primary-key lookup (repository)':52} {base_p50:7.2f} {base_p95:7.2f} {1.0:6.2f}")
        worst = 0.0
        for name, actor, make in queries:
            result: list[object] = []

            def search(
                actor: Actor = actor, make: Callable[[], ArchiveFilters] = make, result: list[object] = result
            ) -> object:
                found = service.search(actor=actor, filters=make(), page=1, page_size=20)
                result[:] = [found.total, found.exact]
                return found

            p50, p95 = percentiles(timed(search))
            worst = max(worst, p95)
            hits = f"{result[0]}{'' if result[1] else '+'}"
            print(f"{name:52} {p50:7.2f} {p95:7.2f} {p50 / base_p50:6.2f} {hits:>11}")
        print(f"\nworst p95 {worst:.1f} ms (goal ≤ 50 ms): {'met' if worst <= 50 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
