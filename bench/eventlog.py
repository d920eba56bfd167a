"""Event-log benchmark: append (batched and one event per command) and full
verify on SQLite and PostgreSQL, side by side with the ``eventsourcing``
library's recorders appending and reading the same events in the same run.

    .venv/bin/python -m bench.eventlog                    # 100k events, both engines
    .venv/bin/python -m bench.eventlog --million          # + peak RSS verifying 1M events (SQLite)
    .venv/bin/python -m bench.eventlog --engines sqlite --events 20000

Only the append/read calls are timed; building the records is not.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from domain.events import EventRecord
from storage.canonical import canonical_json
from storage.checkpoints import write_checkpoint
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade
from storage.signing import Signer
from storage.verify import verify_log

PG_HOST = os.environ.get("PINGYI_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("PINGYI_TEST_PG_PORT", "5432"))
T0 = datetime(2010, 12, 7, 9, 0, tzinfo=UTC)
SIGNER = Signer("bench-signing-key")
ES_SYNCHRONOUS = "FULL"  # the library as shipped (the orientation figures)


def record(stream_id: str, version: int) -> EventRecord:
    """About the size of a real findings event (~600 bytes of payload)."""
    return EventRecord(
        stream_id=stream_id,
        version=version,
        event_type="review.findings_recorded",
        schema_version=1,
        occurred_at=T0 + timedelta(minutes=version),
        actor_id="p-reviewer-0001",
        actor_role="reviewer",
        reason=None,
        causation_id=f"update:{stream_id}:{version}",
        payload={
            "findings": [
                {
                    "point_code": f"A{k}",
                    "summary": f"第{k}项：集中学习记录不全，整改跟踪不够 (point {k} checked on site)",
                    "evidence": [{"kind": "site_visit", "reference": f"visit A{k} 2010-12-0{k}"}],
                    "recorded_by": "p-reviewer-0001",
                }
                for k in range(1, 4)
            ]
        },
    )


def batches(prefix: str, events: int, batch: int):
    """(stream id, expected version, records): streams of 40 events, ``batch`` per append."""
    per_stream = max(40, batch)
    made = 0
    s = 0
    while made < events:
        sid = f"{prefix}-{s:07d}"
        v = 0
        while v < per_stream and made < events:
            k = min(batch, per_stream - v, events - made)
            yield sid, v, [record(sid, v + i + 1) for i in range(k)]
            v += k
            made += k
        s += 1


# ---- engines ------------------------------------------------------------------


class Database:
    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.name = f"pingyi_bench_{uuid.uuid4().hex[:10]}"
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / (self.name + '.db')}"
            self.floor_url = f"sqlite:///{workdir / (self.name + '_floor.db')}"
            self.es_path = str(workdir / (self.name + "_es.db"))
        else:
            self.admin = create_engine(f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT")
            with self.admin.connect() as c:
                for suffix in ("", "_es", "_floor"):
                    c.execute(text(f'CREATE DATABASE "{self.name}{suffix}"'))
            self.url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{self.name}"
            self.floor_url = f"{self.url}_floor"

    def eventsourcing_recorder(self, synchronous: str | None = None):
        """The library's recorder. On SQLite ``synchronous`` None keeps the
        library as shipped (WAL, its default synchronous=FULL: an fsync per
        commit); "NORMAL" forces it to our durability (storage/db.py)."""
        if self.kind == "sqlite":
            from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

            ds = SQLiteDatastore(self.es_path + (f".{synchronous}" if synchronous else ""))
            if synchronous:
                create = ds.pool._create_connection

                def create_like_ours():
                    c = create()
                    c._sqlite_conn.execute(f"PRAGMA synchronous={synchronous}")
                    return c

                ds.pool._create_connection = create_like_ours
            rec = SQLiteApplicationRecorder(ds)
        else:
            from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

            ds = PostgresDatastore(f"{self.name}_es", PG_HOST, PG_PORT, "postgres", "")
            rec = PostgresApplicationRecorder(ds)
        rec.create_table()
        return ds, rec

    def drop(self) -> None:
        if self.kind == "postgresql":
            with self.admin.connect() as c:
                for suffix in ("", "_es", "_floor"):
                    c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}{suffix}" WITH (FORCE)'))
            self.admin.dispose()


# ---- measurements ---------------------------------------------------------------


# Each contender appends its share of a round of batches and returns the
# seconds its append calls took (building its inputs is not timed). The
# contenders take turns, round by round in a rotating order, so none of them
# always writes to a disk still busy with another's writeback, or always
# first into a cold cache: run one after the other, whoever ran third measured
# up to a third slower on this machine's disk.


def ours_appender(store: EventStore):
    def run(work) -> float:
        spent = 0.0
        for sid, v, recs in work:
            t = time.perf_counter()
            store.append(sid, v, recs)
            spent += time.perf_counter() - t
        return spent

    return run


def es_events(sid: str, recs: list[EventRecord]) -> list:
    """The same events as the library stores them: the whole record as state."""
    from eventsourcing.persistence import StoredEvent

    oid = uuid.uuid5(uuid.NAMESPACE_URL, sid)
    return [StoredEvent(originator_id=oid, originator_version=r.version, topic=r.event_type, state=canonical_json(r.model_dump(mode="json")).encode()) for r in recs]


def es_appender(rec):
    def run(work) -> float:
        spent = 0.0
        for sid, _, recs in work:
            stored = es_events(sid, recs)
            t = time.perf_counter()
            rec.insert_events(stored)
            spent += time.perf_counter() - t
        return spent

    return run


def floor_appender(db: "Database"):
    """What the database alone costs for these rows, in a fresh database of
    our schema: the rows come prebuilt (canonical payload, timestamps as
    text, positions counted on, placeholder hashes of the right length: no
    encoding, no hashing, no records built back), each batch one transaction
    with the ``log_head`` bump, on the driver directly. SQLite: BEGIN
    IMMEDIATE, bump, one multi-row INSERT, COMMIT. PostgreSQL: one statement
    in autocommit (bump and an INSERT from binary arrays), one round trip: the
    raw driver's best shape, though a cheaper transport than arrays can beat it."""
    from storage.schema import ts_text

    engine = make_engine(db.floor_url)
    upgrade(engine)
    c = engine.raw_connection().driver_connection
    cols = "stream_id, version, position, event_type, schema_version, occurred_at, recorded_at, actor_id, actor_role, reason, causation_id, payload, prev_hash, hash"
    if db.kind == "postgresql":
        c.autocommit = True
        types = ("text", "int", "bigint", "text", "int", "timestamptz", "timestamptz", "text", "text", "text", "text", "text", "text", "text")
        sql = f"WITH bump AS (UPDATE log_head SET position = position + %s WHERE id = 1 RETURNING position) INSERT INTO events ({cols}) SELECT * FROM unnest({', '.join(f'%b::{t}[]' for t in types)})"
    pos = 0
    recorded = ts_text(datetime.now(UTC))

    def run(work) -> float:
        nonlocal pos
        spent = 0.0
        for sid, _, recs in work:
            rows = []
            for r in recs:
                pos += 1
                rows.append((sid, r.version, pos, r.event_type, r.schema_version, ts_text(r.occurred_at), recorded, r.actor_id, r.actor_role, r.reason, r.causation_id, canonical_json(r.payload), "0" * 64, f"{pos:064x}"))
            if db.kind == "sqlite":
                per = EventStore.ROWS_PER_INSERT  # statements of at most this many rows, as the store writes them
                parts = [rows[i : i + per] for i in range(0, len(rows), per)]
                inserts = [(f"INSERT INTO events ({cols}) VALUES {', '.join(['(' + ', '.join('?' * 14) + ')'] * len(part))}", [x for row in part for x in row]) for part in parts]
                t = time.perf_counter()
                c.execute("BEGIN IMMEDIATE")
                c.execute("UPDATE log_head SET position = position + ? WHERE id = 1 RETURNING position", (len(rows),)).fetchone()
                for insert, flat in inserts:
                    c.execute(insert, flat)
                c.execute("COMMIT")
            else:
                params = (len(rows), *(list(col) for col in zip(*rows)))
                t = time.perf_counter()
                c.execute(sql, params)
            spent += time.perf_counter() - t
        return spent

    run.close = lambda: (c.close(), engine.dispose())
    return run


