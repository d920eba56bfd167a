"""``reviewctl audit verify``: recompute the log's integrity from its rows and
name the first position where it breaks, and how.

Streaming passes over one snapshot, each with bounded memory:

1. **global order** (by position): positions 1..head without gaps (a gap is a
   deleted event or stream); each row's hash recomputed from its columns
   (edited); nothing beyond the head the service handed out (inserted); the
   RFC 6962 root at every signed checkpoint and its Ed25519 signature (a
   rewritten-and-rehashed history, or a cut tail).
2. **stream order**: versions 1..n without gaps, each ``prev_hash`` equal to
   the previous event's hash, positions rising with versions (reordered).
   Checked during pass 1 with each open stream's last (version, hash): an
   event that is exactly its stream's next one in position order is exactly
   what the stream-order scan would accept. Only when some event is not (a
   tampered log), or more than ``STREAM_CAP`` streams are open, does a second
   scan in (stream_id, version) order, no hashing, name the defects.

Rows whose hash fails are kept (a bounded number) to tell an edit from a move:
two rows that each carry the hash of the other's position were swapped.

The checkpoints checked in pass 1 are the database's rows together with the
witnessed copies kept outside it (storage.witness) and a size and root an
auditor gives by hand: deleting or re-signing checkpoint rows no longer hides
an edit or a cut tail. A log whose unsigned tail is older than the
checkpointer's interval allows (none at all, or none after some point) is a
defect too: checkpoints that should exist do not.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import subprocess
import sys
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from storage import scan
from storage.canonical import GENESIS_HASH, RAW_COLUMNS, SQLITE_HASH_INPUT, raw_hash
from storage.checkpoints import Checkpoint, all_checkpoints
from storage.merkle import CompactRange
from storage.schema import events as events_t
from storage.schema import log_head
from storage.signing import Verifier
from storage.witness import Witnessed

DefectKind = Literal["edited", "deleted", "inserted", "reordered", "checkpoint"]
KEEP_DEFECTS = 200
PAIRING_LIMIT = 200


class Defect(BaseModel):
    position: int  # the first position this defect concerns
    kind: DefectKind
    stream_id: str | None = None
    version: int | None = None
    detail: str

    def line(self) -> str:
        # a whole stream's defect (verify_stream of a stream with no event) has no version
        where = f" ({self.stream_id}{f' v{self.version}' if self.version is not None else ''})" if self.stream_id else ""
        return f"position {self.position}{where}: {self.kind}: {self.detail}"


class VerifyReport(BaseModel):
    scope: str
    events: int = 0
    streams: int = 0
    last_position: int = 0
    head_position: int = 0
    checkpoints_verified: int = 0
    witnessed_size: int | None = None  # the newest witnessed checkpoint's size, when a witness was read
    notes: list[str] = Field(default_factory=list, description="what the verify could not check, and why")
    defects_total: int = 0
    defects: list[Defect] = Field(default_factory=list, description=f"the {KEEP_DEFECTS} earliest, by position")

    @property
    def ok(self) -> bool:
        return self.defects_total == 0

    @property
    def first_bad(self) -> Defect | None:
        return self.defects[0] if self.defects else None


class _Defects:
    """Keeps the earliest defects by position, counts all."""

    def __init__(self) -> None:
        self.total = 0
        self._heap: list[tuple[int, int, Defect]] = []  # max-heap on position via negation

    def add(self, d: Defect) -> None:
        self.total += 1
        item = (-d.position, -self.total, d)
        if len(self._heap) < KEEP_DEFECTS:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def sorted(self) -> list[Defect]:
        return [d for _, _, d in sorted(self._heap, key=lambda t: (-t[0], -t[1]))]


def _classify_hash_failures(failed: dict[int, tuple], beyond_head: int, defects: _Defects) -> None:
    """Swapped rows carry a hash valid at each other's position; the rest were edited."""
    moved: set[int] = set()
    positions = sorted(failed)
    if len(positions) <= PAIRING_LIMIT:
        for i, p in enumerate(positions):
            if p in moved:
                continue
            for q in positions[i + 1 :]:
                if q in moved:
                    continue
                a, b = failed[p], failed[q]
                if raw_hash(a, position=q) == a[13] and raw_hash(b, position=p) == b[13]:
                    moved.update((p, q))
                    defects.add(Defect(position=p, kind="reordered", stream_id=a[1], version=a[2], detail=f"swapped with position {q} ({b[1]} v{b[2]}): each event carries the hash of the other's slot"))
                    break
    for p in positions:
        if p in moved or not 0 < p <= beyond_head:  # outside 1..head: reported as inserted
            continue
        r = failed[p]
        defects.add(Defect(position=p, kind="edited", stream_id=r[1], version=r[2], detail="the stored columns do not match the event's hash (content, actor, time or chain link changed)"))