def interleaved(contenders: dict, prefix: str, events: int, batch: int, rounds: int = 5) -> dict[str, float]:
    """events/s of each contender appending the same ``events`` (each into its
    own database), in ``rounds`` turns of rotating order."""
    work = batches(prefix, events, batch)  # one round's batches in memory at a time
    names = list(contenders)
    spent = dict.fromkeys(names, 0.0)
    size = -(-events // batch // rounds)
    for i in range(rounds):
        chunk = list(itertools.islice(work, size)) if i < rounds - 1 else list(work)
        for name in names[i % len(names) :] + names[: i % len(names)]:
            spent[name] += contenders[name](chunk)
    return {name: events / spent[name] for name in names}


def concurrent(append_one, prefix: str, events: int, batch: int, threads: int) -> float:
    """``threads`` workers appending ``batch``-event transactions to their own
    streams at once; wall-clock rate over all of them."""
    import threading

    work = [list(batches(f"{prefix}{k}", events // threads, batch)) for k in range(threads)]
    errors: list[BaseException] = []

    def run(items):
        try:
            for sid, v, recs in items:
                append_one(sid, v, recs)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    ts = [threading.Thread(target=run, args=(w,)) for w in work]
    t = time.perf_counter()
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    elapsed = time.perf_counter() - t
    if errors:
        raise errors[0]
    return sum(len(recs) for w in work for _, _, recs in w) / elapsed


def es_append_one(rec):
    def append_one(sid, _v, recs):
        rec.insert_events(es_events(sid, recs))

    return append_one


def es_read_all(rec) -> tuple[int, float]:
    t = time.perf_counter()
    n, start = 0, 1
    while True:
        page = rec.select_notifications(start=start, limit=5000)
        if not page:
            break
        for note in page:
            json.loads(note.state)  # a reader does at least this much with an event
        n += len(page)
        start = page[-1].id + 1
    return n, n / (time.perf_counter() - t)


def ours_read_all(store: EventStore) -> tuple[int, float]:
    t = time.perf_counter()
    n = sum(1 for _ in store.read_all())
    return n, n / (time.perf_counter() - t)


def ours_verify(engine) -> tuple[int, float]:
    t = time.perf_counter()
    report = verify_log(engine, SIGNER.verifier())
    elapsed = time.perf_counter() - t
    if not report.ok:
        raise SystemExit(f"benchmark log does not verify: {report.first_bad}")
    return report.events, report.events / elapsed


def run_engine(kind: str, events: int, single: int, batch: int, workdir: Path, threads: int = 4) -> dict:
    db = Database(kind, workdir)
    try:
        engine = make_engine(db.url)
        upgrade(engine)
        store = EventStore(engine)
        es_ds, es = db.eventsourcing_recorder(None if ES_SYNCHRONOUS == "FULL" else ES_SYNCHRONOUS)
        # SQLite only: the library forced to our durability (synchronous=NORMAL)
        eq_ds, eq = db.eventsourcing_recorder("NORMAL") if kind == "sqlite" and ES_SYNCHRONOUS == "FULL" else (None, None)
        r: dict = {"engine": kind}
        print(f"[{kind}] appending {events} events, {batch} per transaction, {single} one per transaction …", flush=True)
        floor = floor_appender(db)
        for label, n, size, contenders in (
            ("batched", events, batch, {"ours": ours_appender(store), "es": es_appender(es), "eq": es_appender(eq) if eq else None, "floor": floor}),
            ("single", single, 1, {"ours": ours_appender(store), "es": es_appender(es), "eq": es_appender(eq) if eq else None}),
        ):
            rates = interleaved({k: v for k, v in contenders.items() if v is not None}, label[0], n, size)
            r.update({f"{k}_{label}": rate for k, rate in rates.items()})
        floor.close()
        if threads > 1:
            print(f"[{kind}] appending {events // 4} events from {threads} threads at once, {batch} per transaction …", flush=True)
            r["ours_concurrent"] = concurrent(store.append, "c", events // 4, batch, threads)
            r["es_concurrent"] = concurrent(es_append_one(es), "c", events // 4, batch, threads)
            if eq:
                r["eq_concurrent"] = concurrent(es_append_one(eq), "c", events // 4, batch, threads)
        t = time.perf_counter()
        write_checkpoint(engine, SIGNER)
        r["checkpoint_s"] = time.perf_counter() - t
        print(f"[{kind}] verifying and reading the whole log …", flush=True)
        r["verify_events"], r["ours_verify"] = ours_verify(engine)
        _, r["ours_read"] = ours_read_all(store)
        r["es_read_events"], r["es_read"] = es_read_all(es)
        es_ds.close()
        if eq_ds:
            eq_ds.close()
        engine.dispose()
        return r
    finally:
        db.drop()


def vm_hwm_mib(pid: int | str = "self") -> float:
    """A process's own peak RSS (VmHWM). Not ``ru_maxrss``: Linux carries the
    spawning process's peak across exec into it, so a child of a 500 MiB
    benchmark process reported 500 MiB whatever it did."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def verify_peak_rss(url: str) -> None:
    """Child-process entry: verify, then print events, seconds and the peak
    RSS (MiB) of this process and of its hash worker (storage.verify.PARALLEL_MIN),
    which is sampled while it runs."""
    import threading

    engine = make_engine(url)
    worker_peak = 0.0
    done = threading.Event()

    def sample_children() -> None:
        nonlocal worker_peak
        while not done.wait(0.02):
            try:
                with open(f"/proc/self/task/{os.getpid()}/children") as f:
                    pids = f.read().split()
            except OSError:
                pids = []
            for pid in pids:
                worker_peak = max(worker_peak, vm_hwm_mib(pid))

    sampler = threading.Thread(target=sample_children, daemon=True)
    sampler.start()
    t = time.perf_counter()
    report = verify_log(engine, SIGNER.verifier())
    elapsed = time.perf_counter() - t
    done.set()
    sampler.join()
    print(json.dumps({"events": report.events, "ok": report.ok, "seconds": elapsed, "peak_rss_mib": vm_hwm_mib(), "worker_rss_mib": worker_peak}))


def million(workdir: Path, batch: int) -> list[dict]:
    """Peak RSS of a fresh process verifying 100k and then 1M events: flat
    memory means the two peaks are about equal."""
    out = []
    url = f"sqlite:///{workdir / 'million.db'}"
    engine = make_engine(url)
    upgrade(engine)
    store = EventStore(engine)
    done = 0
    for target in (100_000, 1_000_000):
        print(f"[memory] building a {target}-event SQLite log …", flush=True)
        for sid, v, recs in batches(f"m{target}", target - done, 100):
            store.append(sid, v, recs)
        done = target
        write_checkpoint(engine, SIGNER)
        res = subprocess.run([sys.executable, "-m", "bench.eventlog", "--verify-url", url], capture_output=True, text=True, check=True)
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--single", type=int, default=10_000, help="events appended one per transaction")
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--million", action="store_true", help="also measure peak RSS verifying 1M events")
    ap.add_argument("--threads", type=int, default=4, help="concurrent appenders for the concurrent case (over events/4 events); 1 skips it")
    ap.add_argument("--es-synchronous", default="FULL", choices=("NORMAL", "FULL"), help="eventsourcing's SQLite PRAGMA synchronous for the headline ratio: FULL is the library as shipped (default; the equal-durability NORMAL ratio is printed on a second line), NORMAL makes the headline ours")
    ap.add_argument("--verify-url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    global ES_SYNCHRONOUS
    ES_SYNCHRONOUS = args.es_synchronous
    if args.verify_url:
        verify_peak_rss(args.verify_url)
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="pingyi-bench-") as tmp:
        for kind in args.engines.split(","):
            results.append(run_engine(kind, args.events, args.single, args.batch, Path(tmp), args.threads))
        mem = million(Path(tmp), args.batch) if args.million else []
    print()
    print(f"events/s; batched = {args.batch} events per transaction over {args.events} events; single = 1 per transaction over {args.single}")
    print(f"SQLite: both WAL; pingyi synchronous=NORMAL (power loss may drop the last commits), eventsourcing synchronous={ES_SYNCHRONOUS}{' (as shipped: fsync per commit)' if ES_SYNCHRONOUS == 'FULL' else ''}")
    print("  'same durab.' lines: eventsourcing forced to synchronous=NORMAL like ours. PostgreSQL: both synchronous_commit=on")
    print(f"{'engine':<11}{'':<18}{'pingyi':>10}{'eventsourcing':>15}{'ratio':>8}")
    for r in results:
        for label, ours, theirs in (("append batched", "ours_batched", "es_batched"), ("append single", "ours_single", "es_single"), (f"append {args.threads} thr", "ours_concurrent", "es_concurrent"), ("verify / read", "ours_verify", "es_read")):
            if ours not in r:
                continue
            print(f"{r['engine']:<11}{label:<18}{r[ours]:>10,.0f}{r[theirs]:>15,.0f}{r[ours] / r[theirs]:>7.2f}x")
            eqk = theirs.replace("es_", "eq_")
            if eqk in r:
                print(f"{'':<11}{'  same durab.':<18}{'':>10}{r[eqk]:>15,.0f}{r[ours] / r[eqk]:>7.2f}x")
            floor = ours.replace("ours_", "floor_")
            if floor in r:
                print(f"{'':<11}{'  db floor':<18}{r[floor]:>10,.0f}{r[theirs]:>15,.0f}{r[floor] / r[theirs]:>7.2f}x  (prebuilt rows, driver only; pingyi at {r[ours] / r[floor]:.0%} of it)")
        print(f"{r['engine']:<11}{'plain read_all':<18}{r['ours_read']:>10,.0f}{'':>15}{r['ours_read'] / r['es_read']:>7.2f}x")
        print(f"{r['engine']:<11}{'checkpoint':<18}{r['checkpoint_s']:>9.2f}s  (sign the whole log once, {r['verify_events']} events)")
    for m in mem:
        print(f"verify {m['events']:>9,} events (SQLite): {m['events'] / m['seconds']:,.0f} events/s, peak RSS {m['peak_rss_mib']:.0f} MiB (hash worker {m.get('worker_rss_mib', 0):.0f} MiB), ok={m['ok']}")


if __name__ == "__main__":
    main()