@dataclass
class _Mark:
    """A size and root the log must reproduce: a checkpoint (from the
    database, the witness or both) or a root given by hand (unsigned)."""

    tree_size: int
    root_hash: str
    source: str  # "database", "witness", "database and witness", "given by hand"
    checkpoint: Checkpoint | None = None

    def label(self) -> str:
        if self.checkpoint is None:
            return f"the root given by hand for size {self.tree_size}"
        where = {"database": "", "witness": "witnessed "}.get(self.source, "")
        return f"the {where}checkpoint at size {self.tree_size} (signed {self.checkpoint.signed_at:%Y-%m-%d %H:%M:%S})"


def _marks(db: list[Checkpoint], witnessed: Witnessed | None, expected: tuple[int, str] | None, defects: "_Defects") -> list[_Mark]:
    """The database's checkpoints, the witnessed ones (a witnessed checkpoint
    the database lost is itself a finding) and the expectation, by size."""
    marks = [_Mark(cp.tree_size, cp.root_hash, "database", cp) for cp in db]
    if witnessed is not None:
        in_db = {(cp.tree_size, cp.root_hash, cp.signature): m for cp, m in zip(db, marks)}
        db_sizes = {cp.tree_size for cp in db}
        for cp in witnessed.checkpoints:
            same = in_db.get((cp.tree_size, cp.root_hash, cp.signature))
            if same is not None:
                same.source = "database and witness"
                continue
            marks.append(_Mark(cp.tree_size, cp.root_hash, "witness", cp))
            what = "a different checkpoint" if cp.tree_size in db_sizes else "no checkpoint"
            defects.add(Defect(position=cp.tree_size, kind="checkpoint", detail=f"the witness {witnessed.path} holds a checkpoint at size {cp.tree_size} (signed {cp.signed_at:%Y-%m-%d %H:%M:%S}); the database has {what} at that size: checkpoint rows were deleted or replaced"))
        for line in witnessed.bad_lines:
            defects.add(Defect(position=0, kind="checkpoint", detail=f"line {line} of the witness {witnessed.path} is not a checkpoint: the witness file was edited"))
    if expected is not None:
        marks.append(_Mark(expected[0], expected[1].lower(), "given by hand"))
    return sorted(marks, key=lambda m: m.tree_size)


def _check_checkpoint(cp: _Mark, cr: CompactRange, trusted: Verifier, last_good: int, failures: list[tuple[int, int, str]]) -> bool:
    """A failed checkpoint only bounds where the change lies; it is placed at
    the first specific defect in that range once all are known (:func:`_place`)."""
    signed = cp.checkpoint
    if signed is not None and not signed.signature_valid(trusted):
        why = f"signed by another key ({signed.key_id[:16]}…, not the trusted {trusted.key_id[:16]}…)" if signed.key_id != trusted.key_id else "bad signature"
        failures.append((last_good + 1, cp.tree_size, f"{cp.label()}: {why}"))
        return False
    if cr.size != cp.tree_size or cr.root() != cp.root_hash:
        if last_good >= cp.tree_size:  # a checkpoint of this very size verified: this mark is what is wrong, not the log
            failures.append((cp.tree_size, cp.tree_size, f"the first {cp.tree_size} events hash to root {cr.root()[:16]}…, as the checkpoint verified at size {last_good} signed, "
                                                         f"not to {cp.root_hash[:16]}… of {cp.label()}: that root is not this log's"))
            return False
        failures.append(
            (last_good + 1, cp.tree_size, f"the first {cp.tree_size} events hash to root {cr.root()[:16]}…, not {cp.root_hash[:16]}… of {cp.label()}: something in positions {last_good + 1}..{cp.tree_size} was changed")
        )
        return False
    return True


def _place(failures: list[tuple[int, int, str]], defects: _Defects) -> None:
    known = defects.sorted()
    for lo, hi, detail in failures:
        inside = [d.position for d in known if lo <= d.position <= hi and d.kind != "checkpoint"]  # a specific defect, not another checkpoint finding
        defects.add(Defect(position=inside[0] if inside else lo, kind="checkpoint", detail=detail))


def verify_log(
    engine: Engine,
    trusted: Verifier,
    *,
    witnessed: Witnessed | None = None,
    expected: tuple[int, str] | None = None,
    max_unsigned_age: timedelta | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """``witnessed``: the checkpoints kept outside the database; ``expected``:
    a (size, root) an auditor noted earlier; ``max_unsigned_age``: how old
    the oldest event no checkpoint covers may be (the checkpointer's interval
    with slack) before missing checkpoints are a defect."""
    report = VerifyReport(scope="log")
    defects = _Defects()
    with scan.snapshot(engine) as conn:
        head = conn.execute(select(log_head.c.position).where(log_head.c.id == 1)).scalar_one()
        report.head_position = head
        in_db = all_checkpoints(conn)
        cps = _marks(in_db, witnessed, expected, defects)
        if witnessed is not None:
            report.witnessed_size = witnessed.newest.tree_size if witnessed.newest else 0
            if in_db and report.witnessed_size < in_db[-1].tree_size:
                report.notes.append(f"the database has checkpoints up to size {in_db[-1].tree_size}, the witness {witnessed.path} only up to {report.witnessed_size}: the later ones were checked against the database alone")
        cp_failures: list[tuple[int, int, str]] = []
        cp_i = 0
        last_good_cp = 0
        cr = CompactRange()
        suspects: list[int] = []  # SQLite: rows whose SQL-built input did not hash to their hash
        failed: dict[int, tuple] = {}
        beyond: list[int] = []  # positions the service never handed out: past the head, or below 1
        expected = 1
        count = 0
        sha256 = hashlib.sha256
        sqlite = conn.dialect.name == "sqlite"
        worker = None
        if sqlite:
            worker = _start_hash_worker(conn)
        if worker is not None:
            # the hashes are recomputed by the worker process; this pass keeps
            # order, Merkle and links, and folds what it read to compare
            sql = "SELECT position, hash, stream_id, version, prev_hash FROM events WHERE position <= ? ORDER BY position"
            params: tuple = (worker.last,)
            hi, si, vi, pi = 1, 2, 3, 4
            seen_pos, seen_hash = hashlib.sha256(), hashlib.sha256()
        elif sqlite:
            # the database assembles each row's hash input (see SQLITE_HASH_INPUT)
            sql = f"SELECT position, {SQLITE_HASH_INPUT}, hash, stream_id, version, prev_hash FROM events ORDER BY position"
            params = ()
            hi, si, vi, pi = 2, 3, 4, 5
        else:
            params = ()
            sql = f"SELECT {RAW_COLUMNS} FROM events ORDER BY position"
            hi, si, vi, pi = 13, 1, 2, 12
        next_cp = cps[0].tree_size if cps else _NEVER
        extend = cr.extend_digests
        fromhex = bytes.fromhex
        # stream links checked in this same pass: each stream's last (version,
        # hash). Any irregularity, or more open streams than STREAM_CAP (memory
        # stays bounded), sends the exact check to its own stream-order scan
        last: dict | None = {}
        links_ok = True
        for chunk in scan.chunks(conn, sql, params):
            if worker is not None:
                seen_pos.update(array("q", [r[0] for r in chunk]).tobytes())
                seen_hash.update("".join([r[1] for r in chunk]).encode())
            leaves = []
            push = leaves.append
            for row in chunk:
                pos = row[0]
                h = row[hi]
                if pos > next_cp:
                    extend(leaves)
                    leaves = []
                    push = leaves.append
                    while cp_i < len(cps) and cps[cp_i].tree_size < pos:
                        if _check_checkpoint(cps[cp_i], cr, trusted, last_good_cp, cp_failures):
                            report.checkpoints_verified += 1
                            last_good_cp = cps[cp_i].tree_size
                        cp_i += 1
                    next_cp = cps[cp_i].tree_size if cp_i < len(cps) else _NEVER
                if pos != expected:
                    # the service hands out positions from 1: rows below it are inserted (below), not gaps
                    lo = expected if expected > 0 else 1
                    n = pos - lo
                    if n > 0:
                        defects.add(Defect(position=lo, kind="deleted", detail=f"position{'s' if n > 1 else ''} {lo}{'..' + str(pos - 1) if n > 1 else ''} missing: {n} event{'s' if n > 1 else ''} deleted"))
                if worker is not None:
                    push(fromhex(h))
                elif sqlite:
                    d = sha256(row[1]).digest() if row[1] is not None else b""
                    if d.hex() == h:
                        push(d)
                    else:
                        push(fromhex(h))
                        if len(suspects) < KEEP_DEFECTS * 10:
                            suspects.append(pos)  # re-checked by the definition below
                else:
                    push(fromhex(h))
                    if raw_hash(row) != h and len(failed) < KEEP_DEFECTS * 10:
                        failed[pos] = tuple(row)
                if not 0 < pos <= head:
                    beyond.append(pos)
                if links_ok:
                    sid = row[si]
                    st = last.get(sid)
                    if st is None:
                        links_ok = row[vi] == 1 and row[pi] == GENESIS_HASH
                    else:
                        links_ok = row[vi] == st[0] + 1 and row[pi] == st[1]
                    last[sid] = (row[vi], h)
                    if len(last) > STREAM_CAP:
                        links_ok = False
                    if not links_ok:
                        last = None
                expected = pos + 1
            extend(leaves)
            count += len(chunk)
        last_pos = expected - 1
        if worker is not None:
            suspects = worker.suspects(conn, seen_pos.digest(), seen_hash.digest())
        if sqlite and (suspects or beyond):
            full_row = _row_at(conn)
            for pos in suspects:
                row = full_row(pos)
                if raw_hash(row) != row[13]:
                    failed[pos] = row
            beyond_rows = {pos: full_row(pos) for pos in beyond}
        else:
            # PostgreSQL keeps no row of the pass: fetch the few never handed
            # out, to name their stream (a correctly hashed one is in no other list)
            beyond_rows = {pos: next(iter(list(scan.rows(conn, where="position = {p}", params=(pos,)))), None) for pos in beyond}
        for pos in beyond:
            row = beyond_rows.get(pos) or failed.get(pos)
            defects.add(Defect(position=pos, kind="inserted", stream_id=row[1] if row else None, version=row[2] if row else None, detail=f"position {pos} was never handed out by the service (its last is {head})"))
        while cp_i < len(cps) and cps[cp_i].tree_size <= last_pos:
            if _check_checkpoint(cps[cp_i], cr, trusted, last_good_cp, cp_failures):
                report.checkpoints_verified += 1
                last_good_cp = cps[cp_i].tree_size
            cp_i += 1
        if last_pos < head:
            defects.add(Defect(position=last_pos + 1, kind="deleted", detail=f"the log ends at position {last_pos} but the service handed out up to {head}: the tail was deleted"))
        elif cp_i < len(cps):
            cp = cps[-1]
            defects.add(Defect(position=last_pos + 1, kind="deleted", detail=f"the log ends at position {last_pos} and {cp.label()} {'signed' if cp.checkpoint else 'expects'} {cp.tree_size} events: the tail was deleted"))
        if max_unsigned_age is not None:
            _unsigned_tail(conn, cps, last_pos, max_unsigned_age, now or datetime.now(timezone.utc), defects, witness_read=witnessed is not None)
        _classify_hash_failures(failed, head, defects)
        report.events, report.last_position = count, last_pos
        if links_ok:
            # every event followed its stream's previous one (version + 1, its
            # hash as prev_hash) in position order: exactly what the stream-order
            # scan would find, so it has nothing to report
            report.streams = len(last)
        else:
            report.streams = _check_stream_links(conn, defects)
        _place(cp_failures, defects)
    report.defects_total, report.defects = defects.total, defects.sorted()
    return report


def _unsigned_tail(conn, cps: list[_Mark], last_pos: int, max_age: timedelta, now: datetime, defects: _Defects, *, witness_read: bool = False) -> None:
    """The checkpointer signs every interval: an event no checkpoint covers
    that is older than ``max_age`` means checkpoints are missing. With no
    checkpoint at all, the finding says whether a witness was read too (it
    then held none either: any it held would be signed)."""
    signed = max((m.tree_size for m in cps if m.checkpoint is not None), default=0)
    if last_pos <= signed:
        return
    first = conn.execute(select(events_t.c.position, events_t.c.recorded_at).where(events_t.c.position > signed).order_by(events_t.c.position).limit(1)).first()
    if first is None:
        return
    at = first.recorded_at if first.recorded_at.tzinfo else first.recorded_at.replace(tzinfo=timezone.utc)
    age = now - at
    if age <= max_age:
        return
    what = f"no checkpoint exists (none in the database{', none witnessed' if witness_read else ''})" if signed == 0 else f"the newest checkpoint covers only {signed} events"
    defects.add(
        Defect(
            position=first.position,
            kind="checkpoint",
            detail=f"positions {first.position}..{last_pos} were recorded from {at:%Y-%m-%d %H:%M:%S} UTC on, {age.total_seconds() / 60:.0f} min ago, longer than checkpoints may lag ({max_age.total_seconds() / 60:.0f} min), "
            f"but {what}: checkpoints were deleted, or no checkpointer has run",
        )
    )


# ---- SQLite: the hash recomputation in a second process ------------------------

PARALLEL_MIN = 100_000
"""Logs at least this long are verified by two processes on SQLite (when the
machine has two CPUs): a worker recomputes every event's hash from the
SQL-built input (SHA-256 and the ``json_array`` that builds its input are over
half the per-row cost) while this process checks order, links and the Merkle
roots. A smaller log is not worth a process start (~30 ms)."""

_HASH_PASS = r"""
import hashlib, sqlite3
from array import array

def hash_pass(cur, sql, last, keep):
    # rows whose SQL-built input does not hash to their stored hash, the first
    # ``keep`` of them by position; and digests of the positions and the stored
    # hashes read, to prove both processes read the same rows
    sha256 = hashlib.sha256
    suspects = []
    seen_pos, seen_hash = sha256(), sha256()
    cur.execute(sql, (last,))
    while chunk := cur.fetchmany(5000):
        seen_pos.update(array("q", [r[0] for r in chunk]).tobytes())
        seen_hash.update("".join([r[2] for r in chunk]).encode())
        for pos, data, h in chunk:
            if (sha256(data).digest() if data is not None else b"").hex() != h and len(suspects) < keep:
                suspects.append(pos)
    return suspects, seen_pos.hexdigest(), seen_hash.hexdigest()
"""
_WORKER_MAIN = r"""
import json, sys
path, sql, last, keep = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
conn = sqlite3.connect(path, isolation_level=None)
try:
    conn.execute("BEGIN")
    print(json.dumps(hash_pass(conn.cursor(), sql, last, keep)))
finally:
    conn.close()
"""
_ns: dict = {}
exec(_HASH_PASS, _ns)
_hash_pass = _ns["hash_pass"]
_HASH_SQL = f"SELECT position, {SQLITE_HASH_INPUT}, hash FROM events WHERE position <= ? ORDER BY position"


class _HashWorker:
    """The worker process over the positions up to ``last`` (this snapshot's
    last row). It reads its own snapshot; if that is not the same rows (the
    digests of positions and stored hashes differ), or it fails, the pass is
    redone here on this snapshot."""

    def __init__(self, proc: subprocess.Popen, last: int) -> None:
        self.proc, self.last = proc, last

    def suspects(self, conn, seen_pos: bytes, seen_hash: bytes) -> list[int]:
        out, _ = self.proc.communicate()
        try:
            found, pos_digest, hash_digest = json.loads(out) if self.proc.returncode == 0 else (None, "", "")
        except ValueError:
            found, pos_digest, hash_digest = None, "", ""
        if found is not None and pos_digest == seen_pos.hex() and hash_digest == seen_hash.hex():
            return found
        cur = conn.connection.driver_connection.cursor()
        try:
            return _hash_pass(cur, _HASH_SQL, self.last, KEEP_DEFECTS * 10)[0]
        finally:
            cur.close()


def _start_hash_worker(conn) -> _HashWorker | None:
    path = conn.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:") or (os.cpu_count() or 1) < 2:
        return None
    last = conn.exec_driver_sql("SELECT max(position) FROM events").scalar()
    if not last or last < PARALLEL_MIN:
        return None
    try:
        # a fresh interpreter on the standard library only: no SQLite
        # connection crosses a fork, and it starts in ~30 ms
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _HASH_PASS + _WORKER_MAIN, os.path.abspath(path), _HASH_SQL, str(last), str(KEEP_DEFECTS * 10)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError:
        return None
    return _HashWorker(proc, last)


STREAM_CAP = 200_000
"""Open streams tracked by the single-pass link check (~200 bytes each);
beyond it the verifier falls back to the stream-order scan."""


_NEVER = float("inf")


def _row_at(conn):
    """The raw row at a position (SQLite: position is the rowid)."""
    cur = conn.connection.driver_connection.cursor()

    def fetch(pos: int) -> tuple:
        return cur.execute(f"SELECT {RAW_COLUMNS} FROM events WHERE position = ?", (pos,)).fetchone()

    return fetch


def _check_stream_links(conn, defects: _Defects, where: str = "", params: tuple = ()) -> int:
    """Each stream's versions 1..n without gaps, each ``prev_hash`` equal to the
    previous event's hash, positions rising with versions: one scan in
    (stream_id, version) order, no hashing."""
    cond = where.replace("{p}", "?" if conn.dialect.name == "sqlite" else "%s")
    sql = f"SELECT stream_id, version, position, prev_hash, hash FROM events {('WHERE ' + cond) if cond else ''} ORDER BY stream_id, version"
    streams = 0
    cur = None
    expect_version = 1
    last_hash = GENESIS_HASH
    last_pos = None  # the position of the stream's previous event; a stream's first has none
    for chunk in scan.chunks(conn, sql, params):
        for sid, version, pos, prev, h in chunk:
            if sid != cur:
                cur, expect_version, last_hash, last_pos = sid, 1, GENESIS_HASH, None
                streams += 1
            if version != expect_version:
                gone = f"v{expect_version}" + (f"..v{version - 1}" if version - 1 > expect_version else "")
                defects.add(Defect(position=pos, kind="deleted", stream_id=sid, version=version, detail=f"{gone} of the stream missing before this event"))
            elif prev != last_hash:
                what = f"v{version - 1}'s hash" if version > 1 else "the genesis hash"
                defects.add(Defect(position=pos, kind="edited", stream_id=sid, version=version, detail=f"prev_hash does not match {what}: the earlier event was rewritten, or this one forged"))
            if last_pos is not None and pos < last_pos:
                defects.add(Defect(position=pos, kind="reordered", stream_id=sid, version=version, detail=f"v{version} sits at position {pos}, before v{expect_version - 1} at {last_pos}"))  # the stream's previous event (v{version - 1} may be deleted)
            expect_version, last_hash, last_pos = version + 1, h, pos
    return streams


def verify_stream(engine: Engine, stream_id: str) -> VerifyReport:
    """One stream's own chain. The global checks (gaps, checkpoints) need the
    whole log: run :func:`verify_log` for those."""
    report = VerifyReport(scope=f"stream {stream_id}")
    defects = _Defects()
    with scan.snapshot(engine) as conn:
        head = conn.execute(select(log_head.c.position).where(log_head.c.id == 1)).scalar_one()
        report.head_position = head
        failed: dict[int, tuple] = {}
        count = 0
        for row in scan.rows(conn, where="stream_id = {p}", params=(stream_id,), order="version"):
            count += 1
            report.last_position = max(report.last_position, row[0])
            if not 0 < row[0] <= head:
                defects.add(Defect(position=row[0], kind="inserted", stream_id=row[1], version=row[2], detail=f"position {row[0]} was never handed out by the service (its last is {head})"))
            if raw_hash(row) != row[13]:
                failed[row[0]] = tuple(row)
        _classify_hash_failures(failed, head, defects)
        report.events = count
        report.streams = _check_stream_links(conn, defects, where="stream_id = {p}", params=(stream_id,))
        if count == 0:
            defects.add(Defect(position=0, kind="deleted", stream_id=stream_id, detail="the log holds no event of this stream"))
    report.defects_total, report.defects = defects.total, defects.sorted()
    return report
